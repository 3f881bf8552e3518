package io.portcullis.node.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.ClientTranscript;
import io.portcullis.node.testing.RawClient;
import io.portcullis.node.testing.RecordingSocketFactory;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.policy.identity.DevIssuer;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.DataRow;
import io.portcullis.protocol.FrontendMessage.Bind;
import io.portcullis.protocol.FrontendMessage.Close;
import io.portcullis.protocol.FrontendMessage.Describe;
import io.portcullis.protocol.FrontendMessage.Execute;
import io.portcullis.protocol.FrontendMessage.FunctionCall;
import io.portcullis.protocol.FrontendMessage.Parse;
import io.portcullis.protocol.FrontendMessage.Query;
import io.portcullis.protocol.FrontendMessage.Sync;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
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
import org.junit.jupiter.params.provider.ValueSource;
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
          - {id: tax-id, columns: [mask_bank.staff.tax_id, mask_bank.staff2.tax_id], strategy: redact}
          - {id: memo, columns: [mask_bank.ledger.memo], strategy: redact}
          - {id: vault, columns: ['mask_bank."Vault"."Secret"'], strategy: redact}
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
          "345-67-8912",
          "TAXID-7731",
          "memo-secret-5150",
          "vault-secret-42");

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
          -- Schema features a DBA may use.
          CREATE MATERIALIZED VIEW mask_bank.customer_mv AS
            SELECT id, ssn, profile FROM mask_bank.customers;
          CREATE TABLE mask_bank.staff (
            id int, badge int GENERATED ALWAYS AS (id * 10) STORED, tax_id text);
          INSERT INTO mask_bank.staff (id, tax_id) VALUES (1, 'TAXID-7731');
          CREATE TABLE mask_bank.staff2 (id int, junk int, tax_id text);
          ALTER TABLE mask_bank.staff2 DROP COLUMN junk;
          INSERT INTO mask_bank.staff2 VALUES (1, 'TAXID-7731');
          CREATE TABLE mask_bank.ledger (id int, memo text);
          CREATE TABLE mask_bank.ledger_2024 () INHERITS (mask_bank.ledger);
          INSERT INTO mask_bank.ledger_2024 VALUES (1, 'memo-secret-5150');
          DROP TABLE IF EXISTS public.customers;
          CREATE TABLE mask_bank."Vault" (id int, "Secret" text);
          INSERT INTO mask_bank."Vault" VALUES (1, 'vault-secret-42');
          CREATE FUNCTION mask_bank.all_ssns() RETURNS SETOF text LANGUAGE sql
            AS $$ SELECT replace(ssn, '-', '') FROM mask_bank.customers $$;
          DO $do$ BEGIN EXECUTE $f$CREATE FUNCTION mask_bank.all_ssns_atomic()
            RETURNS SETOF text LANGUAGE sql
            BEGIN ATOMIC SELECT replace(ssn, '-', '') FROM mask_bank.customers; END$f$; END $do$;
          SELECT lo_unlink(oid) FROM pg_largeobject_metadata WHERE oid = 424242;
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
    EXTENDED_BINARY("prepareThreshold=1&binaryTransfer=true&binaryTransferEnable=25,1043,20"),
    // Binary for every type pgjdbc can take in binary.
    EXTENDED_BINARY_MORE(
        "prepareThreshold=1&binaryTransfer=true"
            + "&binaryTransferEnable=25,1043,1042,19,18,20,114,3802,1009,1015,1014,142,1700,17,2249,3807,1003");

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
        "INSERT INTO "
            + c
            + " (id, name, ssn) VALUES (9, 'Temp', '345-67-8912')"
            + " ON CONFLICT (id) DO UPDATE SET name = excluded.name RETURNING ssn",
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
    List<String> firstRow;
    try (Connection connection = agent(mode.params, recording)) {
      connection.createStatement().execute("LISTEN mask_test");
      firstRow = ClientTranscript.run(connection, new String[] {sql}, seen);
    }
    if (first != ANY) {
      assertThat(firstRow).as("first row").isNotEmpty();
      assertThat(firstRow.get(0)).as("first value").isEqualTo(first == NULL ? null : first);
    }
    assertNoSecret(RecordingSocketFactory.take(recording), seen);
  }

  @Test
  void psqlSeesOnlyMaskedValues() throws Exception {
    String c = S + ".customers";
    String output =
        psql(
            "SELECT * FROM " + c + " ORDER BY id",
            "SELECT upper(ssn), row_to_json(x), note FROM " + c + " x",
            "COPY " + S + ".cards TO STDOUT WITH CSV HEADER",
            "SELECT ssn::int FROM " + c);
    assertThat(output).contains("*******6789", "Alice Adams", "invalid input syntax");
    assertNoSecret(output.getBytes(StandardCharsets.UTF_8), List.of(output));
  }

  @Test
  void aPreparedStatementRunManyTimesIsMaskedTheSameEveryTime() throws Exception {
    // From its fifth run pgjdbc prepares the statement by name and describes only the portal;
    // from the sixth it binds and executes without any Describe.
    try (Connection connection = agent("prepareThreshold=5", "prepared-runs");
        var query =
            connection.prepareStatement(
                "SELECT name, ssn FROM " + S + ".customers WHERE id = ? ORDER BY id")) {
      for (int run = 1; run <= 8; run++) {
        query.setInt(1, 1);
        try (ResultSet rs = query.executeQuery()) {
          assertThat(rs.next()).as("run " + run).isTrue();
          assertThat(rs.getString(1)).as("run " + run).isEqualTo("Alice Adams");
          assertThat(rs.getString(2)).as("run " + run).isEqualTo("*******6789");
        }
      }
    }
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
  void protectedValuesCannotBeCopiedIntoAnotherTable() throws Exception {
    try (Connection connection = agent("", "copy-into");
        Statement statement = connection.createStatement()) {
      assertThatThrownBy(
              () ->
                  statement.execute(
                      "CREATE TEMP TABLE copied AS SELECT ssn FROM " + S + ".customers"))
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("42501");
                assertThat(e.getMessage()).contains("may not be copied where no rule masks them");
              });
    }
    RecordingSocketFactory.take("copy-into");
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
  @MethodSource({"copies", "moreCopies"})
  void copyRowsAreMasked(String sql) throws Exception {
    String recording = UUID.randomUUID().toString();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (Connection connection = agent("", recording)) {
      connection.unwrap(PGConnection.class).getCopyAPI().copyOut(sql, out);
    }
    assertThat(out.size()).isPositive();
    assertNoSecret(
        RecordingSocketFactory.take(recording), List.of(out.toString(StandardCharsets.ISO_8859_1)));
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

  // ================================================================== attacks
  //
  // Each attack is a script: statements run in order on one connection, in each mode; every byte
  // the client receives must be free of every secret.

  private static Stream<Arguments> attacks() {
    List<Arguments> cases = new ArrayList<>();
    String c = S + ".customers";
    // A reported setting (ParameterStatus) set from a protected value.
    probe(
        cases,
        "SELECT set_config('application_name', replace(ssn, '-', ''), false) FROM "
            + c
            + " WHERE id = 1");
    probe(
        cases,
        "DO $$ BEGIN PERFORM set_config('application_name', (SELECT ssn FROM "
            + c
            + " WHERE id = 1), false); END $$");
    // Every text field of an error or notice: column, table, schema, type, constraint names.
    probe(
        cases,
        "DO $$ BEGIN RAISE EXCEPTION 'refused' USING COLUMN = (SELECT ssn FROM "
            + c
            + " WHERE id = 1); END $$");
    probe(
        cases,
        "DO $$ BEGIN RAISE NOTICE 'note' USING TABLE = (SELECT email FROM "
            + c
            + " WHERE id = 1), SCHEMA = (SELECT ssn FROM "
            + c
            + " WHERE id = 2); END $$");
    // A notification's channel name, not only its payload.
    probe(
        cases,
        "DO $$ DECLARE s text := (SELECT ssn FROM "
            + c
            + " WHERE id = 1); BEGIN EXECUTE format('LISTEN %I', s);"
            + " PERFORM pg_notify(s, 'hello'); END $$");
    // Column names made from data.
    probe(
        cases,
        "DO $$ BEGIN EXECUTE format('CREATE TEMP VIEW leak_cols AS SELECT 1 AS %I', (SELECT ssn FROM "
            + c
            + " WHERE id = 1)); END $$",
        "SELECT * FROM leak_cols");
    // Session state that holds a protected value: a setting, read back by name.
    probe(
        cases,
        "SELECT set_config('x.leak', replace(ssn, '-', ''), false) IS NOT NULL,"
            + " current_setting('x.leak') FROM "
            + c
            + " WHERE id = 1");
    probe(
        cases,
        "SELECT set_config('x.leak', replace(ssn, '-', ''), false) FROM " + c + " WHERE id = 1",
        "SHOW x.leak");
    // Rows a rewrite rule makes an INSERT return.
    probe(
        cases,
        "CREATE TEMP TABLE decoy (x int)",
        "CREATE RULE decoy_r AS ON INSERT TO decoy DO INSTEAD SELECT replace(ssn, '-', '') AS s"
            + " FROM "
            + c,
        "INSERT INTO decoy VALUES (1)");
    // Built-ins that run SQL given as text, where the analysis sees no table.
    probe(
        cases,
        "SELECT query_to_xml('SELECT replace(ssn, ''-'', '''') AS s FROM "
            + c
            + "', false, false, '')");
    probe(cases, "SELECT table_to_xml('" + S + ".payments_low', false, false, '')");
    probe(
        cases,
        "SELECT word FROM ts_stat('SELECT to_tsvector(''simple'', replace(ssn, ''-'', '''')) FROM "
            + c
            + "')");
    // A materialized view over a protected table (made by the DBA).
    probe(cases, "SELECT profile FROM " + S + ".customer_mv ORDER BY id");
    probe(cases, "SELECT replace(ssn, '-', '') FROM " + S + ".customer_mv ORDER BY id");
    // Records, jsonb[], tsvector and name[] values pass the detectors too.
    probe(cases, "SELECT ROW(note) FROM " + c + " ORDER BY id");
    probe(cases, "SELECT ARRAY[prefs] FROM " + c + " ORDER BY id");
    probe(cases, "SELECT to_tsvector('simple', note) FROM " + c + " ORDER BY id");
    probe(cases, "SELECT ARRAY[note]::name[] FROM " + c + " ORDER BY id");
    // A cursor or prepared statement declared again later in the same query: each FETCH or
    // EXECUTE returns what was declared when it ran.
    probe(
        cases,
        "BEGIN; DECLARE m3 CURSOR FOR SELECT replace(ssn, '-', '') FROM "
            + c
            + "; FETCH ALL FROM m3; CLOSE m3; DECLARE m3 CURSOR FOR SELECT 'x'::text; COMMIT");
    probe(
        cases,
        "PREPARE p1 AS SELECT replace(ssn, '-', '') FROM "
            + c
            + "; EXECUTE p1; DEALLOCATE p1; PREPARE p1 AS SELECT 'x'::text; DEALLOCATE p1");
    // FETCH names its cursor exactly, whatever other names appear in its text.
    probe(
        cases,
        "PREPARE e AS SELECT 'x'::text",
        "BEGIN",
        "DECLARE secret CURSOR FOR SELECT replace(ssn, '-', '') FROM " + c,
        "FETCH ALL FROM secret",
        "COMMIT");
    // A PL/pgSQL function's result: no plan says what it read.
    probe(cases, "SELECT replace(" + S + ".secret_of(1), '-', '')");
    // A SQL function (string body, and BEGIN ATOMIC) returning a protected column.
    probe(cases, "SELECT " + S + ".all_ssns()");
    probe(cases, "SELECT " + S + ".all_ssns_atomic()");
    probe(cases, "SELECT * FROM " + S + ".all_ssns()");
    // A view created through the gateway and read at once, before the catalog is read again.
    probe(
        cases,
        "CREATE VIEW " + S + ".agent_v AS SELECT replace(ssn, '-', '') AS s FROM " + c,
        "SELECT s FROM " + S + ".agent_v",
        "DROP VIEW " + S + ".agent_v");
    // Copies into places no rule names (a new table, a large object).
    probe(
        cases,
        "CREATE TEMP TABLE t_ctas AS SELECT replace(ssn, '-', '') AS s, profile FROM " + c,
        "SELECT * FROM t_ctas");
    probe(
        cases,
        "SELECT lo_from_bytea(424242, convert_to(replace(ssn, '-', ''), 'UTF8')) FROM "
            + c
            + " WHERE id = 1",
        "SELECT convert_from(lo_get(424242), 'UTF8')",
        "SELECT lo_unlink(424242)");
    // Quoted, case-sensitive names.
    probe(cases, "SELECT \"Secret\" FROM " + S + ".\"Vault\"");
    probe(cases, "SELECT \"Secret\" || '' FROM " + S + ".\"Vault\"");
    // A child table (INHERITS) of a protected table.
    probe(cases, "SELECT memo FROM " + S + ".ledger_2024");
    return cases.stream();
  }

  private static void probe(List<Arguments> cases, String... script) {
    for (Mode mode : Mode.values()) {
      cases.add(Arguments.of(mode, String.join("  ⏎  ", script), script));
    }
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource({"attacks", "paths"})
  void noScriptRevealsASecret(Mode mode, String label, String[] script) throws Exception {
    String recording = UUID.randomUUID().toString();
    List<String> seen = new ArrayList<>();
    try (Connection connection = agent(mode.params, recording)) {
      ClientTranscript.run(connection, script, seen);
    }
    byte[] received = RecordingSocketFactory.take(recording);
    try {
      assertNoSecret(received, seen);
    } catch (AssertionError e) {
      throw new AssertionError(
          mode + " | " + label + " | " + ClientTranscript.secretsSeen(SECRETS, received, List.of()),
          e);
    }
  }

  /** Other paths rows can take. */
  private static Stream<Arguments> paths() {
    List<Arguments> cases = new ArrayList<>();
    String c = S + ".customers";
    String r = "replace(ssn, '-', '')";
    probe(
        cases,
        "WITH u AS (UPDATE "
            + c
            + " SET age = age WHERE id = 1 RETURNING ssn) SELECT "
            + r
            + " FROM u");
    probe(
        cases,
        "INSERT INTO "
            + c
            + " (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE"
            + " SET age = "
            + c
            + ".age RETURNING "
            + r
            + ", profile::text");
    probe(
        cases,
        "BEGIN",
        "INSERT INTO "
            + c
            + " (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE"
            + " SET note = excluded.name || ssn RETURNING note",
        "ROLLBACK");
    probe(
        cases,
        "MERGE INTO "
            + c
            + " t USING (SELECT 1 AS id) s ON t.id = s.id"
            + " WHEN MATCHED THEN UPDATE SET age = t.age");
    probe(cases, "SELECT string_to_array(ssn, '-') FROM " + c);
    probe(cases, "SELECT array_to_string(string_to_array(ssn, '-'), '') FROM " + c);
    probe(cases, "SELECT u FROM " + c + " x, unnest(ARRAY[" + r + "]) u");
    probe(cases, "SELECT unnest(ARRAY[" + r + "]) FROM " + c);
    probe(cases, "SELECT value FROM " + c + ", jsonb_each_text(profile)");
    probe(cases, "SELECT string_agg(t, '') FROM " + c + ", regexp_split_to_table(ssn, '') t");
    probe(
        cases,
        "SELECT j.ssn FROM " + c + " x, json_populate_record(NULL::" + c + ", row_to_json(x)) j");
    probe(
        cases,
        "SELECT (json_populate_record(NULL::"
            + c
            + ", row_to_json(x))).profile::text FROM "
            + c
            + " x");
    probe(cases, "SELECT format('%s', x) FROM " + c + " x");
    probe(cases, "SELECT lag(" + r + ") OVER (ORDER BY id) FROM " + c);
    probe(cases, "SELECT max(" + r + ") FILTER (WHERE id > 0) FROM " + c);
    probe(cases, "SELECT " + r + " FROM ONLY " + c);
    probe(cases, "SELECT " + r + " FROM " + c + " TABLESAMPLE SYSTEM (100)");
    probe(cases, "SELECT " + r + " FROM \"mask_bank\".\"customers\"");
    probe(cases, "SELECT " + r + " FROM MASK_BANK.CUSTOMERS");
    probe(cases, "SELECT " + r + " FROM mask_bank . customers");
    probe(cases, "SELECT " + r + " FROM mask_bank/**/.customers");
    probe(cases, "SELECT " + r + "::int FROM " + c);
    probe(cases, "SELECT ssn::date FROM " + c);
    probe(cases, "SELECT to_number(ssn, '999-99-9999') FROM " + c);
    probe(cases, "EXPLAIN (ANALYZE, VERBOSE) SELECT " + r + " FROM " + c);
    probe(
        cases,
        "BEGIN",
        "DECLARE h CURSOR WITH HOLD FOR SELECT " + r + ", profile::text FROM " + c,
        "COMMIT",
        "MOVE 1 IN h",
        "FETCH ALL FROM h",
        "FETCH BACKWARD 1 FROM h",
        "CLOSE h");
    probe(
        cases,
        "BEGIN",
        "DECLARE x2 SCROLL CURSOR FOR SELECT " + r + " FROM " + c,
        "FETCH ABSOLUTE 2 FROM x2",
        "FETCH PRIOR FROM x2",
        "COMMIT");
    probe(cases, "PREPARE q1 AS SELECT " + r + " FROM " + c, "EXECUTE q1", "EXPLAIN EXECUTE q1");
    probe(
        cases, "PREPARE q2(int) AS SELECT " + r + " FROM " + c + " WHERE id = $1", "EXECUTE q2(1)");
    probe(cases, "SELECT name FROM " + c + "; SELECT " + r + " FROM " + c + "; SELECT 'x'");
    probe(cases, "SELECT 'x'; SELECT " + r + " FROM " + c + "; SELECT name FROM " + c);
    probe(cases, "SELECT repeat('x', 200000) || " + r + ", NULL::text, ssn FROM " + c);
    probe(
        cases,
        "CREATE TEMP VIEW sb WITH (security_barrier) AS SELECT " + r + " AS s FROM " + c,
        "SELECT pg_sleep(1)",
        "SELECT s FROM sb");
    probe(cases, "SELECT (SELECT " + r + " FROM " + c + " WHERE id = 1) AS a, 1 AS b");
    probe(cases, "SELECT x FROM (VALUES ((SELECT " + r + " FROM " + c + " LIMIT 1))) v(x)");
    probe(
        cases,
        "WITH RECURSIVE w(s, n) AS (SELECT "
            + r
            + ", 1 FROM "
            + c
            + " UNION ALL SELECT s, n + 1 FROM w WHERE n < 2) SELECT s FROM w");
    probe(cases, "SELECT xmlelement(name a, " + r + ")::text FROM " + c);
    probe(
        cases,
        "SELECT * FROM XMLTABLE('/a' PASSING xmlelement(name a, (SELECT "
            + r
            + " FROM "
            + c
            + " LIMIT 1)) COLUMNS v text PATH '.')");
    probe(cases, "DO $$ BEGIN RAISE NOTICE '%', (SELECT ssn FROM " + c + " WHERE id = 1); END $$");
    probe(cases, "SELECT pg_notify('mask_test', ssn) FROM " + c);
    // Refused by the policy stage (its parser does not read SELECT ... INTO TEMP).
    probe(cases, "SELECT ssn, profile INTO TEMP t_into FROM " + c, "SELECT * FROM t_into");
    return cases.stream();
  }

  // A search_path under which the gateway's own plans would find a decoy table of the same name.
  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void aSearchPathThatShadowsTablesStillMasks(Mode mode) throws Exception {
    String recording = UUID.randomUUID().toString();
    List<String> seen = new ArrayList<>();
    try (Connection connection = agent(mode.params, recording)) {
      ClientTranscript.run(
          connection,
          new String[] {
            "CREATE TABLE IF NOT EXISTS public.customers (id int, ssn text, profile jsonb)",
            "SET search_path = mask_bank, public",
            "SELECT replace(ssn, '-', ''), profile::text FROM customers ORDER BY id",
            "DROP TABLE public.customers"
          },
          seen);
    }
    assertNoSecret(RecordingSocketFactory.take(recording), seen);
  }

  private static Stream<Mode> modes() {
    return Stream.of(Mode.values());
  }

  // COPY of an unqualified table under a changed search_path.
  @Test
  void copyOfAnUnqualifiedTableUnderSearchPath() throws Exception {
    String recording = UUID.randomUUID().toString();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (Connection connection = agent("", recording);
        Statement s = connection.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS public.customers (id int, name text, ssn text, email text,"
              + " age int, profile jsonb, prefs jsonb, note text)");
      s.execute("SET search_path = mask_bank, public");
      Thread.sleep(1500); // the gateway reads its catalog again 300 ms after DDL
      try {
        connection.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY customers TO STDOUT", out);
      } finally {
        s.execute("DROP TABLE public.customers");
      }
    }
    assertNoSecret(
        RecordingSocketFactory.take(recording), List.of(out.toString(StandardCharsets.UTF_8)));
  }

  // COPY paths.
  private static Stream<String> moreCopies() {
    String c = S + ".customers";
    return Stream.of(
        // a partition of a protected partitioned table
        "COPY " + S + ".payments_low TO STDOUT",
        // a generated column before the protected one, which COPY leaves out
        "COPY " + S + ".staff TO STDOUT",
        "COPY " + S + ".ledger_2024 TO STDOUT",
        "COPY " + S + ".\"Vault\" TO STDOUT",
        "COPY (SELECT replace(" + S + ".secret_of(1), '-', '')) TO STDOUT",
        "COPY " + S + ".staff2 TO STDOUT",
        "COPY " + S + ".staff2 TO STDOUT (FORMAT binary)",
        "COPY " + c + " TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *, HEADER)",
        "COPY " + c + " TO STDOUT WITH (FORMAT csv, QUOTE '''', ESCAPE '\\', NULL 'nul')",
        "COPY " + c + " TO STDOUT WITH (DELIMITER E'\\x01', NULL '')",
        "COPY " + c + " TO STDOUT CSV DELIMITER AS '|' QUOTE AS '\"' FORCE QUOTE ssn, profile",
        "COPY " + c + " (profile, id, ssn) TO STDOUT",
        "COPY " + c + "(ssn) TO STDOUT",
        "copy MASK_BANK.CUSTOMERS to stdout",
        "COPY \"mask_bank\".\"customers\" TO STDOUT",
        "COPY (SELECT replace(ssn, '-', ''), profile FROM " + c + ") TO STDOUT (FORMAT binary)",
        "COPY (SELECT * FROM " + S + ".customer_view) TO STDOUT (FORMAT csv)",
        "COPY (WITH x AS (SELECT ssn FROM "
            + c
            + ") SELECT replace(ssn, '-', '') FROM x) TO STDOUT");
  }

  /** A COPY in an encoding other than UTF8 ends the session rather than pass unmasked rows. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "COPY (SELECT '表'::text, replace(ssn, '-', '') FROM mask_bank.customers) TO STDOUT"
            + " (ENCODING 'SJIS')",
        "COPY (SELECT replace(ssn, '-', '') FROM mask_bank.customers) TO STDOUT (ENCODING 'LATIN1')"
      })
  void copyInAnotherEncodingIsRefused(String sql) throws Exception {
    String recording = UUID.randomUUID().toString();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (Connection connection = agent("", recording)) {
      assertThatThrownBy(() -> connection.unwrap(PGConnection.class).getCopyAPI().copyOut(sql, out))
          .isInstanceOf(SQLException.class);
    }
    byte[] received = RecordingSocketFactory.take(recording);
    assertThat(new String(received, StandardCharsets.UTF_8))
        .contains("masks COPY output in UTF8 only");
    assertNoSecret(received, List.of(out.toString(StandardCharsets.ISO_8859_1)));
  }

  // ---------------------------------------------------------------- psql

  private static String psql(String... commands) throws Exception {
    return psql(true, commands);
  }

  private static String psql(boolean fetchCount, String... commands) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
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
                "FETCH_COUNT=" + (fetchCount ? 1 : 0)));
    for (String command : commands) {
      args.add("-c");
      args.add(command);
    }
    ProcessBuilder builder = new ProcessBuilder(args).redirectErrorStream(true);
    builder
        .environment()
        .put(
            "PGPASSWORD",
            issuer.mint("report-bot", Set.of("agents"), true, Duration.ofMinutes(5), "portcullis"));
    Process psql = builder.start();
    psql.getOutputStream().close();
    String output = new String(psql.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    psql.waitFor();
    return output;
  }

  // Via psql: with FETCH_COUNT psql reads every SELECT through _psql_cursor, and an earlier
  // statement named "c" (a part of that name) must not stand in for it.
  @Test
  void psqlFetchCountWithAnEarlierPreparedStatement() throws Exception {
    String output =
        psql(
            "PREPARE c AS SELECT 'x'::text",
            "SELECT replace(ssn, '-', '') FROM " + S + ".customers ORDER BY id");
    assertNoSecret(output.getBytes(StandardCharsets.UTF_8), List.of(output));
  }

  // Via psql.
  @Test
  void psqlRedeclaredCursor() throws Exception {
    String output =
        psql(
            "BEGIN; DECLARE m3 CURSOR FOR SELECT replace(ssn, '-', '') FROM "
                + S
                + ".customers; FETCH ALL FROM m3; CLOSE m3;"
                + " DECLARE m3 CURSOR FOR SELECT 'x'::text; COMMIT");
    assertNoSecret(output.getBytes(StandardCharsets.UTF_8), List.of(output));
  }

  // Via psql.
  @Test
  void psqlStandardConformingStringsOff() throws Exception {
    String output =
        psql(
            false,
            "SET standard_conforming_strings = off",
            "SELECT 'x\\'; SELECT now()::text; --' AS a\n; SELECT replace(ssn, '-', '') FROM "
                + S
                + ".customers ORDER BY id");
    assertNoSecret(output.getBytes(StandardCharsets.UTF_8), List.of(output));
  }

  // ---------------------------------------------------------------- at the protocol level

  private static RawClient rawAgent() throws Exception {
    return ClientTranscript.rawClient(
        gateway.port(),
        "report-bot",
        issuer.mint("report-bot", Set.of("agents"), true, Duration.ofMinutes(5), "portcullis"));
  }

  // standard_conforming_strings off: the query is split into statements as the server splits it.
  @Test
  void statementsAreSplitAsTheSessionsStringsSetting() throws Exception {
    try (RawClient client = rawAgent()) {
      client.send(new Query("SET standard_conforming_strings = off"));
      ClientTranscript.untilReady(client, 1);
      client.send(
          new Query(
              "SELECT 'x\\'; SELECT now()::text; --' AS a\n; SELECT replace(ssn, '-', '') FROM "
                  + S
                  + ".customers ORDER BY id"));
      List<BackendMessage> received = ClientTranscript.untilReady(client, 1);
      assertNoSecret(ClientTranscript.bytesOf(received), List.of(String.valueOf(received)));
    }
  }

  // A portal keeps the statement it was bound to, whatever the name is used for afterwards.
  @Test
  void portalExecutedAfterItsStatementNameIsReused() throws Exception {
    try (RawClient client = rawAgent()) {
      client.send(
          new Parse("s", "SELECT replace(ssn, '-', '') FROM " + S + ".customers", new int[0]),
          new Describe('S', "s"),
          new Bind("p", "s", new short[0], new byte[0][], new short[0]),
          new Close('S', "s"),
          new Parse("s", "SELECT 'x'::text", new int[0]),
          new Describe('S', "s"),
          new Execute("p", 0),
          Sync.INSTANCE);
      List<BackendMessage> received = ClientTranscript.untilReady(client, 1);
      assertThat(received).anyMatch(DataRow.class::isInstance);
      assertNoSecret(ClientTranscript.bytesOf(received), List.of(String.valueOf(received)));
    }
  }

  // A fast-path call pipelined ahead of queries leaves the later results matched to theirs.
  @Test
  void fastPathCallPipelinedWithQueries() throws Exception {
    try (RawClient client = rawAgent()) {
      int pgBackendPid = 2026; // pg_backend_pid()
      client.send(
          new FunctionCall(pgBackendPid, new short[0], new byte[0][], (short) 0),
          new Query("SELECT replace(ssn, '-', '') FROM " + S + ".customers ORDER BY id"),
          new Query("SELECT 'x'::text"));
      List<BackendMessage> received = ClientTranscript.untilReady(client, 3);
      assertThat(received).anyMatch(DataRow.class::isInstance);
      assertNoSecret(ClientTranscript.bytesOf(received), List.of(String.valueOf(received)));
    }
  }

  // ---------------------------------------------------------------- legitimate queries

  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void explainOfAQueryOnAProtectedTableIsReadable(Mode mode) throws Exception {
    try (Connection connection = agent(mode.params, "explain");
        ResultSet rs =
            connection
                .createStatement()
                .executeQuery("EXPLAIN SELECT name FROM " + S + ".customers")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).startsWith("Seq Scan on customers");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void pipelinedFastPathDoesNotBreakLaterResults(Mode mode) throws Exception {
    try (RawClient client = rawAgent()) {
      client.send(
          new FunctionCall(2026, new short[0], new byte[0][], (short) 0),
          new Query("SELECT name FROM " + S + ".customers ORDER BY id"));
      List<BackendMessage> received = ClientTranscript.untilReady(client, 2);
      DataRow first =
          (DataRow) received.stream().filter(DataRow.class::isInstance).findFirst().orElseThrow();
      assertThat(new String(first.values()[0], StandardCharsets.UTF_8)).isEqualTo("Alice Adams");
    }
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
