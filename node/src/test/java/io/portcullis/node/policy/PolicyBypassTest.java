package io.portcullis.node.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.AdminClient;
import io.portcullis.node.testing.ClientTranscript;
import io.portcullis.node.testing.RawClient;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.policy.identity.DevIssuer;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.DataRow;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.FrontendMessage.Bind;
import io.portcullis.protocol.FrontendMessage.Execute;
import io.portcullis.protocol.FrontendMessage.Parse;
import io.portcullis.protocol.FrontendMessage.Query;
import io.portcullis.protocol.FrontendMessage.Sync;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * Statements that PostgreSQL reads differently from a first look: each must be refused by the rule
 * it would break, and its effect must not happen upstream.
 */
class PolicyBypassTest {

  private static final String POLICY =
      """
      default: deny
      rules:
        - id: agents-read
          when: { agent: true, kinds: [select, transaction, show, set, copy-out] }
          decision: allow
        - id: no-secret
          when: { tables: [public.probe_secret] }
          decision: deny
        - id: no-bump
          when: { functions: [probe_bump] }
          decision: deny
        - id: agents-no-hidden-writes
          when: { agent: true, signals: [writes-in-read] }
          decision: deny
        - id: agent-deletes-need-review
          when: { agent: true, kinds: [delete] }
          decision: review
          approval: { mode: retry, approvers: [security-analysts] }
        - id: agents-write-nothing
          when: { agent: true, kinds: [insert, update, merge, truncate, copy-in] }
          decision: deny
      """;

  @TempDir static Path dir;
  private static GatewayNode gateway;
  private static DevIssuer issuer;

  @BeforeAll
  static void start() throws Exception {
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS probe_secret, probe_orders CASCADE");
      s.execute("DROP FUNCTION IF EXISTS probe_bump(int)");
      s.execute("DROP SEQUENCE IF EXISTS probe_seq");
      s.execute("CREATE TABLE probe_secret (id int PRIMARY KEY, ssn text)");
      s.execute("INSERT INTO probe_secret VALUES (1, '123-45-6789')");
      s.execute("CREATE TABLE probe_orders (id int PRIMARY KEY, total numeric)");
      s.execute(
          "CREATE FUNCTION probe_bump(int) RETURNS int LANGUAGE sql"
              + " AS 'UPDATE probe_orders SET total = 0 WHERE id = $1 RETURNING 1'");
      s.execute("CREATE SEQUENCE probe_seq");
    }
    Path policyFile = dir.resolve("policy.yaml");
    Files.writeString(policyFile, POLICY);
    Path key = dir.resolve("dev.jwk");
    gateway = TestGateway.start(TestGateway.policyWithDevTokens(policyFile, key));
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
      s.execute("TRUNCATE probe_orders");
      s.execute("INSERT INTO probe_orders VALUES (1, 10), (2, 20)");
    }
  }

  private static String token() {
    return issuer.mint("probe-bot", Set.of("agents"), true, Duration.ofMinutes(5), "portcullis");
  }

  private static Connection agent() throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", "probe-bot");
    props.setProperty("password", token());
    return DriverManager.getConnection(TestGateway.jdbcUrl(gateway, ""), props);
  }

  private static RawClient rawAgent() throws Exception {
    return ClientTranscript.rawClient(gateway.port(), "probe-bot", token());
  }

  private static String direct(String sql) throws SQLException {
    try (Connection c = TestPostgres.direct();
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static void assertDeniedCopyOut(String sql) throws Exception {
    try (Connection c = agent()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      assertThatThrownBy(() -> ((PGConnection) c).getCopyAPI().copyOut(sql, out))
          .as(sql)
          .isInstanceOf(SQLException.class)
          .hasFieldOrPropertyWithValue("SQLState", "42501");
      assertThat(out.toByteArray()).isEmpty();
    }
  }

  @Test
  void copyInTheOldBinarySyntaxReportsItsTable() throws Exception {
    assertDeniedCopyOut("COPY BINARY probe_secret TO STDOUT");
  }

  @Test
  void copyOfATableNamedWithItsDatabaseReportsTheTable() throws Exception {
    assertDeniedCopyOut("COPY " + TestPostgres.DATABASE + ".public.probe_secret TO STDOUT");
  }

  // (x).f is PostgreSQL's attribute notation for f(x).
  @Test
  void aFunctionCalledInAttributeNotationIsAFunctionCall() throws Exception {
    try (Connection c = agent();
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.execute("SELECT (2).probe_bump"))
          .hasFieldOrPropertyWithValue("SQLState", "42501");
      assertThatThrownBy(() -> s.execute("SELECT ('probe_seq'::regclass).nextval"))
          .hasFieldOrPropertyWithValue("SQLState", "42501");
    }
    assertThat(direct("SELECT total FROM probe_orders WHERE id = 2")).isEqualTo("20");
    assertThat(direct("SELECT is_called::text FROM probe_seq")).isEqualTo("false");
  }

  // CASE's WHEN and THEN end no FROM list: after a join's ON CASE … END, a comma goes on to the
  // next relation.
  @Test
  void aRelationAfterACaseInAJoinConditionIsRead() throws Exception {
    try (Connection c = agent();
        Statement s = c.createStatement()) {
      assertThatThrownBy(
              () ->
                  s.executeQuery(
                      "SELECT s.ssn FROM probe_orders o JOIN probe_orders p"
                          + " ON CASE WHEN o.id = p.id THEN true END, probe_secret s"))
          .hasFieldOrPropertyWithValue("SQLState", "42501");
    }
  }

  // SJIS reads the UTF-8 bytes of 'Á' and the backslash after it as two characters, the second
  // ending with the backslash's byte: the quote after it ends the string.
  @Test
  void aQueryIsNotReadInAnotherClientEncoding() throws Exception {
    String smuggled = "SELECT E'\u00c1\\'; UPDATE probe_orders SET total = 0 WHERE id = 2; --'";
    try (RawClient client = rawAgent()) {
      client.send(new Query("SET client_encoding = 'SJIS'"));
      assertThat(sqlStates(ClientTranscript.untilReady(client, 1))).containsExactly("42501");
      client.send(new Query("SELECT set_config('client_encoding', 'SJIS', false)"));
      assertThat(sqlStates(ClientTranscript.untilReady(client, 1))).isEmpty();
      client.send(new Query(smuggled));
      assertThat(sqlStates(ClientTranscript.untilReady(client, 1))).containsExactly("42501");
      client.send(new Query("SET client_encoding = 'UTF8'"));
      assertThat(sqlStates(ClientTranscript.untilReady(client, 1))).isEmpty();
      client.send(new Query(smuggled));
      assertThat(ClientTranscript.untilReady(client, 1))
          .as("back in UTF-8, the text is one SELECT, as the server reads it too")
          .filteredOn(DataRow.class::isInstance)
          .hasSize(1);
    }
    assertThat(direct("SELECT total FROM probe_orders WHERE id = 2")).isEqualTo("20");
  }

  // A cursor and a prepared statement of the same name are different objects upstream.
  @Test
  void executeIsNotJudgedAsTheCursorOfTheSameName() throws Exception {
    try (RawClient client = rawAgent()) {
      client.send(
          new Parse("c", "DELETE FROM probe_orders WHERE id = 1", new int[0]), Sync.INSTANCE);
      ClientTranscript.untilReady(client, 1);
      client.send(new Query("BEGIN"));
      ClientTranscript.untilReady(client, 1);
      client.send(new Query("DECLARE c CURSOR FOR SELECT 1"));
      ClientTranscript.untilReady(client, 1);
      client.send(new Query("EXECUTE c"));
      assertThat(sqlStates(ClientTranscript.untilReady(client, 1))).containsExactly("42501");
      client.send(new Query("COMMIT"));
      ClientTranscript.untilReady(client, 1);
    }
    assertThat(direct("SELECT count(*) FROM probe_orders")).isEqualTo("2");
  }

  // Approving a PREPARE approves preparing it: each run asks again, by EXECUTE or by Bind.
  @Test
  void aStatementPreparedInSqlNeedsApprovalAtEachBind() throws Exception {
    AdminClient admin = new AdminClient(gateway);
    String approver =
        issuer.mint(
            "carol", Set.of("security-analysts"), false, Duration.ofMinutes(5), "portcullis");
    String prepare = "PREPARE wipe(int) AS DELETE FROM probe_orders WHERE id = $1";
    try (RawClient client = rawAgent()) {
      client.send(new Query(prepare));
      Matcher approval =
          Pattern.compile("a-[0-9a-f]{12}(-\\d+)?")
              .matcher(errors(ClientTranscript.untilReady(client, 1)).get(0).message());
      assertThat(approval.find()).isTrue();
      assertThat(
              admin
                  .post("/api/v1/approvals/" + approval.group() + "/approve", approver, "{}")
                  .status())
          .isEqualTo(200);
      client.send(new Query(prepare));
      assertThat(errors(ClientTranscript.untilReady(client, 1))).isEmpty();
      client.send(
          new Bind("", "wipe", new short[0], new byte[][] {{'1'}}, new short[0]),
          new Execute("", 0),
          Sync.INSTANCE);
      assertThat(sqlStates(ClientTranscript.untilReady(client, 1))).containsExactly("42501");
    }
    assertThat(direct("SELECT count(*) FROM probe_orders")).isEqualTo("2");
  }

  private static List<ErrorResponse> errors(List<BackendMessage> received) {
    return received.stream()
        .filter(ErrorResponse.class::isInstance)
        .map(ErrorResponse.class::cast)
        .toList();
  }

  private static List<String> sqlStates(List<BackendMessage> received) {
    return errors(received).stream().map(ErrorResponse::sqlState).toList();
  }

  // The server reads a query under the setting its earlier statements left, not the one the
  // gateway last heard of.
  @Test
  void aQuerySentBehindAChangeOfStringSyntaxIsReadUnderBoth() throws Exception {
    try (RawClient client = rawAgent()) {
      client.send(
          new Query("SET standard_conforming_strings = off"),
          new Query("SELECT 'x\\' AS a, ' ; UPDATE probe_orders SET total = 0 WHERE id = 2; -- '"));
      List<BackendMessage> received = ClientTranscript.untilReady(client, 2);
      assertThat(received).noneMatch(DataRow.class::isInstance);
    }
    assertThat(direct("SELECT total FROM probe_orders WHERE id = 2")).isEqualTo("20");
    try (RawClient client = rawAgent()) {
      client.send(new Query("SELECT 'x\\' AS a, ' ; UPDATE probe_orders SET total = 0; -- '"));
      assertThat(ClientTranscript.untilReady(client, 1))
          .as("sent alone, it reads as the session's setting says: one SELECT")
          .filteredOn(DataRow.class::isInstance)
          .hasSize(1);
    }
  }
}
