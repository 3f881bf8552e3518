package io.portcullis.node.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestTls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Services log in with a client certificate from the configured CA (mutual TLS); clients without
 * one fall back to the configured mode. Exercised with pgjdbc and psql.
 */
class ClientCertificateLoginTest {

  @TempDir static Path keys;
  private static GatewayNode byCommonName;
  private static GatewayNode bySpiffeId;

  @BeforeAll
  static void start() throws Exception {
    String mtls =
        TestTls.listenerConfig()
            + "\nportcullis.listener.tls.client-ca-file = \""
            + TestTls.file("client-ca.pem")
            + "\"\nportcullis.client-authentication"
            + " { mode = password-list, passwords { alice = wonderland } }\n";
    byCommonName = TestGateway.start(mtls);
    bySpiffeId =
        TestGateway.start(mtls + "portcullis.client-authentication.certificates.user-field = uri");
  }

  @AfterAll
  static void stop() {
    byCommonName.close();
    bySpiffeId.close();
  }

  private static Connection connect(GatewayNode gateway, String user, String certificate)
      throws SQLException, IOException {
    return TestGateway.connect(
        gateway,
        user,
        "sslmode=verify-full&sslrootcert="
            + TestTls.file("ca.pem")
            + "&sslcert="
            + TestTls.file(certificate + ".pem")
            + "&sslkey="
            + privateKey(certificate + ".pk8"));
  }

  /** A copy only the owner can read: pgjdbc and libpq refuse key files others can read. */
  private static Path privateKey(String name) throws IOException {
    Path key = keys.resolve(name);
    if (Files.notExists(key)) {
      Files.copy(TestTls.file(name), key);
      Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    }
    return key;
  }

  private static String query(Connection connection, String sql) throws SQLException {
    try (ResultSet rs = connection.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void aCertificateFromTheClientCaIdentifiesTheServiceWithoutAPassword() throws Exception {
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    Logger logger = (Logger) LoggerFactory.getLogger("io.portcullis.audit.login");
    logger.addAppender(events);
    try (Connection c = connect(byCommonName, "payments-bot", "client")) {
      assertThat(query(c, "SELECT 'paid'")).isEqualTo("paid");
    } finally {
      logger.detachAppender(events);
    }
    assertThat(events.list).hasSize(1);
    assertThat(events.list.get(0).getFormattedMessage())
        .contains(
            "\"outcome\":\"succeeded\"",
            "\"user\":\"payments-bot\"",
            "\"issuer\":\"x509:CN=Portcullis test client CA,O=Portcullis tests\"",
            "\"agent\":true",
            "\"credential\":\"x509-sha256:")
        .containsPattern("\"groups\":\\[(\"payments\",\"batch\"|\"batch\",\"payments\")\\]");
  }

  @Test
  void theUserFieldCanBeASpiffeIdInTheSubjectAlternativeName() throws Exception {
    try (Connection c = connect(bySpiffeId, "spiffe://bank.example/payments-bot", "client")) {
      assertThat(query(c, "SELECT 'by uri'")).isEqualTo("by uri");
    }
    assertThatThrownBy(() -> connect(bySpiffeId, "payments-bot", "client"))
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"))
        .hasMessageContaining("its URI is spiffe://bank.example/payments-bot");
  }

  @Test
  void psqlPresentsItsCertificate(@TempDir Path dir) throws Exception {
    Path key = privateKey("client.key");
    Path output = dir.resolve("psql.out");
    Process psql =
        new ProcessBuilder(
                "psql",
                "-X",
                "-A",
                "-t",
                "-c",
                "SELECT 'psql with a certificate'",
                "host=localhost port=%d dbname=main user=payments-bot sslmode=verify-full"
                        .formatted(byCommonName.port())
                    + " sslrootcert="
                    + TestTls.file("ca.pem")
                    + " sslcert="
                    + TestTls.file("client.pem")
                    + " sslkey="
                    + key)
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    assertThat(psql.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(Files.readString(output, StandardCharsets.UTF_8))
        .isEqualTo("psql with a certificate\n");
    assertThat(psql.exitValue()).isZero();
  }

  @Test
  void aCertificateForAnotherUserIsRefusedAndNotRetriedWithAPassword() {
    assertThatThrownBy(() -> connect(byCommonName, "alice", "client"))
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"))
        .hasMessageContaining("does not identify the user name \"alice\"")
        .hasMessageContaining("its CN is payments-bot");
  }

  @Test
  void aCertificateFromAnotherCaFailsTheHandshake() throws Exception {
    assertThatThrownBy(() -> connect(byCommonName, "payments-bot", "rogue"))
        .isInstanceOf(SQLException.class)
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).startsWith("08"));
    try (Connection c = connect(byCommonName, "payments-bot", "client")) {
      assertThat(query(c, "SELECT 'still serving'")).isEqualTo("still serving");
    }
  }

  @Test
  void withoutACertificateTheConfiguredModeApplies() throws Exception {
    String tls = "sslmode=verify-full&sslrootcert=" + TestTls.file("ca.pem");
    try (Connection c = TestGateway.connect(byCommonName, "alice", tls + "&password=wonderland")) {
      assertThat(query(c, "SELECT 'by password'")).isEqualTo("by password");
    }
    assertThatThrownBy(() -> TestGateway.connect(byCommonName, "payments-bot", tls))
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isIn("28P01", "08004"));
  }
}
