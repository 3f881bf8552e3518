package io.portcullis.node.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.AdminClient;
import io.portcullis.node.testing.Cli;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.policy.identity.DevIssuer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit read side end to end: sessions of two users through the gateway, found again by `audit
 * sessions` and `audit export` (which bring the index up to date themselves, alongside the
 * gateway's own indexer) and by the admin API, which only auditors may call.
 */
class AuditQueryTest {

  private static final String JOURNAL_DB = "portcullis_query_it";
  private static final String POLICY =
      """
      default: allow
      rules:
        - id: no-secrets
          when: {tables: [audit_q.secrets]}
          decision: deny
          reason: secrets are off limits
      """;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  private static GatewayNode gateway;
  private static DevIssuer issuer;
  private static Path config;
  private static String aliceReads;
  private static String aliceDenied;
  private static String bobs;

  @BeforeAll
  static void start() throws Exception {
    TestPostgres.recreateDatabase(JOURNAL_DB);
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS audit_q CASCADE");
      s.execute(
          """
          CREATE SCHEMA audit_q;
          CREATE TABLE audit_q.accounts (id int PRIMARY KEY, owner text);
          CREATE TABLE audit_q.secrets (id int PRIMARY KEY, secret text);
          INSERT INTO audit_q.accounts VALUES (1, 'Alice'), (2, 'Bob');
          """);
    }
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, POLICY);
    Path key = dir.resolve("dev.jwk");
    TestPostgres.Server pg = TestPostgres.server();
    String journal =
        """
        portcullis.journal {
          url = "%s"
          user = "%s"
          password = "%s"
        }
        """
            .formatted(pg.jdbcUrl(JOURNAL_DB), pg.user(), pg.password());
    gateway = TestGateway.start(TestGateway.policyWithDevTokens(policy, key) + journal);
    issuer = DevIssuer.load(key);
    config = dir.resolve("gateway.conf");
    Files.writeString(config, journal);

    aliceReads = session("alice", "SELECT owner FROM audit_q.accounts");
    aliceDenied = session("alice", "SELECT secret FROM audit_q.secrets");
    bobs = session("bob", "SELECT owner FROM audit_q.accounts");
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  /** Runs one statement in a session of its own; its session's id once the session is closed. */
  private static String session(String user, String sql) throws Exception {
    List<String> before = sessionsOf(user);
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", token(user, Set.of("staff")));
    try (Connection c = DriverManager.getConnection(TestGateway.jdbcUrl(gateway, ""), props)) {
      try {
        c.createStatement().execute(sql);
      } catch (SQLException refused) {
        assertThat(refused.getMessage()).contains("secrets are off limits");
      }
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode sessions = sessionsJson("--user", user);
      for (JsonNode session : sessions) {
        if (!before.contains(session.get("session").asText())
            && !session.get("closedAt").isNull()) {
          return session.get("session").asText();
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the session of " + user + " was not indexed within 15 s");
  }

  private static String token(String user, Set<String> groups) {
    return issuer.mint(user, groups, false, Duration.ofMinutes(5), "portcullis");
  }

  private static List<String> sessionsOf(String user) throws Exception {
    List<String> ids = new ArrayList<>();
    sessionsJson("--user", user).forEach(session -> ids.add(session.get("session").asText()));
    return ids;
  }

  private static JsonNode sessionsJson(String... filters) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of("audit", "sessions", "--config", config.toString(), "--format", "json"));
    args.addAll(List.of(filters));
    Cli.Run run = Cli.portcullis(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isZero();
    return JSON.readTree(run.out()).get("sessions");
  }

  private static List<String> ids(JsonNode sessions) {
    return StreamSupport.stream(sessions.spliterator(), false)
        .map(session -> session.get("session").asText())
        .toList();
  }

  @Test
  void auditSessionsFindsExactlyTheSessionsThatMatch() throws Exception {
    String today = LocalDate.now(ZoneOffset.UTC).toString();
    assertThat(ids(sessionsJson("--user", "alice", "--since", today)))
        .containsExactly(aliceReads, aliceDenied);
    assertThat(ids(sessionsJson("--user", "alice", "--table", "audit_q.secrets")))
        .containsExactly(aliceDenied);
    assertThat(ids(sessionsJson("--user", "alice", "--table", "accounts")))
        .containsExactly(aliceReads);
    assertThat(ids(sessionsJson("--user", "alice", "--decision", "deny")))
        .containsExactly(aliceDenied);
    assertThat(ids(sessionsJson("--table", "accounts", "--since", today)))
        .containsExactly(aliceReads, bobs);
    assertThat(ids(sessionsJson("--user", "bob", "--decision", "deny"))).isEmpty();

    Cli.Run table =
        Cli.portcullis("audit", "sessions", "--config", config.toString(), "--user", "bob");
    assertThat(table.exitCode()).isZero();
    assertThat(table.out()).startsWith("SESSION").contains(bobs).doesNotContain(aliceReads);
  }

  @Test
  void anInvertedTimeRangeIsRefusedWithExitCode2() {
    Cli.Run run =
        Cli.portcullis(
            "audit",
            "sessions",
            "--config",
            config.toString(),
            "--user",
            "alice",
            "--since",
            "2026-11-05",
            "--until",
            "2026-11-01");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err())
        .contains("the time range is empty: since 2026-11-05T00:00:00Z is not before until");
  }

  @Test
  void anUnknownUserFindsNothingAndIsToldSo() {
    Cli.Run run =
        Cli.portcullis("audit", "sessions", "--config", config.toString(), "--user", "Alice");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).contains("the journal has no session of user 'Alice'");
  }

  @Test
  void auditExportWritesEveryStatementWithItsIdentity() throws Exception {
    String today = LocalDate.now(ZoneOffset.UTC).toString();
    Cli.Run csv =
        Cli.portcullis(
            "audit", "export", "--config", config.toString(), "--since", today, "--format", "csv");
    assertThat(csv.exitCode()).as(csv.err()).isZero();
    List<String> lines = csv.out().lines().toList();
    assertThat(lines.get(0)).startsWith("at,session,statement,subject,issuer,groups,");
    assertThat(lines).filteredOn(line -> line.contains("audit_q.")).hasSize(3);
    assertThat(lines)
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains(
                        aliceDenied, ",alice,", "SELECT secret FROM audit_q.secrets", "deny"));

    Cli.Run jsonl =
        Cli.portcullis("audit", "export", "--config", config.toString(), "--since", today);
    assertThat(jsonl.exitCode()).isZero();
    JsonNode denied =
        jsonl
            .out()
            .lines()
            .map(AuditQueryTest::parse)
            .filter(line -> line.get("session").asText().equals(aliceDenied))
            .filter(line -> line.get("decision").asText().equals("deny"))
            .findFirst()
            .orElseThrow();
    assertThat(denied.get("subject").asText()).isEqualTo("alice");
    assertThat(denied.get("groups")).hasSize(1);
    assertThat(denied.get("rules").get(0).asText()).isEqualTo("no-secrets");
    assertThat(denied.get("tables").get(0).asText()).isEqualTo("audit_q.secrets");

    Cli.Run inverted =
        Cli.portcullis(
            "audit",
            "export",
            "--config",
            config.toString(),
            "--since",
            "2026-11-05",
            "--until",
            "2026-11-04T23:00:00Z");
    assertThat(inverted.exitCode()).isEqualTo(2);
    assertThat(inverted.err()).contains("the time range is empty");
  }

  private static JsonNode parse(String line) {
    try {
      return JSON.readTree(line);
    } catch (Exception e) {
      throw new AssertionError(line, e);
    }
  }

  @Test
  void theAdminApiAnswersAuditorsOnly() throws Exception {
    AdminClient admin = new AdminClient(gateway);
    String query = "/api/v1/audit/sessions?user=alice&table=secrets";
    assertThat(admin.get(query, null).status()).isEqualTo(401);
    assertThat(admin.get(query, "not-a-token").status()).isEqualTo(401);
    AdminClient.Reply staff = admin.get(query, token("carol", Set.of("staff")));
    assertThat(staff.status()).isEqualTo(403);
    assertThat(staff.body().get("error").asText()).contains("[auditor]");

    String auditor = token("dora", Set.of("auditor"));
    AdminClient.Reply found = admin.get(query, auditor);
    assertThat(found.status()).isEqualTo(200);
    assertThat(ids(found.body().get("sessions"))).containsExactly(aliceDenied);
    assertThat(
            admin
                .get("/api/v1/audit/sessions?user=alice&since=2026-11-05&until=2026-11-01", auditor)
                .status())
        .isEqualTo(400);
    assertThat(admin.get("/api/v1/audit/sessions?usr=alice", auditor).status()).isEqualTo(400);

    AdminClient.Reply timeline = admin.get("/api/v1/audit/sessions/" + aliceDenied, auditor);
    assertThat(timeline.status()).isEqualTo(200);
    JsonNode events = timeline.body().get("events");
    assertThat(events.get(0).get("subject").asText()).isEqualTo("alice");
    assertThat(events.toString()).contains("SELECT secret FROM audit_q.secrets");
    assertThat(events.toString()).doesNotContain("sealedParameters");
    assertThat(admin.get("/api/v1/audit/sessions/no-such-session", auditor).status())
        .isEqualTo(404);

    HttpResponse<String> export =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            admin.url()
                                + "/api/v1/audit/export?since="
                                + LocalDate.now(ZoneOffset.UTC)
                                + "&format=jsonl"))
                    .header("Authorization", "Bearer " + auditor)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(export.statusCode()).isEqualTo(200);
    assertThat(export.headers().firstValue("Content-Type")).contains("application/x-ndjson");
    assertThat(export.body().lines().map(AuditQueryTest::parse))
        .filteredOn(line -> line.get("sql").asText().contains("audit_q."))
        .hasSize(3);
    assertThat(admin.get("/api/v1/audit/export?format=jsonl", auditor).status()).isEqualTo(400);
  }

  @Test
  void theGatewaysOwnIndexerFollowsTheJournal() throws Exception {
    Properties props = new Properties();
    props.setProperty("user", "erin");
    props.setProperty("password", token("erin", Set.of("staff")));
    try (Connection c = DriverManager.getConnection(TestGateway.jdbcUrl(gateway, ""), props)) {
      c.createStatement().execute("SELECT 1");
    }
    // No CLI runs here: only the gateway's indexer brings erin's session into the index.
    AdminClient admin = new AdminClient(gateway);
    String auditor = token("dora", Set.of("auditor"));
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    JsonNode sessions;
    // The index follows the journal batch by batch: the session's opening can be indexed before
    // its statements are.
    do {
      Thread.sleep(200);
      sessions = admin.get("/api/v1/audit/sessions?user=erin", auditor).body().get("sessions");
    } while ((sessions.isEmpty() || sessions.get(0).get("statements").asLong() < 2)
        && System.nanoTime() < deadline);
    assertThat(sessions).hasSize(1);
    // The driver's own SET at connection comes first.
    assertThat(sessions.get(0).get("statements").asLong()).isEqualTo(2);
  }
}
