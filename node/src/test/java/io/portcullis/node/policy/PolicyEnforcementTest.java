package io.portcullis.node.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.portcullis.node.GatewayNode;
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
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.largeobject.LargeObjectManager;

/**
 * Every statement is checked against the policy file before it reaches PostgreSQL: over the simple
 * and extended protocols, in transactions, in multi-statement strings, through SQL-level PREPARE,
 * and as fast-path function calls; a changed policy file comes into force while sessions run.
 */
class PolicyEnforcementTest {

  private static final String POLICY =
      """
      default: deny
      rules:
        - id: agents-read
          when: { agent: true, kinds: [select, transaction, show, set] }
          decision: allow
        - id: agents-read-only
          when: { agent: true, kinds: [insert, update, delete, merge, truncate, copy-in] }
          decision: deny
          reason: agents have read-only access
        - id: pii-review
          when: { agent: true, tables: [policy_pii] }
          decision: review
          reason: PII needs a security analyst's approval
          approval: { mode: retry, approvers: [security-analysts] }
        - id: people
          when: { agent: false, kinds: [select, insert, update, delete, transaction, set, show] }
          decision: allow
      """;

  @TempDir static Path dir;
  private static Path policyFile;
  private static GatewayNode gateway;
  private static DevIssuer issuer;

  @BeforeAll
  static void start() throws Exception {
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS policy_orders, policy_pii CASCADE");
      s.execute("DROP FUNCTION IF EXISTS policy_pii_count()");
      s.execute("CREATE TABLE policy_orders (id int PRIMARY KEY, total numeric)");
      s.execute("CREATE TABLE policy_pii (id int PRIMARY KEY, ssn text)");
      s.execute("INSERT INTO policy_pii VALUES (1, '123-45-6789')");
      s.execute("CREATE VIEW policy_pii_summary AS SELECT count(*) AS n FROM policy_pii");
      s.execute(
          "CREATE FUNCTION policy_pii_count() RETURNS bigint LANGUAGE sql"
              + " AS 'SELECT count(*) FROM policy_pii'");
    }
    policyFile = dir.resolve("policy.yaml");
    Files.writeString(policyFile, POLICY);
    Path key = dir.resolve("dev.jwk");
    gateway =
        TestGateway.start(
            TestGateway.policyWithDevTokens(policyFile, key)
                + "portcullis.policy { reload-interval = 200ms, catalog-refresh-interval = 1s }");
    issuer = DevIssuer.load(key);
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  @BeforeEach
  void resetData() throws Exception {
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("TRUNCATE policy_orders");
      s.execute("INSERT INTO policy_orders VALUES (1, 10), (2, 20)");
    }
  }

  private static Connection agent() throws SQLException {
    return connect("payments-bot", true, "");
  }

  private static Connection connect(String user, boolean agent, String params) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty(
        "password",
        issuer.mint(
            user,
            Set.of(agent ? "agents" : "analysts"),
            agent,
            Duration.ofMinutes(5),
            "portcullis"));
    return DriverManager.getConnection(TestGateway.jdbcUrl(gateway, params), props);
  }

  private static long orders() throws SQLException {
    try (Connection c = TestPostgres.direct();
        ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM policy_orders")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static String one(Connection c, String sql) throws SQLException {
    try (ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void anAllowedReadReturnsItsRows() throws Exception {
    try (Connection c = agent()) {
      assertThat(one(c, "SELECT sum(total) FROM policy_orders")).isEqualTo("30");
    }
  }

  @Test
  void aDeniedWriteNeverReachesThePostgresAndTheSessionGoesOn() throws Exception {
    try (Connection c = agent()) {
      assertThatThrownBy(
              () -> c.createStatement().execute("DELETE FROM policy_orders WHERE id = 1"))
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"))
          .hasMessageContaining("statement denied by policy: agents have read-only access")
          .hasMessageContaining("agents-read-only");
      assertThat(orders()).isEqualTo(2);
      assertThat(one(c, "SELECT 'still here'")).isEqualTo("still here");
    }
  }

  @Test
  void aDeniedStatementAbortsTheTransactionAsPostgresWould() throws Exception {
    try (Connection c = agent()) {
      c.setAutoCommit(false);
      assertThat(one(c, "SELECT count(*) FROM policy_orders")).isEqualTo("2");
      assertThatThrownBy(
              () -> c.createStatement().execute("UPDATE policy_orders SET total = 0 WHERE id = 1"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
      assertThatThrownBy(() -> one(c, "SELECT 1"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25P02"));
      c.rollback();
      assertThat(one(c, "SELECT 'after rollback'")).isEqualTo("after rollback");
    }
  }

  @Test
  void preparedStatementsAreJudgedAtParseAndKeepTheirDecision() throws Exception {
    try (Connection c = connect("payments-bot", true, "prepareThreshold=1");
        PreparedStatement read =
            c.prepareStatement("SELECT total FROM policy_orders WHERE id = ?");
        PreparedStatement delete = c.prepareStatement("DELETE FROM policy_orders WHERE id = ?")) {
      for (int i = 0; i < 3; i++) {
        read.setInt(1, 2);
        try (ResultSet rs = read.executeQuery()) {
          rs.next();
          assertThat(rs.getInt(1)).isEqualTo(20);
        }
        delete.setInt(1, 1);
        assertThatThrownBy(delete::executeUpdate)
            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
      }
      assertThat(orders()).isEqualTo(2);
    }
  }

  @Test
  void oneDeniedStatementRefusesTheWholeMultiStatementString() throws Exception {
    try (Connection c = agent()) {
      assertThatThrownBy(
              () -> c.createStatement().execute("SELECT 1; DELETE FROM policy_orders WHERE id = 1"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
      assertThat(orders()).isEqualTo(2);
    }
  }

  @Test
  void sqlLevelExecuteFollowsItsPrepare() throws Exception {
    try (Connection c = agent();
        Statement s = c.createStatement()) {
      s.execute("PREPARE total_of(int) AS SELECT total FROM policy_orders WHERE id = $1");
      assertThat(one(c, "EXECUTE total_of(1)")).isEqualTo("10");
      assertThatThrownBy(() -> s.execute("PREPARE wipe AS DELETE FROM policy_orders WHERE id = 1"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
      assertThatThrownBy(() -> s.execute("EXECUTE wipe"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
      assertThat(orders()).isEqualTo(2);
    }
  }

  @Test
  void whatThePolicyEngineCannotParseIsDenied() throws Exception {
    try (Connection c = agent()) {
      assertThatThrownBy(() -> one(c, "SELECT ((('a' COLLATE \"C\")))"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"))
          .hasMessageContaining("not understood by the policy engine");
    }
  }

  @Test
  void aTenMegabyteStatementIsRefusedUnread() throws Exception {
    String huge = "SELECT 1 /* " + "x".repeat(10 * 1024 * 1024) + " */";
    try (Connection c = agent()) {
      assertThatThrownBy(() -> one(c, huge))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"))
          .hasMessageContaining("the policy engine reads at most 1000000");
      assertThat(one(c, "SELECT 'next'")).isEqualTo("next");
    }
  }

  @Test
  void aReviewRuleInRetryModeRefusesUntilApproved() throws Exception {
    try (Connection c = agent()) {
      assertThatThrownBy(() -> one(c, "SELECT ssn FROM policy_pii"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"))
          .hasMessageContaining("needs approval a-")
          .hasMessageContaining(": PII needs a security analyst's approval");
    }
  }

  @Test
  void aRuleOnATableCoversTheViewsAndSqlFunctionsBuiltOnIt() throws Exception {
    try (Connection c = agent()) {
      for (String sql : List.of("SELECT n FROM policy_pii_summary", "SELECT policy_pii_count()")) {
        assertThatThrownBy(() -> one(c, sql))
            .as(sql)
            .hasMessageContaining("needs approval a-")
            .hasMessageContaining("PII needs a security analyst's approval");
      }
      assertThat(one(c, "SELECT count(*) FROM policy_orders")).isEqualTo("2");

      try (Connection direct = TestPostgres.direct();
          Statement s = direct.createStatement()) {
        s.execute("CREATE OR REPLACE VIEW policy_orders_report AS SELECT * FROM policy_pii");
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThatThrownBy(() -> one(c, "SELECT * FROM policy_orders_report"))
                      .as("a view made outside the gateway, once the catalog is read again")
                      .hasMessageContaining("needs approval"));
    }
  }

  @Test
  void fastPathFunctionCallsAreDeniedUnlessARuleAllowsThem() throws Exception {
    try (Connection c = connect("alice", false, "")) {
      c.setAutoCommit(false);
      LargeObjectManager objects = c.unwrap(PGConnection.class).getLargeObjectAPI();
      assertThatThrownBy(() -> objects.createLO())
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
      c.rollback();
    }
  }

  @Test
  void aChangedPolicyComesIntoForceAndABrokenOneIsRefused() throws Exception {
    String deletesAllowed =
        POLICY
            .replace(
                "kinds: [select, transaction, show, set]", "kinds: [select, delete, transaction]")
            .replace("kinds: [insert, update, delete, merge,", "kinds: [insert, update, merge,");
    try (Connection c = agent();
        Statement s = c.createStatement()) {
      Files.writeString(policyFile, deletesAllowed);
      await()
          .atMost(Duration.ofSeconds(10))
          .ignoreExceptions()
          .untilAsserted(() -> s.execute("DELETE FROM policy_orders WHERE id = 1"));
      assertThat(orders()).isEqualTo(1);

      // A file that does not validate is refused: the policy that allows deletes stays in force.
      Files.writeString(policyFile, deletesAllowed + "  - id: oops\n    decision: sometimes\n");
      Thread.sleep(1_000);
      s.execute("DELETE FROM policy_orders WHERE id = 2");
      assertThat(orders()).isZero();

      Files.writeString(policyFile, POLICY);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThatThrownBy(() -> s.execute("DELETE FROM policy_orders WHERE id = 3"))
                      .hasMessageContaining("agents have read-only access"));
    }
  }
}
