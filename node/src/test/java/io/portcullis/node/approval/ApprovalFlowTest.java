package io.portcullis.node.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.AdminClient;
import io.portcullis.node.testing.Cli;
import io.portcullis.node.testing.MetricsScrape;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.policy.identity.DevIssuer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Statements that policy sends for review, end to end over pgjdbc and the admin API: held and
 * approved, denied, timed out, retry mode, just-in-time grants, two approvers, and every refusal an
 * approver can meet.
 */
class ApprovalFlowTest {

  private static final String POLICY =
      """
      default: deny
      rules:
        - id: read
          when: { kinds: [select, insert, transaction, set, show] }
          decision: allow
        - id: pii-wait
          when: { agent: true, tables: [approval_pii] }
          decision: review
          reason: PII needs a security analyst's approval
          approval: { mode: wait, timeout: 30s, approvers: [security-analysts] }
        - id: cards-retry
          when: { agent: true, tables: [approval_cards] }
          decision: review
          reason: card data needs approval
          approval: { mode: retry, timeout: 30s, approvers: [security-analysts] }
        - id: vault-grant
          when: { agent: true, tables: [approval_vault] }
          decision: review
          reason: the vault needs a just-in-time grant
          approval: { mode: retry, timeout: 30s, approvers: [security-analysts], grant: 30m }
        - id: ledger-two-person
          when: { tables: [approval_ledger] }
          decision: review
          reason: the ledger needs two approvers
          approval: { mode: wait, timeout: 30s, approvers: [security-analysts], required: 2 }
        - id: slow
          when: { agent: true, tables: [approval_slow] }
          decision: review
          reason: nobody is watching this one
          approval: { mode: wait, timeout: 2s, approvers: [security-analysts] }
      """;

  private static final Pattern APPROVAL_ID = Pattern.compile("a-[0-9a-f]{12}(-\\d+)?");

  @TempDir static Path dir;
  private static GatewayNode gateway;
  private static DevIssuer issuer;
  private static AdminClient admin;
  private static String carol;
  private static String dave;
  private static String mallory;

  @BeforeAll
  static void start() throws Exception {
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      for (String table : List.of("pii", "cards", "vault", "ledger", "slow")) {
        s.execute("DROP TABLE IF EXISTS approval_" + table);
        s.execute("CREATE TABLE approval_" + table + " (id int, secret text)");
        s.execute("INSERT INTO approval_" + table + " VALUES (1, '" + table + "-1')");
      }
    }
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, POLICY);
    Path key = dir.resolve("dev.jwk");
    gateway = TestGateway.start(TestGateway.policyWithDevTokens(policy, key));
    issuer = DevIssuer.load(key);
    admin = new AdminClient(gateway);
    carol = token("carol", Set.of("security-analysts"), false);
    dave = token("dave", Set.of("security-analysts"), false);
    mallory = token("mallory", Set.of("analysts"), false);
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  private static String token(String user, Set<String> groups, boolean agent) throws Exception {
    return issuer.mint(user, groups, agent, Duration.ofMinutes(10), "portcullis");
  }

  private static Connection connect(String user, Set<String> groups, boolean agent)
      throws Exception {
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", token(user, groups, agent));
    return DriverManager.getConnection(TestGateway.jdbcUrl(gateway, ""), props);
  }

  private static Connection agent() throws Exception {
    return connect("payments-bot", Set.of("agents"), true);
  }

  private static List<String> rows(Statement statement, String sql) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (ResultSet rs = statement.executeQuery(sql)) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  /** The pending approval of exactly this statement, once the read side has it. */
  private static JsonNode pending(String statement) {
    return await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () -> {
              for (JsonNode approval :
                  admin.get("/api/v1/approvals", carol).body().path("approvals")) {
                if (approval.path("statement").asText().equals(statement)) {
                  return approval;
                }
              }
              return null;
            },
            approval -> approval != null);
  }

  private static String approvalId(String message) {
    Matcher matcher = APPROVAL_ID.matcher(message);
    assertThat(matcher.find()).as("approval id in: " + message).isTrue();
    return matcher.group();
  }

  @Test
  void heldStatementRunsOnceApprovedWhileOtherSessionsGoOn() throws Exception {
    try (Connection bot = agent();
        Statement statement = bot.createStatement();
        Connection other = agent();
        Statement otherStatement = other.createStatement()) {
      MetricsScrape before = MetricsScrape.of(gateway.managementPort());
      long holding = System.nanoTime();
      CompletableFuture<List<String>> held =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return rows(statement, "SELECT secret FROM approval_pii WHERE id = 1");
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      JsonNode approval = pending("SELECT secret FROM approval_pii WHERE id = 1");
      assertThat(approval.path("status").asText()).isEqualTo("pending");
      assertThat(approval.path("requester").path("subject").asText()).isEqualTo("payments-bot");
      assertThat(approval.path("rules").get(0).asText()).isEqualTo("pii-wait");
      assertThat(approval.path("sessionStatement").asLong())
          .as("the statement's number in the session's journal")
          .isPositive();
      assertThat(held).isNotDone();
      assertThat(rows(otherStatement, "SELECT 1")).containsExactly("1");

      String id = approval.path("id").asText();
      AdminClient.Reply approved =
          admin.post("/api/v1/approvals/" + id + "/approve", carol, "{\"reason\":\"ticket 4711\"}");
      assertThat(approved.status()).isEqualTo(200);
      assertThat(held.get(10, TimeUnit.SECONDS)).containsExactly("pii-1");
      double waited = (System.nanoTime() - holding) / 1e9;
      MetricsScrape after = MetricsScrape.of(gateway.managementPort());
      assertThat(after.since(before, "portcullis_statements_total", "decision", "review"))
          .isEqualTo(1);
      assertThat(after.since(before, "portcullis_approval_wait_seconds_count")).isEqualTo(1);
      assertThat(after.since(before, "portcullis_approval_wait_seconds_sum"))
          .isPositive()
          .isLessThanOrEqualTo(waited);
      SQLWarning warning = statement.getWarnings();
      assertThat(warning != null).as("the client was told").isTrue();
      assertThat(warning.getMessage())
          .contains("statement held for approval " + id)
          .contains("portcullis approvals show " + id);
      assertThat(admin.get("/api/v1/approvals/" + id, carol).body().path("status").asText())
          .isEqualTo("executed");
      assertThat(admin.post("/api/v1/approvals/" + id + "/approve", dave, "{}").status())
          .as("approving what was already run")
          .isEqualTo(409);
    }
  }

  @Test
  void deniedStatementNeverRunsAndTheClientHearsWhyAndFromWhom() throws Exception {
    try (Connection bot = agent();
        Statement statement = bot.createStatement()) {
      CompletableFuture<Integer> held =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return statement.executeUpdate(
                      "INSERT INTO approval_pii VALUES (2, 'written by the bot')");
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      String id =
          pending("INSERT INTO approval_pii VALUES (2, 'written by the bot')").path("id").asText();
      assertThat(admin.post("/api/v1/approvals/" + id + "/deny", carol, "{}").status())
          .as("a denial needs a reason")
          .isEqualTo(400);
      assertThat(
              admin
                  .post("/api/v1/approvals/" + id + "/deny", carol, "{\"reason\":\"not today\"}")
                  .status())
          .isEqualTo(200);
      assertThat((CompletableFuture<Integer>) held)
          .failsWithin(Duration.ofSeconds(10))
          .withThrowableThat()
          .havingRootCause()
          .isInstanceOf(SQLException.class)
          .satisfies(
              e -> {
                assertThat(((SQLException) e).getSQLState()).isEqualTo("42501");
                assertThat(e.getMessage())
                    .contains("approval " + id + " was denied by carol: not today");
              });
      assertThat(rows(statement, "SELECT 1")).as("the session goes on").containsExactly("1");
    }
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      assertThat(rows(s, "SELECT count(*) FROM approval_pii WHERE id = 2")).containsExactly("0");
    }
  }

  @Test
  void unansweredRequestExpiresAndTheStatementIsRefused() throws Exception {
    try (Connection bot = agent();
        Statement statement = bot.createStatement()) {
      long started = System.nanoTime();
      assertThatThrownBy(() -> rows(statement, "SELECT secret FROM approval_slow"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("was not granted: no approver decided within 2s")
          .extracting(e -> ((SQLException) e).getSQLState())
          .isEqualTo("42501");
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(9));
      String id = approvalId(statement.getWarnings().getMessage());
      assertThat(admin.get("/api/v1/approvals/" + id, carol).body().path("status").asText())
          .isEqualTo("expired");
      assertThat(admin.post("/api/v1/approvals/" + id + "/approve", carol, "{}").status())
          .as("approving an expired request")
          .isEqualTo(409);
    }
  }

  @Test
  void retryModeRefusesAtOnceAndRunsTheIdenticalStatementOnceAfterApproval() throws Exception {
    try (Connection bot = agent();
        Statement statement = bot.createStatement()) {
      String sql = "SELECT secret FROM approval_cards WHERE id = 1";
      SQLException first = catchSql(() -> rows(statement, sql));
      assertThat(first.getSQLState()).isEqualTo("42501");
      assertThat(first.getMessage())
          .contains("statement needs approval")
          .contains("run the identical statement again");
      String id = approvalId(first.getMessage());
      assertThat(admin.post("/api/v1/approvals/" + id + "/approve", carol, "{}").status())
          .isEqualTo(200);

      assertThat(
              catchSql(() -> rows(statement, "SELECT secret FROM approval_cards WHERE id = 2"))
                  .getMessage())
          .as("a different statement is a different request")
          .doesNotContain(id);
      assertThat(rows(statement, "select  secret FROM approval_cards /* same */ WHERE id = 1"))
          .as("the same statement, spelled differently")
          .containsExactly("cards-1");
      SQLException again = catchSql(() -> rows(statement, sql));
      assertThat(approvalId(again.getMessage())).as("used once").isEqualTo(id + "-2");
    }
  }

  @Test
  void grantOpensAWindowForTheRule() throws Exception {
    try (Connection bot = agent();
        Statement statement = bot.createStatement()) {
      SQLException first = catchSql(() -> rows(statement, "SELECT secret FROM approval_vault"));
      String id = approvalId(first.getMessage());
      JsonNode approved =
          admin
              .post("/api/v1/approvals/" + id + "/approve", carol, "{\"reason\":\"incident 7\"}")
              .body();
      assertThat(approved.path("kind").asText()).isEqualTo("grant");
      assertThat(approved.path("grantUntil").isTextual()).isTrue();
      assertThat(rows(statement, "SELECT secret FROM approval_vault WHERE id = 1"))
          .containsExactly("vault-1");
      assertThat(rows(statement, "SELECT count(*) FROM approval_vault")).containsExactly("1");
    }
    try (Connection later = agent();
        Statement statement = later.createStatement()) {
      assertThat(rows(statement, "SELECT id FROM approval_vault"))
          .as("the grant is the identity's, in any session")
          .containsExactly("1");
    }
  }

  @Test
  void twoApproversAreNeededAndNobodyApprovesTheirOwnRequest() throws Exception {
    String erinToken = token("erin", Set.of("security-analysts"), false);
    try (Connection erin = connect("erin", Set.of("security-analysts"), false);
        Statement statement = erin.createStatement()) {
      CompletableFuture<List<String>> held =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return rows(statement, "SELECT secret FROM approval_ledger");
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      String id = pending("SELECT secret FROM approval_ledger").path("id").asText();
      AdminClient.Reply own = admin.post("/api/v1/approvals/" + id + "/approve", erinToken, "{}");
      assertThat(own.status()).isEqualTo(403);
      assertThat(own.body().path("error").asText()).contains("their own request");
      assertThat(admin.post("/api/v1/approvals/" + id + "/approve", mallory, "{}").status())
          .as("not an approver")
          .isEqualTo(403);

      JsonNode once = admin.post("/api/v1/approvals/" + id + "/approve", carol, "{}").body();
      assertThat(once.path("status").asText()).isEqualTo("pending");
      assertThat(once.path("decisions")).hasSize(1);
      assertThat(admin.post("/api/v1/approvals/" + id + "/approve", carol, "{}").status())
          .as("the same approver twice")
          .isEqualTo(409);
      assertThat(held).isNotDone();
      assertThat(admin.post("/api/v1/approvals/" + id + "/approve", dave, "{}").status())
          .isEqualTo(200);
      assertThat(held.get(10, TimeUnit.SECONDS)).containsExactly("ledger-1");
    }
  }

  @Test
  void preparedStatementsAreHeldAtBindWithTheirValues() throws Exception {
    try (Connection bot = agent();
        PreparedStatement statement =
            bot.prepareStatement("SELECT secret FROM approval_pii WHERE id = ?")) {
      statement.setInt(1, 1);
      CompletableFuture<String> held =
          CompletableFuture.supplyAsync(
              () -> {
                try (ResultSet rs = statement.executeQuery()) {
                  rs.next();
                  return rs.getString(1);
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      JsonNode approval = pending("SELECT secret FROM approval_pii WHERE id = $1");
      assertThat(approval.path("parameters").get(0).asText()).isEqualTo("1");
      admin.post("/api/v1/approvals/" + approval.path("id").asText() + "/approve", carol, "{}");
      assertThat(held.get(10, TimeUnit.SECONDS)).isEqualTo("pii-1");
    }
  }

  @Test
  void approversWorkFromTheCommandLine() throws Exception {
    Path carolToken = dir.resolve("carol.token");
    Files.writeString(carolToken, carol + "\n");
    String sql = "SELECT secret FROM approval_pii WHERE secret IS NOT NULL";
    try (Connection bot = agent();
        Statement statement = bot.createStatement()) {
      CompletableFuture<List<String>> held =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return rows(statement, sql);
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      String id = pending(sql).path("id").asText();
      String[] as = {"--url", admin.url(), "--token-file", carolToken.toString()};

      Cli.Run list = Cli.portcullis(concat(new String[] {"approvals", "list"}, as));
      assertThat(list.exitCode()).as(list.err()).isZero();
      assertThat(list.out()).contains(id, "payments-bot (agent)", "pii-wait");
      Cli.Run show = Cli.portcullis(concat(new String[] {"approvals", "show", id}, as));
      assertThat(show.out()).contains(sql, "security-analysts");
      assertThat(Cli.portcullis(concat(new String[] {"approvals", "deny", id}, as)).exitCode())
          .as("deny needs --reason")
          .isEqualTo(2);

      Cli.Run approve =
          Cli.portcullis(
              concat(new String[] {"approvals", "approve", id, "--reason", "ticket 9"}, as));
      assertThat(approve.exitCode()).as(approve.err()).isZero();
      assertThat(approve.out()).contains(id, "approved by carol (1 of 1)");
      assertThat(held.get(10, TimeUnit.SECONDS)).contains("pii-1");

      Cli.Run again = Cli.portcullis(concat(new String[] {"approvals", "approve", id}, as));
      assertThat(again.exitCode()).isEqualTo(1);
      assertThat(again.err()).contains("executed", "409");
    }
    Cli.Run anonymous = Cli.portcullis("approvals", "list", "--url", admin.url());
    assertThat(anonymous.exitCode()).isEqualTo(2);
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  @Test
  void theApiRefusesWhoeverCannotProveTheyMayDecide() throws Exception {
    AdminClient.Reply anonymous = admin.get("/api/v1/approvals", null);
    assertThat(anonymous.status()).isEqualTo(401);
    assertThat(admin.get("/api/v1/approvals", "not-a-token").status()).isEqualTo(401);
    String expired =
        issuer.mint(
            "carol", Set.of("security-analysts"), false, Duration.ofMinutes(-5), "portcullis");
    AdminClient.Reply late = admin.get("/api/v1/approvals", expired);
    assertThat(late.status()).isEqualTo(401);
    assertThat(late.body().path("error").asText()).contains("expired");
    assertThat(admin.get("/api/v1/approvals/a-000000000000", carol).status()).isEqualTo(404);
    assertThat(admin.get("/api/v1/approvals/nonsense", carol).status()).isEqualTo(404);
    assertThat(admin.get("/api/v1/approvals?status=bogus", carol).status()).isEqualTo(400);
  }

  private interface SqlCall {
    Object call() throws SQLException;
  }

  private static SQLException catchSql(SqlCall call) {
    try {
      call.call();
    } catch (SQLException e) {
      return e;
    }
    throw new AssertionError("expected an SQLException");
  }
}
