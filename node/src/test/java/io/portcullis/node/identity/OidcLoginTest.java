package io.portcullis.node.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.node.testing.TestTls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Clients log in with a token from a real OIDC provider running in the test (discovery, JWKS and
 * token endpoints), over TLS, with pgjdbc and psql.
 */
class OidcLoginTest {

  private static MockOAuth2Server provider;
  private static GatewayNode gateway;

  @BeforeAll
  static void start() throws Exception {
    provider = new MockOAuth2Server();
    provider.start();
    try (Connection c = TestPostgres.direct()) {
      c.createStatement()
          .execute(
              "DO $$ BEGIN"
                  + " IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'portcullis_analyst')"
                  + " THEN CREATE ROLE portcullis_analyst LOGIN; END IF;"
                  + " IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agent_alice')"
                  + " THEN CREATE ROLE agent_alice NOLOGIN; END IF; END $$");
    }
    TestPostgres.Server pg = TestPostgres.server();
    String target =
        "{ host = \"%s\", port = %d, database = \"%s\", user = \"%s\" %s }"
            .formatted(pg.host(), pg.port(), TestPostgres.DATABASE, pg.user(), "%s");
    gateway =
        TestGateway.start(
            String.join(
                "\n",
                TestTls.listenerConfig(),
                "portcullis.client-authentication { mode = oidc, oidc.issuers = [{ issuer = \""
                    + provider.issuerUrl("bank")
                    + "\" }] }",
                "portcullis.targets.by-group = "
                    + target.formatted(
                        ", group-logins = [{ group = auditors, user = nobody },"
                            + " { group = analysts, user = portcullis_analyst }]"),
                "portcullis.targets.per-identity = "
                    + target.formatted(", set-role = \"agent_{user}\"")));
  }

  @AfterAll
  static void stop() {
    gateway.close();
    provider.shutdown();
  }

  private static String token(String user, List<String> audience, long lifetimeSeconds) {
    return provider
        .issueToken(
            "bank",
            "agent-client",
            new DefaultOAuth2TokenCallback(
                "bank",
                user,
                "JWT",
                audience,
                Map.of("preferred_username", user, "groups", List.of("analysts")),
                lifetimeSeconds))
        .serialize();
  }

  private static Connection connect(String user, String password, String sslmode)
      throws SQLException {
    return connect("main", user, password, sslmode);
  }

  private static Connection connect(String target, String user, String password, String sslmode)
      throws SQLException {
    String url =
        "jdbc:postgresql://localhost:"
            + gateway.port()
            + "/"
            + target
            + "?sslmode="
            + sslmode
            + "&sslrootcert="
            + TestTls.file("ca.pem");
    return DriverManager.getConnection(url, user, password);
  }

  @Test
  void aValidTokenOverTlsOpensASession() throws Exception {
    try (Connection c =
            connect("alice", token("alice", List.of("portcullis"), 600), "verify-full");
        ResultSet rs = c.createStatement().executeQuery("SELECT 'hello ' || 'alice'")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("hello alice");
    }
  }

  @Test
  void psqlPassesTheTokenAsPGPASSWORD(@TempDir Path dir) throws Exception {
    Path output = dir.resolve("psql.out");
    ProcessBuilder psql =
        new ProcessBuilder(
            "psql",
            "-X",
            "-A",
            "-t",
            "-h",
            "127.0.0.1",
            "-p",
            Integer.toString(gateway.port()),
            "-U",
            "alice",
            "-d",
            "main",
            "-c",
            "SELECT 'psql with a token'");
    psql.environment().put("PGPASSWORD", token("alice", List.of("portcullis"), 600));
    psql.environment().put("PGSSLMODE", "verify-full");
    psql.environment().put("PGSSLROOTCERT", TestTls.file("ca.pem").toString());
    psql.environment().put("PGCONNECT_TIMEOUT", "10");
    Process process = psql.redirectErrorStream(true).redirectOutput(output.toFile()).start();
    boolean finished = process.waitFor(30, TimeUnit.SECONDS);
    process.destroyForcibly();
    String printed = Files.readString(output, StandardCharsets.UTF_8);
    assertThat(finished).as("psql finished; it printed: %s", printed).isTrue();
    assertThat(printed).contains("psql with a token");
    assertThat(process.exitValue()).isZero();
  }

  @Test
  void groupsChooseTheUpstreamLoginAndSetRoleAppliesPerIdentity() throws Exception {
    String token = token("alice", List.of("portcullis"), 600);
    try (Connection c = connect("by-group", "alice", token, "require");
        ResultSet rs = c.createStatement().executeQuery("SELECT session_user, current_user")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("portcullis_analyst");
    }
    try (Connection c = connect("per-identity", "alice", token, "require");
        ResultSet rs = c.createStatement().executeQuery("SELECT current_user")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("agent_alice");
    }
    // bob has no agent_bob role: the upstream refuses SET ROLE and bob gets no session at all.
    assertThatThrownBy(
            () ->
                connect("per-identity", "bob", token("bob", List.of("portcullis"), 600), "require"))
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08001"));
  }

  @Test
  void aSessionEndsWhenItsTokenExpires() throws Exception {
    try (Connection c = connect("alice", token("alice", List.of("portcullis"), 3), "require")) {
      try (ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
        assertThat(rs.next()).isTrue();
      }
      TimeUnit.MILLISECONDS.sleep(4500);
      assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT 1"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("credential expired");
    }
  }

  @Test
  void everyLoginIsRecordedWithoutItsToken() throws Exception {
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    Logger logger = (Logger) LoggerFactory.getLogger("io.portcullis.audit.login");
    logger.addAppender(events);
    try {
      String good = token("alice", List.of("portcullis"), 600);
      connect("alice", good, "require").close();
      String wrongAudience = token("alice", List.of("payments-api"), 600);
      assertThatThrownBy(() -> connect("alice", wrongAudience, "require"));
      List<String> lines = events.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
      assertThat(lines).hasSize(2);
      assertThat(lines.get(0))
          .contains(
              "\"outcome\":\"succeeded\"",
              "\"user\":\"alice\"",
              "\"groups\":[\"analysts\"]",
              "\"credential\":\"jti:")
          .doesNotContain(good);
      assertThat(lines.get(1))
          .contains(
              "\"outcome\":\"failed\"", "\"sqlState\":\"28P01\"", "not meant for this gateway")
          .doesNotContain(wrongAudience);
    } finally {
      logger.detachAppender(events);
    }
  }

  @Test
  void withoutTlsNoTokenIsEvenAskedFor() {
    assertThatThrownBy(
            () -> connect("alice", token("alice", List.of("portcullis"), 600), "disable"))
        .isInstanceOf(SQLException.class)
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"))
        .hasMessageContaining("TLS required");
  }

  @Test
  void anExpiredTokenIsRefused() {
    assertThatThrownBy(
            () -> connect("alice", token("alice", List.of("portcullis"), -600), "require"))
        .isInstanceOf(SQLException.class)
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"))
        .hasMessageContaining("expired");
  }

  @Test
  void aTokenForAnotherAudienceIsRefused() {
    assertThatThrownBy(
            () -> connect("alice", token("alice", List.of("payments-api"), 600), "require"))
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"))
        .hasMessageContaining("not meant for this gateway");
  }

  @Test
  void aTokenForAnotherUserIsRefused() {
    assertThatThrownBy(() -> connect("bob", token("alice", List.of("portcullis"), 600), "require"))
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"))
        .hasMessageContaining("\"bob\"");
  }

  @Test
  void aTwoMegabyteTokenIsRefusedAsACredential() {
    String huge = token("alice", List.of("portcullis"), 600) + "A".repeat(2 * 1024 * 1024);
    assertThatThrownBy(() -> connect("alice", huge, "require"))
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"))
        .hasMessageContaining("larger than any token");
  }

  @Test
  void aPlainPasswordIsNotAToken() {
    assertThatThrownBy(() -> connect("alice", "hunter2", "require"))
        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"))
        .hasMessageContaining("not a JWT")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
  }
}
