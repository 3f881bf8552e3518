package io.portcullis.node.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.RecordingSocketFactory;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.policy.identity.DevIssuer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.PGConnection;
import org.slf4j.LoggerFactory;

/**
 * No raw protected value reaches the client, whatever the query, protocol or format: each query of
 * the table runs through the gateway over the simple protocol, the extended protocol with text
 * results and the extended protocol with binary results, and every byte the client received is
 * searched for every secret of the schema. Values of unprotected columns arrive unchanged.
 */
class MaskingTest {

  private static final String S = "mask_bank";

  private static final String POLICY =
      """
      default: allow
      masking:
        columns:
          - {id: ssn, columns: [mask_bank.customers.ssn], strategy: partial, keep: 4,
             deny-predicates-for: [contractors]}
          - {id: pan, columns: [mask_bank.cards.pan, mask_bank.cards.pan_number], strategy: partial}
          - {id: iban, columns: [mask_bank.accounts.iban], strategy: hash}
          - {id: email, columns: [mask_bank.customers.email], strategy: redact,
             exempt-groups: [fraud]}
          - {id: profile, columns: [mask_bank.customers.profile], strategy: "null"}
          - {id: payment-ref, columns: [mask_bank.payments.ref], strategy: redact}
        detectors:
          - {id: cards, kind: card, strategy: partial}
          - {id: ssns, kind: ssn, strategy: redact}
          - {id: ibans, kind: iban, strategy: partial}
          - {id: emails, kind: email, strategy: redact, exempt-groups: [fraud]}
          - {id: account-numbers, kind: pattern, pattern: 'ACC-[0-9]{8}', strategy: redact}
      """;

  /** Every value that must never reach a client of the agents' group, in any form. */
  private static final List<String> SECRETS =
      List.of(
          "123-45-6789",
          "123456789",
          "234-56-7891",
          "234567891",
          "4111111111111111",
          "5555-5555-5555-4444",
          "5555555555554444",
          "378282246310005",
          "4012888888881881",
          "DE89370400440532013000",
          "GB82WEST12345698765432",
          "alice.adams@example.com",
          "bob@example.org",
          "ACC-12345678",
          "6011111111111117",
          "4242 4242 4242 4242",
          "4242424242424242",
          "4000056655665556",
          "Maiden-Smith",
          "payref-771199",
          "payref-882200",
          "345-67-8912");

  @TempDir static Path dir;
  private static GatewayNode gateway;
  private static DevIssuer issuer;

  @BeforeAll
  static void start() throws Exception {
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + S + " CASCADE");
      s.execute(
          """
          CREATE SCHEMA mask_bank;
          CREATE TABLE mask_bank.customers (
            id int PRIMARY KEY, name text, ssn text, email text, age int,
            profile jsonb, prefs jsonb, note text);
          CREATE TABLE mask_bank.cards (
            id int PRIMARY KEY, customer_id int, pan varchar(19), pan_number bigint, expiry date);
          CREATE TABLE mask_bank.accounts (
            id int PRIMARY KEY, customer_id int, iban text, account_no text, balance numeric);
          INSERT INTO mask_bank.customers VALUES
            (1, 'Alice Adams', '123-45-6789', 'alice.adams@example.com', 41,
             '{"card": "4111111111111111", "mother": "Maiden-Smith"}',
             '{"backup_card": "4242 4242 4242 4242", "n": 4000056655665556, "lang": "en"}',
             'VIP; backup card 6011111111111117 on file'),
            (2, 'Bob Brown', '234-56-7891', 'bob@example.org', 35, '{}', '{"lang": "fr"}',
             'no notes');
          INSERT INTO mask_bank.cards VALUES
            (1, 1, '4111111111111111', 4012888888881881, '2029-12-31'),
            (2, 1, '5555-5555-5555-4444', NULL, '2028-01-31'),
            (3, 2, '378282246310005', NULL, '2027-06-30');
          INSERT INTO mask_bank.accounts VALUES
            (1, 1, 'DE89370400440532013000', 'ACC-12345678', 1500.25),
            (2, 2, 'GB82WEST12345698765432', 'savings', 20.00);
          CREATE TABLE mask_bank.payments (id int, ref text) PARTITION BY RANGE (id);
          CREATE TABLE mask_bank.payments_low PARTITION OF mask_bank.payments
            FOR VALUES FROM (0) TO (100);
          CREATE TABLE mask_bank.payments_high PARTITION OF mask_bank.payments
            FOR VALUES FROM (100) TO (1000);
          INSERT INTO mask_bank.payments VALUES (1, 'payref-771199'), (500, 'payref-882200');
          CREATE VIEW mask_bank.customer_view AS SELECT id, name, ssn FROM mask_bank.customers;
          CREATE FUNCTION mask_bank.secret_of(int) RETURNS text LANGUAGE plpgsql
            AS $$ BEGIN RETURN (SELECT ssn FROM mask_bank.customers WHERE id = $1); END $$;
          """);
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

  /** How the client talks to the gateway. */
  enum Mode {
    SIMPLE("preferQueryMode=simple"),
    EXTENDED_TEXT("prepareThreshold=1"),
    EXTENDED_BINARY("prepareThreshold=1&binaryTransfer=true&binaryTransferEnable=25,1043,20");

    final String params;

    Mode(String params) {
      this.params = params;
    }
  }

  private static final String ANY = "<any>";
  private static final String NULL = "<null>";

  /** A query, and the first value of its first row as the client must see it. */
  private static Stream<Arguments> queries() {
    List<Arguments> cases = new ArrayList<>();
    String c = S + ".customers";
    String k = S + ".cards";
    String a = S + ".accounts";
    // Columns of protected tables, plain or renamed.
    add(cases, "SELECT ssn FROM " + c + " ORDER BY id", "*******6789");
    add(cases, "SELECT ssn AS x FROM " + c + " ORDER BY id", "*******6789");
    add(cases, "SELECT c.ssn FROM " + c + " c ORDER BY id", "*******6789");
    add(cases, "SELECT * FROM " + c + " ORDER BY id", "1");
    add(cases, "SELECT name, ssn FROM " + c + " ORDER BY id", "Alice Adams");
    add(cases, "SELECT pan FROM " + k + " ORDER BY id", "************1111");
    add(cases, "SELECT iban FROM " + a + " ORDER BY id", ANY);
    add(cases, "SELECT email FROM " + c + " ORDER BY id", "****");
    add(cases, "SELECT profile FROM " + c + " ORDER BY id", NULL);
    add(cases, "SELECT pan_number FROM " + k + " ORDER BY id", NULL);
    add(cases, "SELECT id, name, age FROM " + c + " ORDER BY id", "1");
    add(cases, "SELECT name FROM " + c + " ORDER BY id", "Alice Adams");
    add(cases, "SELECT ssn FROM " + c + " WHERE id = 2", "*******7891");
    add(cases, "SELECT DISTINCT ssn FROM " + c, ANY);
    add(cases, "SELECT ssn FROM " + c + " ORDER BY ssn DESC LIMIT 1", "*******7891");
    add(
        cases,
        "SELECT c.ssn, x.pan FROM " + c + " c JOIN " + k + " x ON x.customer_id = c.id",
        ANY);
    add(cases, "SELECT * FROM " + k + " ORDER BY id", "1");
    add(cases, "SELECT * FROM " + a + " ORDER BY id", "1");
    add(cases, "TABLE " + c, ANY);
    add(cases, "SELECT expiry FROM " + k + " ORDER BY id", "2029-12-31");
    add(cases, "SELECT balance FROM " + a + " ORDER BY id", "1500.25");
    // Computed from protected columns.
    add(cases, "SELECT upper(ssn) FROM " + c + " ORDER BY id", "*******6789");
    add(cases, "SELECT ssn || '' FROM " + c + " ORDER BY id", "*******6789");
    add(cases, "SELECT substr(pan, 1, 6) FROM " + k + " ORDER BY id", "**1111");
    add(cases, "SELECT ssn::varchar FROM " + c + " ORDER BY id", "*******6789");
    add(cases, "SELECT row_to_json(x) FROM " + c + " x ORDER BY id", ANY);
    add(cases, "SELECT x::text FROM " + c + " x ORDER BY id", ANY);
    add(cases, "SELECT to_jsonb(x.*) FROM " + c + " x ORDER BY id", ANY);
    add(cases, "SELECT string_agg(ssn, ',') FROM " + c, ANY);
    add(cases, "SELECT encode(convert_to(ssn, 'UTF8'), 'base64') FROM " + c, ANY);
    add(cases, "SELECT (SELECT ssn FROM " + c + " WHERE id = 1)", "*******6789");
    add(cases, "SELECT s.ssn FROM (SELECT ssn FROM " + c + ") s", ANY);
    add(cases, "SELECT s.x FROM (SELECT ssn AS x FROM " + c + " LIMIT 5) s", ANY);
    add(cases, "WITH x AS (SELECT ssn FROM " + c + ") SELECT * FROM x", ANY);
    add(cases, "WITH x AS MATERIALIZED (SELECT ssn FROM " + c + ") SELECT ssn FROM x", ANY);
    add(cases, "SELECT name FROM " + c + " UNION SELECT ssn FROM " + c, ANY);
    add(cases, "SELECT name FROM " + c + " UNION ALL SELECT ssn FROM " + c, ANY);
    add(cases, "SELECT lower(email) FROM " + c + " ORDER BY id", "****");
    add(cases, "SELECT md5(ssn) FROM " + c + " ORDER BY id", ANY);
    add(cases, "SELECT replace(ssn, '-', '') FROM " + c + " ORDER BY id", "*****6789");
    add(cases, "SELECT reverse(pan) FROM " + k + " ORDER BY id", ANY);
    add(cases, "SELECT array_agg(ssn) FROM " + c, NULL);
    add(cases, "SELECT json_agg(x) FROM " + c + " x", ANY);
    add(cases, "SELECT jsonb_build_object('s', ssn) FROM " + c + " ORDER BY id", ANY);
    add(cases, "SELECT format('%s', ssn) FROM " + c + " ORDER BY id", "*******6789");
    add(cases, "SELECT concat(name, ssn) FROM " + c + " ORDER BY id", ANY);
    add(cases, "SELECT coalesce(ssn, 'none') FROM " + c + " ORDER BY id", "*******6789");
    add(cases, "SELECT CASE WHEN id > 0 THEN ssn END FROM " + c + " ORDER BY id", "*******6789");
    add(cases, "SELECT first_value(ssn) OVER (ORDER BY id) FROM " + c, ANY);
    add(
        cases,
        "SELECT l.p FROM "
            + c
            + " x, LATERAL (SELECT pan AS p FROM "
            + k
            + " WHERE customer_id = x.id) l",
        ANY);
    add(cases, "SELECT ssn FROM " + S + ".customer_view ORDER BY id", "*******6789");
    add(cases, "SELECT * FROM " + S + ".customer_view ORDER BY id", "1");
    add(cases, "SELECT " + S + ".secret_of(1)", ANY);
    add(cases, "SELECT translate(pan, '0123456789', 'abcdefghij') FROM " + k + " ORDER BY id", ANY);
    add(cases, "SELECT regexp_replace(ssn, '-', ' ', 'g') FROM " + c + " ORDER BY id", ANY);
    add(cases, "SELECT ARRAY[ssn] FROM " + c + " ORDER BY id", NULL);
    add(cases, "SELECT ROW(ssn, name) FROM " + c + " ORDER BY id", NULL);
    add(cases, "SELECT length(ssn) FROM " + c + " ORDER BY id", NULL);
    add(cases, "SELECT x FROM " + c + " x ORDER BY id", NULL);
    add(cases, "SELECT to_json(array_agg(pan)) FROM " + k, ANY);
    add(cases, "SELECT jsonb_agg(profile) FROM " + c, ANY);
    add(cases, "SELECT profile->>'card' FROM " + c + " ORDER BY id", NULL);
    add(
        cases,
        "SELECT (SELECT pan FROM " + k + " WHERE customer_id = x.id LIMIT 1) FROM " + c + " x",
        ANY);
    add(cases, "SELECT x.s FROM (SELECT ssn AS s, name FROM " + c + ") x ORDER BY x.name", ANY);
    add(cases, "SELECT iban || '' FROM " + a + " ORDER BY id", ANY);
    // Partitions are protected as their partitioned table.
    add(cases, "SELECT ref FROM " + S + ".payments ORDER BY id", "****");
    add(cases, "SELECT ref FROM " + S + ".payments_low", "****");
    add(cases, "SELECT upper(ref) FROM " + S + ".payments ORDER BY id", "****");
    add(cases, "SELECT upper(ref) FROM " + S + ".payments_high", "****");
    add(cases, "SELECT p FROM " + S + ".payments_low p", NULL);
    // Computed from unprotected columns only: unchanged.
    add(cases, "SELECT count(*) FROM " + c, "2");
    add(cases, "SELECT max(name) FROM " + c, "Bob Brown");
    add(cases, "SELECT upper(name) FROM " + c + " ORDER BY id", "ALICE ADAMS");
    add(
        cases,
        "SELECT x.name FROM (SELECT ssn AS s, name FROM " + c + ") x ORDER BY 1",
        "Alice Adams");
    add(cases, "SELECT age + 1 FROM " + c + " ORDER BY id", "42");
    // Writes that return rows.
    add(cases, "UPDATE " + c + " SET age = age WHERE id = 1 RETURNING ssn", "*******6789");
    add(
        cases,
        "UPDATE " + c + " SET age = age WHERE id = 1 RETURNING upper(ssn), name",
        "*******6789");
    add(
        cases,
        "INSERT INTO " + c + " (id, name, ssn) VALUES (9, 'Temp', '345-67-8912') RETURNING ssn",
        "*******8912");
    add(cases, "DELETE FROM " + c + " WHERE id = 9 RETURNING *", ANY);
    // Content detectors on unprotected values.
    add(cases, "SELECT note FROM " + c + " ORDER BY id", ANY);
    add(cases, "SELECT prefs FROM " + c + " ORDER BY id", ANY);
    add(cases, "SELECT prefs->>'backup_card' FROM " + c + " ORDER BY id", ANY);
    add(cases, "SELECT account_no FROM " + a + " ORDER BY id", "****");
    add(cases, "SELECT 'my card is ' || '4111 1111 ' || '1111 1111'", ANY);
    add(cases, "SELECT ('40128888' || '88881881')::bigint", NULL);
    add(cases, "SELECT 'write to ' || 'bob' || '@example.org'", "write to ****");
    add(cases, "SELECT ARRAY['4111' || '111111111111', 'x']", ANY);
    add(cases, "SELECT 'GB82 WEST ' || '1234 5698 7654 32'", ANY);
    add(cases, "SELECT '123-45-' || '6789'", "****");
    add(cases, "VALUES ('4111' || '111111111111')", ANY);
    add(cases, "SELECT * FROM (VALUES (1, '123-45-' || '6789')) v(a, b)", "1");
    // Errors, notices and notifications carry values too.
    add(cases, "SELECT ssn::int FROM " + c, ANY);
    add(cases, "DO $$ BEGIN RAISE NOTICE 'card %', '4111' || '111111111111'; END $$", ANY);
    add(
        cases,
        "DO $$ BEGIN RAISE EXCEPTION 'refused' USING DETAIL = 'ssn 123-45-' || '6789',"
            + " HINT = 'mail alice.adams' || '@example.com'; END $$",
        ANY);
    add(cases, "SELECT pg_notify('mask_test', 'pan ' || '4111' || '111111111111')", ANY);
    // Cursors.
    add(
        cases,
        "BEGIN; DECLARE m1 CURSOR FOR SELECT ssn, name FROM "
            + c
            + " ORDER BY id;"
            + " FETCH 1 FROM m1; FETCH ALL FROM m1; COMMIT",
        ANY);
    add(
        cases,
        "BEGIN; DECLARE m2 CURSOR FOR SELECT upper(ssn) FROM " + c + "; FETCH ALL FROM m2; COMMIT",
        ANY);
    return cases.stream();
  }

  private static void add(List<Arguments> cases, String sql, String first) {
    for (Mode mode : Mode.values()) {
      cases.add(Arguments.of(mode, sql, first));
    }
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("queries")
  void noSecretReachesTheClient(Mode mode, String sql, String first) throws Exception {
    String recording = UUID.randomUUID().toString();
    List<String> seen = new ArrayList<>();
    try (Connection connection = agent(mode.params, recording)) {
      connection.createStatement().execute("LISTEN mask_test");
      try (Statement statement = connection.createStatement()) {
        boolean rows = statement.execute(sql);
        boolean firstChecked = false;
        while (true) {
          if (rows) {
            try (ResultSet rs = statement.getResultSet()) {
              while (rs.next()) {
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                  seen.add(rs.getString(i));
                }
                if (!firstChecked) {
                  firstChecked = true;
                  if (first != ANY) {
                    assertThat(rs.getString(1))
                        .as("first value")
                        .isEqualTo(first == NULL ? null : first);
                  }
                }
              }
            }
          } else if (statement.getUpdateCount() == -1) {
            break;
          }
          rows = statement.getMoreResults();
        }
        for (SQLWarning w = statement.getWarnings(); w != null; w = w.getNextWarning()) {
          seen.add(w.getMessage());
        }
      } catch (SQLException e) {
        seen.add(e.getMessage());
        seen.add(String.valueOf(e.getCause()));
      }
      // A round trip, so that a notification sent by the statement has arrived.
      connection.createStatement().execute("SELECT 1");
      var notifications = connection.unwrap(PGConnection.class).getNotifications();
      if (notifications != null) {
        for (var n : notifications) {
          seen.add(n.getParameter());
        }
      }
    }
    assertNoSecret(RecordingSocketFactory.take(recording), seen);
  }

  @Test
  void psqlSeesOnlyMaskedValues() throws Exception {
    String c = S + ".customers";
    ProcessBuilder builder =
        new ProcessBuilder(
                "psql",
                "-X",
                "-A",
                "-h",
                "127.0.0.1",
                "-p",
                String.valueOf(gateway.port()),
                "-U",
                "report-bot",
                "-d",
                "main",
                "-v",
                "FETCH_COUNT=1",
                "-c",
                "SELECT * FROM " + c + " ORDER BY id",
                "-c",
                "SELECT upper(ssn), row_to_json(x), note FROM " + c + " x",
                "-c",
                "COPY " + S + ".cards TO STDOUT WITH CSV HEADER",
                "-c",
                "SELECT ssn::int FROM " + c)
            .redirectErrorStream(true);
    builder
        .environment()
        .put(
            "PGPASSWORD",
            issuer.mint("report-bot", Set.of("agents"), true, Duration.ofMinutes(5), "portcullis"));
    Process psql = builder.start();
    psql.getOutputStream().close();
    String output = new String(psql.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(psql.waitFor()).as(output).isEqualTo(1);
    assertThat(output).contains("*******6789", "Alice Adams", "invalid input syntax");
    assertNoSecret(output.getBytes(StandardCharsets.UTF_8), List.of(output));
  }

  @Test
  void fraudInvestigatorsAreExemptFromTheEmailRulesOnlyAndThatIsRecorded() throws Exception {
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    Logger audit = (Logger) LoggerFactory.getLogger("io.portcullis.audit.masking");
    audit.addAppender(events);
    try (Connection connection = connect("ina", Set.of("fraud"), false, "", "ina");
        ResultSet rs =
            connection
                .createStatement()
                .executeQuery("SELECT email, ssn FROM " + S + ".customers ORDER BY id")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("alice.adams@example.com");
      assertThat(rs.getString(2)).isEqualTo("*******6789");
    } finally {
      audit.detachAppender(events);
    }
    assertThat(events.list).hasSize(1);
    assertThat(events.list.get(0).getFormattedMessage())
        .contains(
            "\"subject\":\"ina\"", "\"target\":\"main\"", "\"exemptRules\":[\"email\",\"emails\"]");
  }

  @Test
  void contractorsMaySelectButNotFilterOrSortOnAProtectedColumn() throws Exception {
    try (Connection connection = connect("carl", Set.of("contractors"), false, "", "carl");
        Statement statement = connection.createStatement()) {
      assertThatThrownBy(
              () ->
                  statement.executeQuery(
                      "SELECT name FROM " + S + ".customers WHERE ssn LIKE '123%'"))
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("42501");
                assertThat(e.getMessage()).contains("masking rule ssn");
              });
      assertThatThrownBy(
              () -> statement.executeQuery("SELECT name FROM " + S + ".customers ORDER BY ssn"))
          .isInstanceOf(SQLException.class);
      try (ResultSet rs =
          statement.executeQuery("SELECT ssn FROM " + S + ".customers ORDER BY id")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("*******6789");
      }
    }
    try (Connection connection = agent("", "not-a-contractor");
        ResultSet rs =
            connection
                .createStatement()
                .executeQuery("SELECT name FROM " + S + ".customers WHERE ssn LIKE '123%'")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("Alice Adams");
    }
  }

  @Test
  void hashedValuesAreStableSoJoinsStillWork() throws Exception {
    try (Connection connection = agent("", "hash");
        ResultSet rs =
            connection
                .createStatement()
                .executeQuery(
                    "SELECT iban FROM "
                        + S
                        + ".accounts UNION ALL SELECT iban FROM "
                        + S
                        + ".accounts WHERE id = 1 ORDER BY 1")) {
      List<String> hashes = new ArrayList<>();
      while (rs.next()) {
        hashes.add(rs.getString(1));
      }
      assertThat(hashes).hasSize(3).allMatch(h -> h.startsWith("h:"));
      assertThat(Set.copyOf(hashes)).hasSize(2);
    }
  }

  @Test
  void portalsFetchedInPiecesAreMasked() throws Exception {
    String recording = UUID.randomUUID().toString();
    List<String> seen = new ArrayList<>();
    try (Connection connection = agent("prepareThreshold=1", recording)) {
      connection.setAutoCommit(false);
      try (Statement statement = connection.createStatement()) {
        statement.setFetchSize(1);
        try (ResultSet rs =
            statement.executeQuery("SELECT ssn, upper(ssn), name FROM " + S + ".customers")) {
          while (rs.next()) {
            seen.add(rs.getString(1));
            seen.add(rs.getString(2));
            assertThat(rs.getString(1)).startsWith("*******");
          }
        }
      }
      connection.commit();
    }
    assertThat(seen).hasSize(4);
    assertNoSecret(RecordingSocketFactory.take(recording), seen);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("copies")
  void copyRowsAreMasked(String sql) throws Exception {
    String recording = UUID.randomUUID().toString();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (Connection connection = agent("", recording)) {
      connection.unwrap(PGConnection.class).getCopyAPI().copyOut(sql, out);
    }
    assertThat(out.size()).isPositive();
    assertNoSecret(
        RecordingSocketFactory.take(recording), List.of(out.toString(StandardCharsets.UTF_8)));
  }

  private static Stream<String> copies() {
    String c = S + ".customers";
    return Stream.of(
        "COPY " + c + " TO STDOUT",
        "COPY " + c + " TO STDOUT WITH (FORMAT csv, HEADER)",
        "COPY " + c + " TO STDOUT WITH CSV DELIMITER ';'",
        "COPY " + c + " TO STDOUT (FORMAT binary)",
        "COPY " + c + " (ssn, name) TO STDOUT",
        "COPY " + S + ".cards TO STDOUT",
        "COPY " + S + ".accounts TO STDOUT (FORMAT csv)",
        "COPY (SELECT upper(ssn), name, note FROM " + c + ") TO STDOUT",
        "COPY (SELECT pan FROM " + S + ".cards) TO STDOUT (FORMAT csv)",
        "COPY (SELECT ssn, prefs FROM " + c + ") TO STDOUT (FORMAT binary)");
  }

  @Test
  void copyKeepsUnprotectedValuesAndMasksProtectedOnes() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (Connection connection = agent("", "copy-values")) {
      connection
          .unwrap(PGConnection.class)
          .getCopyAPI()
          .copyOut("COPY " + S + ".customers (id, name, ssn) TO STDOUT (FORMAT csv)", out);
    }
    assertThat(out.toString(StandardCharsets.UTF_8).lines())
        .containsExactlyInAnyOrder("1,Alice Adams,*******6789", "2,Bob Brown,*******7891");
  }

  private static void assertNoSecret(byte[] received, List<String> decoded) {
    String raw = new String(received, StandardCharsets.ISO_8859_1);
    assertThat(received).as("bytes recorded").isNotEmpty();
    for (String secret : SECRETS) {
      assertThat(raw).as("raw bytes received").doesNotContain(secret);
      for (String value : decoded) {
        if (value != null) {
          assertThat(value).as("a decoded value").doesNotContain(secret);
        }
      }
    }
  }

  private static Connection agent(String params, String recording) throws SQLException {
    return connect("report-bot", Set.of("agents"), true, params, recording);
  }

  private static Connection connect(
      String user, Set<String> groups, boolean agent, String params, String recording)
      throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty(
        "password", issuer.mint(user, groups, agent, Duration.ofMinutes(5), "portcullis"));
    props.setProperty("socketFactory", RecordingSocketFactory.class.getName());
    props.setProperty("socketFactoryArg", recording);
    return DriverManager.getConnection(TestGateway.jdbcUrl(gateway, params), props);
  }
}
