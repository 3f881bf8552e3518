package io.portcullis.node.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.RawClient;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.policy.identity.DevIssuer;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.CommandComplete;
import io.portcullis.protocol.BackendMessage.DataRow;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.BackendMessage.NoticeResponse;
import io.portcullis.protocol.BackendMessage.ReadyForQuery;
import io.portcullis.protocol.FrontendMessage;
import io.portcullis.protocol.FrontendMessage.AuthenticationResponse;
import io.portcullis.protocol.FrontendMessage.Bind;
import io.portcullis.protocol.FrontendMessage.Execute;
import io.portcullis.protocol.FrontendMessage.Parse;
import io.portcullis.protocol.FrontendMessage.Query;
import io.portcullis.protocol.FrontendMessage.Startup;
import java.io.ByteArrayOutputStream;
import java.io.StringWriter;
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
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * {@code max-rows} cuts what an allowed statement returns, end to end against PostgreSQL: simple
 * and extended protocol, portals fetched in pieces, COPY TO STDOUT, and batches that fail part way.
 */
class RowLimitTest {

  private static final String POLICY =
      """
      default: deny
      rules:
        - id: agents-read
          when: { agent: true, kinds: [select, transaction, set, show, copy-out] }
          decision: allow
        - id: big-capped
          when: { agent: true, kinds: [select, copy-out], tables: [rowlimit_big] }
          decision: allow
          max-rows: 25
        - id: people-settings
          when: { agent: false, kinds: [set] }
          decision: allow
        - id: people-capped
          when: { agent: false, kinds: [select], tables: [rowlimit_open] }
          decision: allow
          max-rows: 1
      """;

  private static final String TRUNCATED =
      "result truncated to 25 rows by policy rule big-capped (max-rows)";

  @TempDir static Path dir;
  private static GatewayNode gateway;
  private static DevIssuer issuer;

  @BeforeAll
  static void start() throws Exception {
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS rowlimit_big, rowlimit_open");
      s.execute("CREATE TABLE rowlimit_big AS SELECT id FROM generate_series(1, 100) AS id");
      s.execute("CREATE TABLE rowlimit_open AS SELECT id FROM generate_series(1, 50) AS id");
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

  private static String token(String user, boolean agent) {
    return issuer.mint(
        user, Set.of(agent ? "agents" : "analysts"), agent, Duration.ofMinutes(5), "portcullis");
  }

  private static Connection agent(String params) throws SQLException {
    return connect("report-bot", true, params);
  }

  private static Connection connect(String user, boolean agent, String params) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", token(user, agent));
    return DriverManager.getConnection(TestGateway.jdbcUrl(gateway, params), props);
  }

  /** An agent's session at the byte level, logged in. */
  private static RawClient rawAgent() throws Exception {
    RawClient client = new RawClient(gateway.port());
    client.send(new Startup(3 << 16, Map.of("user", "report-bot", "database", "main")));
    client.readUntil(BackendMessage.AuthenticationCleartextPassword.class::isInstance);
    client
        .send(AuthenticationResponse.password(token("report-bot", true)))
        .readUntil(ReadyForQuery.class::isInstance);
    return client;
  }

  private static List<Integer> ids(ResultSet rs) throws SQLException {
    List<Integer> ids = new ArrayList<>();
    while (rs.next()) {
      ids.add(rs.getInt(1));
    }
    return ids;
  }

  private static List<String> messages(SQLWarning warning) {
    List<String> messages = new ArrayList<>();
    for (SQLWarning w = warning; w != null; w = w.getNextWarning()) {
      assertThat(w.getSQLState()).isEqualTo("01000");
      messages.add(w.getMessage());
    }
    return messages;
  }

  private static long rows(List<BackendMessage> messages) {
    return messages.stream().filter(DataRow.class::isInstance).count();
  }

  private static Parse parse(String sql) {
    return new Parse("", sql, new int[0]);
  }

  private static Bind bind() {
    return new Bind("", "", new short[0], new byte[0][], new short[0]);
  }

  @Test
  void aQueryOverTheLimitReturnsTheFirstRowsAndAWarningNamingTheRule() throws Exception {
    try (Connection c = agent("");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id FROM rowlimit_big ORDER BY id")) {
      assertThat(ids(rs)).hasSize(25).startsWith(1).endsWith(25);
      assertThat(messages(s.getWarnings()))
          .containsExactly(TRUNCATED + "; 75 more rows were not sent");
    }
  }

  @Test
  void theCommandTagCountsTheRowsSentAndTheWarningComesBeforeIt() throws Exception {
    try (RawClient client = rawAgent()) {
      List<BackendMessage> received =
          client
              .send(new Query("SELECT id FROM rowlimit_big"))
              .readUntil(ReadyForQuery.class::isInstance);
      assertThat(rows(received)).isEqualTo(25);
      NoticeResponse notice = (NoticeResponse) received.get(received.size() - 3);
      assertThat(notice.severity()).isEqualTo("WARNING");
      assertThat(notice.sqlState()).isEqualTo("01000");
      assertThat(notice.message()).isEqualTo(TRUNCATED + "; 75 more rows were not sent");
      assertThat(received.get(received.size() - 2)).isEqualTo(new CommandComplete("SELECT 25"));
    }
  }

  @Test
  void aResultWithinTheLimitIsUntouched() throws Exception {
    try (Connection c = agent("");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id FROM rowlimit_big WHERE id <= 25")) {
      assertThat(ids(rs)).hasSize(25);
      assertThat(messages(s.getWarnings())).isEmpty();
    }
  }

  @Test
  void eachStatementOfOneQueryIsLimited() throws Exception {
    try (Connection c = agent("");
        Statement s = c.createStatement()) {
      assertThat(
              s.execute(
                  "SELECT id FROM rowlimit_big ORDER BY id;"
                      + " SELECT id FROM rowlimit_big WHERE id > 50 ORDER BY id"))
          .isTrue();
      assertThat(ids(s.getResultSet())).hasSize(25).endsWith(25);
      assertThat(s.getMoreResults()).isTrue();
      assertThat(ids(s.getResultSet())).hasSize(25).startsWith(51).endsWith(75);
      assertThat(messages(s.getWarnings()))
          .containsExactly(
              TRUNCATED + "; 75 more rows were not sent",
              TRUNCATED + "; 25 more rows were not sent");
    }
  }

  @Test
  void aPortalFetchedInPiecesStopsAtTheLimitInTotal() throws Exception {
    try (Connection c = agent("")) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("SELECT id FROM rowlimit_big ORDER BY id")) {
        ps.setFetchSize(7);
        try (ResultSet rs = ps.executeQuery()) {
          assertThat(ids(rs)).hasSize(25).endsWith(25);
          List<String> warnings = messages(rs.getWarnings());
          warnings.addAll(messages(ps.getWarnings()));
          assertThat(warnings)
              .containsExactly(TRUNCATED + "; the portal's further rows are not sent");
        }
      }
      c.commit();
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT count(*) FROM rowlimit_big")) {
        assertThat(ids(rs)).containsExactly(100);
      }
    }
  }

  @Test
  void aNamedPreparedStatementKeepsItsLimitAtEveryExecution() throws Exception {
    try (Connection c = agent("prepareThreshold=1");
        PreparedStatement ps =
            c.prepareStatement("SELECT id FROM rowlimit_big WHERE id > ? ORDER BY id")) {
      for (int i = 0; i < 4; i++) {
        ps.setInt(1, 10 * i);
        try (ResultSet rs = ps.executeQuery()) {
          assertThat(ids(rs)).as("execution %d", i).hasSize(25).startsWith(10 * i + 1);
        }
      }
      ps.setInt(1, 90);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(ids(rs)).hasSize(10);
      }
    }
  }

  @Test
  void aStatementPreparedInSqlIsLimitedWhetherRunByExecuteOrByBind() throws Exception {
    try (RawClient client = rawAgent()) {
      client
          .send(new Query("PREPARE rowlimit_all AS SELECT id FROM rowlimit_big"))
          .readUntil(ReadyForQuery.class::isInstance);
      List<BackendMessage> executed =
          client.send(new Query("EXECUTE rowlimit_all")).readUntil(ReadyForQuery.class::isInstance);
      assertThat(rows(executed)).isEqualTo(25);
      List<BackendMessage> bound =
          client
              .send(
                  new Bind("", "rowlimit_all", new short[0], new byte[0][], new short[0]),
                  new Execute("", 0),
                  FrontendMessage.Sync.INSTANCE)
              .readUntil(ReadyForQuery.class::isInstance);
      assertThat(rows(bound)).isEqualTo(25);
      assertThat(bound).contains(new CommandComplete("SELECT 25"));
    }
  }

  @Test
  void aLimitOnARuleThatDoesNotMatchCutsNothing() throws Exception {
    try (Connection c = agent("");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id FROM rowlimit_open")) {
      assertThat(ids(rs)).hasSize(50);
      assertThat(messages(s.getWarnings())).isEmpty();
    }
    try (Connection c = connect("alice", false, "");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id FROM rowlimit_open")) {
      assertThat(ids(rs)).hasSize(1);
      assertThat(messages(s.getWarnings()))
          .containsExactly(
              "result truncated to 1 row by policy rule people-capped (max-rows);"
                  + " 49 more rows were not sent");
    }
  }

  @Test
  void copyToStdoutIsCutAtTheLimitInLines() throws Exception {
    try (Connection c = agent("")) {
      CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
      StringWriter text = new StringWriter();
      assertThat(copy.copyOut("COPY (SELECT id FROM rowlimit_big ORDER BY id) TO STDOUT", text))
          .isEqualTo(25);
      assertThat(text.toString().lines()).hasSize(25).endsWith("25");

      StringWriter csv = new StringWriter();
      assertThat(
              copy.copyOut(
                  "COPY (SELECT id FROM rowlimit_big ORDER BY id) TO STDOUT (FORMAT csv, HEADER)",
                  csv))
          .as("the header is a line")
          .isEqualTo(24);
      assertThat(csv.toString().lines()).hasSize(25).startsWith("id").endsWith("24");

      ByteArrayOutputStream binary = new ByteArrayOutputStream();
      assertThat(
              copy.copyOut("COPY (SELECT id FROM rowlimit_big) TO STDOUT (FORMAT binary)", binary))
          .isEqualTo(25);
      byte[] bytes = binary.toByteArray();
      // 19 bytes of header, 25 rows of one int4 field (2 + 4 + 4 bytes), the trailer's -1.
      assertThat(bytes).hasSize(19 + 25 * 10 + 2);
      assertThat(bytes[bytes.length - 2]).isEqualTo((byte) 0xFF);
      assertThat(bytes[bytes.length - 1]).isEqualTo((byte) 0xFF);
    }
  }

  @Test
  void anErrorInABatchDoesNotMoveLimitsOntoLaterStatements() throws Exception {
    String big = "SELECT id FROM rowlimit_big";
    String failsAtRowFive = "SELECT 10 / (id - 5) FROM rowlimit_open";
    String open = "SELECT id FROM rowlimit_open";
    FrontendMessage sync = FrontendMessage.Sync.INSTANCE;
    try (RawClient client = rawAgent()) {
      // All sent before any answer. First batch: limited, failing, limited (skipped).
      client.send(
          parse(big),
          bind(),
          new Execute("", 0),
          parse(failsAtRowFive),
          bind(),
          new Execute("", 0),
          parse(big),
          bind(),
          new Execute("", 0),
          sync,
          parse(open),
          bind(),
          new Execute("", 0),
          sync,
          parse(failsAtRowFive),
          bind(),
          new Execute("", 0),
          sync,
          parse(big),
          bind(),
          new Execute("", 0),
          sync);
      List<BackendMessage> first = client.readUntil(ReadyForQuery.class::isInstance);
      assertThat(rows(first)).isEqualTo(25 + 4);
      assertThat(first).contains(new CommandComplete("SELECT 25"));
      assertThat(first).filteredOn(ErrorResponse.class::isInstance).hasSize(1);

      List<BackendMessage> second = client.readUntil(ReadyForQuery.class::isInstance);
      assertThat(rows(second)).isEqualTo(50);
      assertThat(second)
          .contains(new CommandComplete("SELECT 50"))
          .noneMatch(NoticeResponse.class::isInstance);

      List<BackendMessage> third = client.readUntil(ReadyForQuery.class::isInstance);
      assertThat(rows(third)).isEqualTo(4);
      assertThat(third).filteredOn(ErrorResponse.class::isInstance).hasSize(1);

      List<BackendMessage> fourth = client.readUntil(ReadyForQuery.class::isInstance);
      assertThat(rows(fourth)).isEqualTo(25);
      assertThat(fourth).contains(new CommandComplete("SELECT 25"));
    }
  }
}
