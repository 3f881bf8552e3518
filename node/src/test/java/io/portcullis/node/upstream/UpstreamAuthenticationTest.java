package io.portcullis.node.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestTls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The gateway logs in to real upstreams with each method PostgreSQL offers. Uses the second test
 * cluster that bin/setup-test-postgres prepares on 127.0.0.1:5433, whose pg_hba.conf gives each
 * role its own method.
 */
class UpstreamAuthenticationTest {

  private static final int AUTH_CLUSTER_PORT = 5433;
  private static GatewayNode gateway;

  @BeforeAll
  static void start() throws Exception {
    try (Socket probe = new Socket()) {
      probe.connect(new InetSocketAddress("127.0.0.1", AUTH_CLUSTER_PORT), 2000);
    } catch (IOException e) {
      throw new IllegalStateException(
          "the upstream authentication cluster is not running on 127.0.0.1:5433;"
              + " run bin/setup-test-postgres (bin/test does)",
          e);
    }
    Path passwordFile = Files.createTempFile("scram", ".password");
    Files.writeString(passwordFile, "scram-secret\nignored second line\n");
    String target =
        "{ host = \"%s\", port = " + AUTH_CLUSTER_PORT + ", database = postgres, user = %s %s }";
    gateway =
        TestGateway.start(
            String.join(
                "\n",
                "portcullis.targets.cleartext = "
                    + target.formatted("127.0.0.1", "clear_user", ", password = clear-secret"),
                "portcullis.targets.md5 = "
                    + target.formatted("127.0.0.1", "md5_user", ", password = md5-secret"),
                "portcullis.targets.scram = "
                    + target.formatted(
                        "127.0.0.1", "scram_user", ", password-file = \"" + passwordFile + "\""),
                "portcullis.targets.tls-require = "
                    + target.formatted(
                        "127.0.0.1", "tls_user", ", password = tls-secret, tls.mode = require"),
                "portcullis.targets.tls-verify = "
                    + target.formatted(
                        "localhost",
                        "tls_user",
                        ", password = tls-secret, tls { mode = verify-full, ca-file = \""
                            + TestTls.file("ca.pem")
                            + "\" }"),
                "portcullis.targets.tls-wrong-host = "
                    + target.formatted(
                        "127.0.0.2",
                        "tls_user",
                        ", password = tls-secret, tls { mode = verify-full, ca-file = \""
                            + TestTls.file("ca.pem")
                            + "\" }"),
                "portcullis.targets.tls-missing = "
                    + target.formatted("127.0.0.1", "tls_user", ", password = tls-secret"),
                "portcullis.targets.wrong-password = "
                    + target.formatted("127.0.0.1", "scram_user", ", password = not-the-password"),
                "portcullis.targets.no-password = "
                    + target.formatted("127.0.0.1", "scram_user", ""),
                "portcullis.targets.unreachable = { host = 127.0.0.1, port = 1, database = postgres, user = x, connect-timeout = 2s }"));
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  private static Connection connect(String target) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + gateway.port() + "/" + target, "alice", "");
  }

  @ParameterizedTest
  @ValueSource(strings = {"cleartext", "md5", "scram", "tls-require", "tls-verify"})
  void logsInWithEachMethod(String target) throws Exception {
    try (Connection c = connect(target);
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT current_user, coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)")) {
      rs.next();
      assertThat(rs.getString(1)).endsWith("_user");
      assertThat(rs.getBoolean(2)).isEqualTo(target.startsWith("tls"));
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"wrong-password", "no-password", "tls-missing", "tls-wrong-host", "unreachable"})
  void refusedUpstreamLoginsReachTheClientAs08001WithoutDetails(String target) {
    assertThatThrownBy(() -> connect(target))
        .isInstanceOf(SQLException.class)
        .satisfies(
            e -> {
              assertThat(((SQLException) e).getSQLState()).isEqualTo("08001");
              assertThat(e.getMessage())
                  .contains(target)
                  .doesNotContain("scram_user")
                  .doesNotContain("tls_user")
                  .doesNotContain("secret");
            });
  }

  @Test
  void aBrokenTargetDoesNotAffectTheOthers() throws Exception {
    assertThatThrownBy(() -> connect("wrong-password")).isInstanceOf(SQLException.class);
    try (Connection c = connect("scram")) {
      assertThat(c.isValid(5)).isTrue();
    }
  }
}
