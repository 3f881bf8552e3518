package io.portcullis.node.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.ClientTranscript;
import io.portcullis.node.testing.RawClient;
import io.portcullis.node.testing.RecordingSocketFactory;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.policy.identity.DevIssuer;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.FrontendMessage.Bind;
import io.portcullis.protocol.FrontendMessage.Describe;
import io.portcullis.protocol.FrontendMessage.Execute;
import io.portcullis.protocol.FrontendMessage.Parse;
import io.portcullis.protocol.FrontendMessage.Query;
import io.portcullis.protocol.FrontendMessage.Sync;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.util.PSQLException;

/**
 * Ways around masking found in review: each script runs through two gateways (the masking policy
 * with content detectors, as in {@link MaskingTest}, and the same column rules without detectors,
 * so that a gap in lineage is not hidden by a detector that happens to recognise the test value) in
 * each client mode, and fails naming every place a protected value was seen. Values are mostly read
 * as {@code replace(ssn, '-', '')}: nine bare digits, which no detector recognises. What remains
 * open is listed in docs/masking.md, section 7.
 */
class MaskingBypassTest {

  private static final String S = "probe_bank";
  private static final String C = S + ".customers";
  private static final String R = "replace(ssn, '-', '')";

  private static final String RULES =
      """
      default: allow
      masking:
        columns:
          - {id: ssn, columns: [probe_bank.customers.ssn], strategy: partial, keep: 4}
          - {id: email, columns: [probe_bank.customers.email], strategy: redact}
          - {id: acct, columns: [probe_bank.customers.acct], strategy: redact}
      """;

  private static final String DETECTORS =
      """
        detectors:
          - {id: cards, kind: card, strategy: partial}
          - {id: ssns, kind: ssn, strategy: redact}
          - {id: emails, kind: email, strategy: redact}
      """;

  private static final List<String> SECRETS =
      List.of(
          "123-45-6789",
          "123456789",
          "234-56-7891",
          "234567891",
          "345-67-8912",
          "345678912",
          "alice.adams@example.com",
          // account numbers: a protected column in a format no detector knows
          "9988776655",
          "9911223344");

  @TempDir static Path dir;
  private static GatewayNode withDetectors;
  private static GatewayNode columnsOnly;
  private static DevIssuer issuer;
  private static final AtomicInteger unique = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + S + " CASCADE");
      s.execute("DROP SCHEMA IF EXISTS probe_decoy CASCADE");
      s.execute(
          """
          CREATE SCHEMA probe_bank;
          CREATE TABLE probe_bank.customers (
            id int PRIMARY KEY, name text, ssn text, email text,
            note text CHECK (note <> 'forbidden'), acct text);
          INSERT INTO probe_bank.customers VALUES
            (1, 'Alice Adams', '123-45-6789', 'alice.adams@example.com', 'n1', '9988776655'),
            (2, 'Bob Brown', '234-56-7891', 'bob@example.invalid', 'n2', '9911223344');
          -- A DBA's PL/pgSQL function (as mask_bank.secret_of in MaskingTest).
          CREATE FUNCTION probe_bank.secret_of(int) RETURNS text LANGUAGE plpgsql
            AS $$ BEGIN RETURN (SELECT ssn FROM probe_bank.customers WHERE id = $1); END $$;
          -- A DBA's functions that put their argument in a notice, and in an error's fields.
          CREATE FUNCTION probe_bank.shout(text) RETURNS int LANGUAGE plpgsql
            AS $$ BEGIN RAISE NOTICE 'value %', $1; RETURN 1; END $$;
          CREATE FUNCTION probe_bank.refuse(text) RETURNS int LANGUAGE plpgsql
            AS $$ BEGIN RAISE EXCEPTION 'refused %', $1 USING DETAIL = $1, HINT = $1, COLUMN = $1,
              CONSTRAINT = $1, TABLE = $1; END $$;
          -- A decoy schema with a same-named, harmless table.
          CREATE SCHEMA probe_decoy;
          CREATE TABLE probe_decoy.customers (
            id int PRIMARY KEY, name text, ssn text, email text, note text, acct text);
          INSERT INTO probe_decoy.customers VALUES (1, 'd', 'decoy-1', 'd', 'd', 'd'),
            (2, 'd', 'decoy-2', 'd', 'd', 'd');
          """);
    }
    Path key = dir.resolve("dev.jwk");
    Path full = dir.resolve("policy.yaml");
    Files.writeString(full, RULES + DETECTORS);
    Path bare = dir.resolve("policy-columns-only.yaml");
    Files.writeString(bare, RULES);
    withDetectors = TestGateway.start(TestGateway.policyWithDevTokens(full, key));
    columnsOnly = TestGateway.start(TestGateway.policyWithDevTokens(bare, key));
    issuer = DevIssuer.load(key);
  }

  @AfterAll
  static void stop() {
    if (withDetectors != null) {
      withDetectors.close();
    }
    if (columnsOnly != null) {
      columnsOnly.close();
    }
  }

  enum Mode {
    SIMPLE("preferQueryMode=simple"),
    EXTENDED_TEXT("prepareThreshold=1"),
    EXTENDED_BINARY("prepareThreshold=1&binaryTransfer=true&binaryTransferEnable=25,1043,20");

    final String params;

    Mode(String params) {
      this.params = params;
    }
  }

  // ====================================================================== 1. cursors

  @Test
  void cursorFetchAndMove() throws Exception {
    assertNoLeak(
        "BEGIN",
        "DECLARE c{u} CURSOR FOR SELECT ssn, " + R + " FROM " + C,
        "FETCH 1 FROM c{u}",
        "MOVE 0 IN c{u}",
        "FETCH ALL FROM c{u}",
        "MOVE BACKWARD ALL IN c{u}",
        "COMMIT");
    assertNoLeak(
        "BEGIN; DECLARE c{u} CURSOR FOR SELECT ssn FROM "
            + C
            + "; FETCH 2 FROM c{u}; FETCH ALL FROM c{u}; COMMIT");
  }

  @Test
  void cursorWithHold() throws Exception {
    assertNoLeak(
        "BEGIN",
        "DECLARE h{u} CURSOR WITH HOLD FOR SELECT ssn, " + R + " FROM " + C,
        "COMMIT",
        "FETCH 1 FROM h{u}",
        "MOVE 1 IN h{u}",
        "FETCH ALL FROM h{u}",
        "CLOSE h{u}");
  }

  /** A cursor opened by PL/pgSQL (no DECLARE statement) under a name a harmless DECLARE used. */
  @Test
  void cursorOpenedInPlpgsqlUnderAnEarlierHarmlessName() throws Exception {
    assertNoLeak(
        "BEGIN",
        "DECLARE k{u} CURSOR FOR SELECT 'x'::text AS a",
        "CLOSE k{u}",
        "DO $$ DECLARE k refcursor := 'k{u}'; BEGIN OPEN k FOR SELECT "
            + R
            + " AS a FROM "
            + C
            + "; END $$",
        "FETCH ALL FROM k{u}",
        "COMMIT");
  }

  /** The same without an earlier DECLARE of the name: FETCH of an unknown cursor. */
  @Test
  void cursorOpenedInPlpgsql() throws Exception {
    assertNoLeak(
        "BEGIN",
        "DO $$ DECLARE k refcursor := 'n{u}'; BEGIN OPEN k FOR SELECT "
            + R
            + " AS a FROM "
            + C
            + "; END $$",
        "FETCH ALL FROM n{u}",
        "COMMIT");
  }

  // ====================================================================== 2. SQL PREPARE

  @Test
  void sqlPrepareExecute() throws Exception {
    assertNoLeak(
        "PREPARE p{u} AS SELECT ssn, " + R + " FROM " + C, "EXECUTE p{u}", "DEALLOCATE p{u}");
    assertNoLeak(
        "PREPARE q{u}(int) AS SELECT ssn, " + R + " FROM " + C + " WHERE id = $1",
        "EXECUTE q{u}(1)",
        "EXECUTE q{u}(2)",
        "DEALLOCATE q{u}");
  }

  /** A statement prepared by PL/pgSQL's EXECUTE under a name a harmless PREPARE used. */
  @Test
  void preparedInsideDoUnderAnEarlierHarmlessName() throws Exception {
    assertNoLeak(
        "PREPARE w{u} AS SELECT 'x'::text AS a",
        "DEALLOCATE w{u}",
        "DO $$ BEGIN EXECUTE 'PREPARE w{u} AS SELECT "
            + R.replace("'", "''")
            + " AS a FROM "
            + C
            + "'; END $$",
        "EXECUTE w{u}",
        "DEALLOCATE w{u}");
  }

  // ====================================================================== 3. RETURNING

  @Test
  void returning() throws Exception {
    assertNoLeak(
        "BEGIN",
        "INSERT INTO " + C + " (id, name, ssn) VALUES (3, 'Carl', '345-67-8912') RETURNING ssn",
        "INSERT INTO " + C + " (id, name, ssn) VALUES (4, 'Dora', '345-67-8912') RETURNING " + R,
        "UPDATE " + C + " SET name = name RETURNING ssn",
        "UPDATE " + C + " SET name = name RETURNING " + R + ", *",
        "DELETE FROM " + C + " WHERE id = 3 RETURNING *",
        "DELETE FROM " + C + " WHERE id = 4 RETURNING " + R,
        "WITH d AS (UPDATE " + C + " SET name = name RETURNING ssn) SELECT * FROM d",
        "WITH d AS (UPDATE " + C + " SET name = name RETURNING ssn) SELECT " + R + " FROM d",
        "WITH d AS (DELETE FROM " + C + " RETURNING *) SELECT d FROM d",
        "ROLLBACK");
  }

  // ====================================================================== 4. whole rows, JSON

  @Test
  void wholeRowAndJson() throws Exception {
    assertNoLeak(
        "SELECT c FROM " + C + " c",
        "SELECT c::text FROM " + C + " c",
        "SELECT row_to_json(c) FROM " + C + " c",
        "SELECT row_to_json(c)::text FROM " + C + " c",
        "SELECT to_jsonb(c) ->> 'ssn' FROM " + C + " c",
        "SELECT replace(to_jsonb(c) ->> 'ssn', '-', '') FROM " + C + " c",
        "SELECT json_agg(c) FROM " + C + " c",
        "SELECT json_agg(c)::text FROM " + C + " c",
        "TABLE " + C,
        "SELECT (c).* FROM " + C + " c",
        "SELECT (c).ssn FROM " + C + " c",
        "SELECT string_agg(ssn, ',') FROM " + C,
        "SELECT string_agg(" + R + ", ',') FROM " + C,
        "SELECT (SELECT c FROM " + C + " c WHERE id = 1)::text",
        "SELECT jsonb_path_query(to_jsonb(c), '$.ssn') FROM " + C + " c",
        "SELECT (jsonb_each_text(to_jsonb(c))).value FROM " + C + " c",
        "SELECT v FROM " + C + " c, jsonb_each_text(to_jsonb(c)) AS e(k, v)");
  }

  // ====================================================================== 5. copies into new
  // objects

  @Test
  void ctasSelectIntoTempView() throws Exception {
    assertNoLeak(
        "CREATE TEMP TABLE t{u} AS SELECT " + R + " AS s FROM " + C,
        "SELECT * FROM t{u}",
        "SELECT " + R + " AS s INTO TEMP t2{u} FROM " + C,
        "SELECT * FROM t2{u}",
        "CREATE TEMP VIEW v{u} AS SELECT " + R + " AS s FROM " + C,
        "SELECT * FROM v{u}",
        "SELECT s || '' FROM v{u}",
        "SLEEP",
        "SELECT * FROM v{u}",
        "SELECT s || '' FROM v{u}");
  }

  /**
   * CREATE TABLE AS inside a DO block: no statement the gateway reads names the protected table.
   */
  @Test
  void copyMadeInsideDoBlock() throws Exception {
    assertNoLeak(
        "DO $$ BEGIN CREATE TEMP TABLE d{u} AS SELECT " + R + " AS s FROM " + C + "; END $$",
        "SELECT s || '' FROM d{u}",
        "SLEEP",
        "SELECT s FROM d{u}");
  }

  /** A temporary view made inside a DO block, read at once through a computed column. */
  @Test
  void viewMadeInsideDoBlock() throws Exception {
    assertNoLeak(
        "DO $$ BEGIN CREATE TEMP VIEW dv{u} AS SELECT " + R + " AS s FROM " + C + "; END $$",
        "SELECT s || '' FROM dv{u}");
  }

  /** CREATE TABLE AS over a DBA's PL/pgSQL function that reads the protected table. */
  @Test
  void copyMadeThroughAnOpaqueFunction() throws Exception {
    assertNoLeak(
        "CREATE TEMP TABLE o{u} AS SELECT replace("
            + S
            + ".secret_of(i), '-', '') AS s FROM generate_series(1, 2) i",
        "SELECT s || '' FROM o{u}",
        "SLEEP",
        "SELECT s FROM o{u}");
  }

  /** EXPLAIN ANALYZE runs the CREATE TABLE AS it explains. */
  @Test
  void copyMadeByExplainAnalyze() throws Exception {
    assertNoLeak(
        "EXPLAIN ANALYZE CREATE TEMP TABLE e{u} AS SELECT " + R + " AS s FROM " + C,
        "SELECT s || '' FROM e{u}",
        "SLEEP",
        "SELECT s FROM e{u}");
  }

  /**
   * A write to the protected table itself that copies a protected column into an unprotected one
   * (note), which a later SELECT returns unmasked. Not in a transaction, so that the SELECT after
   * the refusal runs; the notes are put back in case the refusal fails.
   */
  @Test
  void updateCopyingAProtectedColumnIntoAnotherOfItsTable() throws Exception {
    try {
      for (GatewayNode gateway : List.of(withDetectors, columnsOnly)) {
        String recording = UUID.randomUUID().toString();
        try (Connection connection = agent(gateway, "preferQueryMode=simple", recording);
            Statement statement = connection.createStatement()) {
          for (String update :
              List.of(
                  "UPDATE " + C + " SET note = ssn",
                  "UPDATE " + C + " c SET (note, name) = (c.acct, name)")) {
            assertThatThrownBy(() -> statement.execute(update))
                .as(update)
                .isInstanceOfSatisfying(
                    SQLException.class,
                    e -> {
                      assertThat(e.getSQLState()).isEqualTo("42501");
                      assertThat(e.getMessage()).contains("may be assigned only to its own column");
                    });
          }
        }
        RecordingSocketFactory.take(recording);
      }
      assertNoLeak(
          "UPDATE " + C + " SET note = " + R,
          "INSERT INTO "
              + C
              + " (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET note = "
              + C
              + ".acct",
          "SELECT note FROM " + C + " ORDER BY id");
      try (Connection c = TestPostgres.direct();
          ResultSet rs =
              c.createStatement()
                  .executeQuery("SELECT string_agg(note, ',' ORDER BY id) FROM " + C)) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("n1,n2");
      }
    } finally {
      try (Connection c = TestPostgres.direct();
          Statement s = c.createStatement()) {
        s.execute("UPDATE " + C + " SET note = 'n' || id");
      }
    }
  }

  /**
   * A WITH query's RETURNING hands protected values to another write in the same statement: into a
   * temporary table, or into another column of a new row of the protected table (rolled back).
   */
  @Test
  void returningOfAWithQueryWrittenElsewhere() throws Exception {
    assertNoLeak(
        "CREATE TEMP TABLE k{u} (v text)",
        "WITH d AS (UPDATE "
            + C
            + " SET name = name RETURNING "
            + R
            + " AS v) INSERT INTO k{u} SELECT v FROM d",
        "SELECT v FROM k{u}",
        "BEGIN",
        "WITH d AS (DELETE FROM "
            + C
            + " WHERE id = 2 RETURNING *) INSERT INTO "
            + C
            + " (id, name, note) SELECT id + 10, name, acct FROM d",
        "SELECT note FROM " + C,
        "ROLLBACK");
  }

  /**
   * DDL on the protected table. Rules match names, so a rename takes a column out of their reach;
   * each change is undone in case it is not refused.
   */
  @Test
  void renamesOfTheProtectedTableOrItsSchema() throws Exception {
    assertNoLeak(
        "ALTER TABLE " + C + " RENAME COLUMN acct TO acct{u}",
        "SLEEP",
        "SELECT acct{u} FROM " + C,
        "ALTER TABLE " + C + " RENAME COLUMN acct{u} TO acct");
    assertNoLeak(
        "ALTER SCHEMA probe_bank RENAME TO pb{u}",
        "SLEEP",
        "SELECT acct FROM pb{u}.customers",
        "ALTER SCHEMA pb{u} RENAME TO probe_bank");
  }

  /**
   * DDL that copies a protected column where no rule masks it: a type change's USING, a generated
   * column, a rewrite rule, a parent table the protected table is made to inherit from.
   */
  @Test
  void copiesMadeByRedefiningTheProtectedTable() throws Exception {
    assertNoLeak(
        "BEGIN",
        "ALTER TABLE " + C + " ALTER COLUMN note TYPE text USING acct",
        "SELECT note FROM " + C,
        "ROLLBACK");
    assertNoLeak(
        "ALTER TABLE " + C + " ADD COLUMN g{u} text GENERATED ALWAYS AS (" + R + ") STORED",
        "SLEEP",
        "SELECT g{u} FROM " + C,
        "ALTER TABLE " + C + " DROP COLUMN IF EXISTS g{u}");
    assertNoLeak(
        "CREATE TEMP TABLE rt{u} (v text)",
        "CREATE RULE r{u} AS ON UPDATE TO " + C + " DO ALSO INSERT INTO rt{u} VALUES (new.acct)",
        "UPDATE " + C + " SET name = name WHERE id = 1",
        "DROP RULE IF EXISTS r{u} ON " + C,
        "SLEEP",
        "SELECT v FROM rt{u}");
    assertNoLeak(
        "CREATE TABLE public.par{u} (LIKE probe_decoy.customers)",
        "ALTER TABLE " + C + " INHERIT public.par{u}",
        "SLEEP",
        "SELECT acct, " + R + " FROM public.par{u}",
        "ALTER TABLE " + C + " NO INHERIT public.par{u}",
        "DROP TABLE public.par{u}");
  }

  // ====================================================================== 6. COPY

  @Test
  void copyOut() throws Exception {
    assertNoLeak(
        "COPYOUT COPY (SELECT ssn, " + R + " FROM " + C + ") TO STDOUT",
        "COPYOUT COPY " + C + " TO STDOUT (FORMAT csv)",
        "COPYOUT COPY " + C + " TO STDOUT (FORMAT binary)",
        "COPYOUT COPY (SELECT " + R + " FROM " + C + ") TO STDOUT (FORMAT binary)",
        "COPYOUT COPY (SELECT c FROM " + C + " c) TO STDOUT (FORMAT csv)",
        "COPYOUT COPY (TABLE " + C + ") TO STDOUT");
  }

  /** COPY to a file on the server, read back into an unprotected table (the file is removed). */
  @Test
  void copyToAServerFileReadBack() throws Exception {
    assertNoLeak(
        "CREATE TABLE public.cf{u} (LIKE probe_decoy.customers)",
        "COPY " + C + " TO '/tmp/portcullis-probe{u}.txt'",
        "COPY public.cf{u} FROM PROGRAM 'cat /tmp/portcullis-probe{u}.txt;"
            + " rm -f /tmp/portcullis-probe{u}.txt'",
        "SLEEP",
        "SELECT acct, " + R + " FROM public.cf{u}",
        "DROP TABLE public.cf{u}");
  }

  // ====================================================================== 7. extended protocol

  @Test
  void binaryResultsAndRowLimits() throws Exception {
    for (GatewayNode gateway : List.of(withDetectors, columnsOnly)) {
      for (String params :
          List.of(
              "prepareThreshold=0&binaryTransfer=true&binaryTransferEnable=25,1043",
              "prepareThreshold=-1&binaryTransfer=true&binaryTransferEnable=25,1043")) {
        String recording = UUID.randomUUID().toString();
        List<String> seen = new ArrayList<>();
        try (Connection connection = agent(gateway, params, recording)) {
          connection.setAutoCommit(false);
          try (PreparedStatement ps =
              connection.prepareStatement("SELECT ssn, " + R + ", name FROM " + C)) {
            ps.setFetchSize(1);
            for (int run = 0; run < 3; run++) {
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  seen.add(rs.getString(1));
                  seen.add(rs.getString(2));
                }
              }
            }
          }
          connection.commit();
        }
        assertClean(params, RecordingSocketFactory.take(recording), seen);
      }
    }
  }

  @Test
  void rawPortalExecutedInPieces() throws Exception {
    for (GatewayNode gateway : List.of(withDetectors, columnsOnly)) {
      try (RawClient client = rawAgent(gateway)) {
        client.send(new Query("BEGIN"));
        List<BackendMessage> all = new ArrayList<>(ClientTranscript.untilReady(client, 1));
        client.send(
            new Parse("", "SELECT ssn, " + R + " FROM " + C, new int[0]),
            new Bind("p", "", new short[0], new byte[0][], new short[] {1}),
            new Execute("p", 1),
            new Execute("p", 1),
            new Execute("p", 0),
            Sync.INSTANCE,
            new Query("COMMIT"));
        all.addAll(ClientTranscript.untilReady(client, 2));
        assertClean("raw", ClientTranscript.bytesOf(all), List.of());
      }
    }
  }

  /**
   * A named statement described while {@code search_path} finds a harmless same-named table, then
   * executed (no Describe, as pgjdbc does from the sixth run) after {@code search_path} changed:
   * PostgreSQL plans it again against the protected table; the gateway reuses the old description.
   */
  @Test
  void namedStatementReusedAfterSearchPathChange() throws Exception {
    for (GatewayNode gateway : List.of(withDetectors, columnsOnly)) {
      try (RawClient client = rawAgent(gateway)) {
        List<BackendMessage> all = new ArrayList<>();
        client.send(new Query("SET search_path = probe_decoy"));
        all.addAll(ClientTranscript.untilReady(client, 1));
        client.send(
            new Parse(
                "s1", "SELECT acct, ssn, " + R + " AS r FROM customers ORDER BY id", new int[0]),
            new Describe('S', "s1"),
            new Bind("", "s1", new short[0], new byte[0][], new short[0]),
            new Execute("", 0),
            Sync.INSTANCE);
        all.addAll(ClientTranscript.untilReady(client, 1));
        client.send(new Query("SET search_path = probe_bank"));
        all.addAll(ClientTranscript.untilReady(client, 1));
        client.send(
            new Bind("", "s1", new short[0], new byte[0][], new short[0]),
            new Execute("", 0),
            Sync.INSTANCE);
        all.addAll(ClientTranscript.untilReady(client, 1));
        assertClean(
            gateway == withDetectors ? "raw, detectors" : "raw, columns-only",
            ClientTranscript.bytesOf(all),
            List.of());
      }
    }
  }

  /** The same with pgjdbc: a server-prepared statement run again after setSchema. */
  @Test
  void pgjdbcPreparedStatementAfterSetSchema() throws Exception {
    for (GatewayNode gateway : List.of(withDetectors, columnsOnly)) {
      String recording = UUID.randomUUID().toString();
      List<String> seen = new ArrayList<>();
      try (Connection connection = agent(gateway, "prepareThreshold=1", recording)) {
        connection.setSchema("probe_decoy");
        try (PreparedStatement ps =
            connection.prepareStatement("SELECT acct, ssn, name FROM customers ORDER BY id")) {
          for (int run = 0; run < 12; run++) {
            if (run == 8) {
              connection.setSchema("probe_bank");
            }
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                seen.add(rs.getString(1));
                seen.add(rs.getString(2));
              }
            }
          }
        }
      }
      assertClean("pgjdbc", RecordingSocketFactory.take(recording), seen);
    }
  }

  /**
   * {@code SET SCHEMA} (what pgjdbc's setSchema sends) changes the search path without the word
   * search_path: the gateway's own plan then names the decoy table.
   */
  @Test
  void setSchemaWithoutTheWordSearchPath() throws Exception {
    assertNoLeak(
        "SET SCHEMA 'probe_bank'", "SELECT " + R + " FROM customers ORDER BY id", "RESET ALL");
  }

  /**
   * Lineage asked with the gateway's default search_path, which finds a same-named table in public
   * (created through the gateway, so that the catalog knows it).
   */
  @Test
  void setSchemaWithADecoyOnTheGatewaysPath() throws Exception {
    assertNoLeak(
        "CREATE TABLE IF NOT EXISTS public.customers (LIKE probe_decoy.customers)",
        "SLEEP",
        "SET SCHEMA 'probe_bank'",
        "SELECT " + R + ", acct || '' FROM customers ORDER BY id",
        "RESET ALL",
        "DROP TABLE IF EXISTS public.customers");
  }

  // ====================================================================== 8. functions, notices,
  // errors

  @Test
  void sqlFunctionCreatedThenCalledAtOnce() throws Exception {
    assertNoLeak(
        "CREATE FUNCTION "
            + S
            + ".f{u}() RETURNS SETOF text LANGUAGE sql AS 'SELECT "
            + R.replace("'", "''")
            + " FROM "
            + C
            + "'",
        "SELECT " + S + ".f{u}()",
        "SELECT * FROM " + S + ".f{u}()",
        "DROP FUNCTION " + S + ".f{u}()");
  }

  @Test
  void sqlFunctionCreatedThenCalledAfterCatalogRefresh() throws Exception {
    assertNoLeak(
        "CREATE FUNCTION "
            + S
            + ".g{u}() RETURNS SETOF text LANGUAGE sql AS 'SELECT "
            + R.replace("'", "''")
            + " FROM "
            + C
            + "'",
        "SLEEP",
        "SELECT " + S + ".g{u}()",
        "DROP FUNCTION " + S + ".g{u}()");
  }

  @Test
  void plpgsqlFunctionCreatedThenCalledAtOnce() throws Exception {
    assertNoLeak(
        "CREATE FUNCTION "
            + S
            + ".pf{u}() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT "
            + R
            + " FROM "
            + C
            + " WHERE id = 1); END $$",
        "SELECT " + S + ".pf{u}()",
        "DROP FUNCTION " + S + ".pf{u}()");
  }

  /**
   * A SQL function in the session's temporary schema, called as pg_temp.name after the catalog was
   * read again (the catalog names it pg_temp_N.name).
   */
  @Test
  void temporarySqlFunctionAfterRefresh() throws Exception {
    assertNoLeak(
        "CREATE FUNCTION pg_temp.tf{u}() RETURNS SETOF text LANGUAGE sql AS 'SELECT "
            + R.replace("'", "''")
            + " FROM "
            + C
            + "'",
        "SLEEP",
        "SELECT pg_temp.tf{u}()");
  }

  @Test
  void temporaryPlpgsqlFunctionAfterRefresh() throws Exception {
    assertNoLeak(
        "CREATE FUNCTION pg_temp.tp{u}() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT "
            + R
            + " FROM "
            + C
            + " WHERE id = 1); END $$",
        "SLEEP",
        "SELECT pg_temp.tp{u}()");
  }

  /** The planner folds an IMMUTABLE function's call into a constant that EXPLAIN VERBOSE shows. */
  @Test
  void explainShowsAFoldedConstant() throws Exception {
    assertNoLeak(
        "CREATE FUNCTION "
            + S
            + ".im{u}() RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT "
            + R.replace("'", "''")
            + " FROM "
            + C
            + " ORDER BY id LIMIT 1'",
        "SLEEP",
        "EXPLAIN (VERBOSE) SELECT " + S + ".im{u}()",
        "DROP FUNCTION " + S + ".im{u}()");
  }

  @Test
  void noticeFromDoBlock() throws Exception {
    assertNoLeak("DO $$ BEGIN RAISE NOTICE '%', (SELECT ssn FROM " + C + " WHERE id = 1); END $$");
  }

  @Test
  void noticeFromDoBlockUndashed() throws Exception {
    assertNoLeak(
        "DO $$ BEGIN RAISE NOTICE '%', (SELECT " + R + " FROM " + C + " WHERE id = 1); END $$");
  }

  // ====================================================================== errors and notices

  /** PostgreSQL quotes the value it could not convert, in a format no detector knows. */
  @Test
  void errorQuotingAValue() throws Exception {
    assertNoLeak(
        "SELECT acct::int FROM " + C + " WHERE id = 1",
        "SELECT " + R + "::date FROM " + C + " WHERE id = 1");
  }

  /** What is not a value stays: the client still learns what went wrong, and why words are gone. */
  @Test
  void redactedErrorStillSaysWhatWentWrong() throws Exception {
    String recording = UUID.randomUUID().toString();
    try (Connection connection = agent(columnsOnly, Mode.SIMPLE.params, recording);
        Statement statement = connection.createStatement()) {
      assertThatThrownBy(() -> statement.executeQuery("SELECT acct::int FROM " + C))
          .isInstanceOfSatisfying(
              PSQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("22003");
                assertThat(e.getServerErrorMessage().getMessage())
                    .isEqualTo("value \"***\" is out of range for type integer");
                assertThat(e.getServerErrorMessage().getHint()).isEqualTo(DiagnosticRedaction.HINT);
              });
      assertThatThrownBy(() -> statement.executeQuery("SELECT nosuch FROM " + C))
          .hasMessageContaining("column \"nosuch\" does not exist");
    }
    assertClean("errors", RecordingSocketFactory.take(recording), List.of());
  }

  /** A check constraint's error shows the whole row that failed it. */
  @Test
  void constraintViolationShowsTheRow() throws Exception {
    assertNoLeak("UPDATE " + C + " SET note = 'forbidden' WHERE id = 1");
  }

  @Test
  void noticeRaisedByADatabaseFunction() throws Exception {
    assertNoLeak("SELECT " + S + ".shout(acct) FROM " + C + " WHERE id = 1");
  }

  @Test
  void errorFieldsSetByADatabaseFunction() throws Exception {
    assertNoLeak("SELECT " + S + ".refuse(" + R + ") FROM " + C + " WHERE id = 1");
  }

  /**
   * A function of the database can make an error's SQLSTATE from a value ({@code RAISE … USING
   * ERRCODE} takes any five digits and capitals), and put the syntax error of a text it EXECUTEs at
   * an offset made from one: neither is a text whose words are redacted.
   */
  @Test
  void errorCodeAndInternalPositionMadeFromAValue() throws Exception {
    for (GatewayNode gateway : List.of(withDetectors, columnsOnly)) {
      String recording = UUID.randomUUID().toString();
      List<String> codes = new ArrayList<>();
      try (Connection connection = agent(gateway, Mode.SIMPLE.params, recording);
          Statement statement = connection.createStatement()) {
        statement.execute(
            "CREATE FUNCTION pg_temp.code(text) RETURNS int LANGUAGE plpgsql"
                + " AS $$ BEGIN RAISE EXCEPTION USING ERRCODE = $1; END $$");
        statement.execute(
            "CREATE FUNCTION pg_temp.at(text) RETURNS int LANGUAGE plpgsql"
                + " AS $$ BEGIN EXECUTE repeat(' ', $1::int) || '!'; RETURN 1; END $$");
        for (String part : List.of("substr(acct, 1, 5)", "substr(acct, 6, 5)")) {
          assertThatThrownBy(
                  () ->
                      statement.execute(
                          "SELECT pg_temp.code(" + part + ") FROM " + C + " WHERE id = 1"))
              .isInstanceOfSatisfying(PSQLException.class, e -> codes.add(e.getSQLState()));
        }
        assertThatThrownBy(
                () ->
                    statement.execute(
                        "SELECT pg_temp.at(substr(acct, 1, 5)) FROM " + C + " WHERE id = 1"))
            .isInstanceOfSatisfying(
                PSQLException.class,
                e -> {
                  assertThat(e.getSQLState()).isEqualTo("42601");
                  assertThat(e.getServerErrorMessage().getInternalPosition()).isZero();
                });
      }
      assertClean(
          "SQLSTATEs " + codes,
          RecordingSocketFactory.take(recording),
          List.of(String.join("", codes)));
    }
  }

  /** The session's own NOTIFY comes back to it, with a payload read from a protected column. */
  @Test
  void notificationPayload() throws Exception {
    assertNoLeak(
        "LISTEN probe{u}", "SELECT pg_notify('probe{u}', acct) FROM " + C + " WHERE id = 1");
  }

  // ====================================================================== machinery

  /** Runs the script through both gateways in every mode; fails listing every leak. */
  private static void assertNoLeak(String... script) throws Exception {
    List<String> leaks = new ArrayList<>();
    for (GatewayNode gateway : List.of(withDetectors, columnsOnly)) {
      String policy = gateway == withDetectors ? "detectors" : "columns-only";
      for (Mode mode : List.of(Mode.SIMPLE)) {
        String u = "_" + unique.incrementAndGet();
        String[] resolved = new String[script.length];
        for (int i = 0; i < script.length; i++) {
          resolved[i] = script[i].replace("{u}", u);
        }
        String recording = UUID.randomUUID().toString();
        List<String> seen = new ArrayList<>();
        try (Connection connection = agent(gateway, mode.params, recording)) {
          ClientTranscript.run(connection, resolved, seen);
        }
        String found =
            ClientTranscript.secretsSeen(SECRETS, RecordingSocketFactory.take(recording), seen);
        if (!found.isEmpty()) {
          leaks.add(policy + "/" + mode + ": " + found);
        }
      }
    }
    assertThat(leaks).as("leaks of: " + String.join("  ⏎  ", script)).isEmpty();
  }

  private static void assertClean(String label, byte[] received, List<String> decoded) {
    assertThat(received).as("bytes recorded").isNotEmpty();
    assertThat(ClientTranscript.secretsSeen(SECRETS, received, decoded)).as(label).isEmpty();
  }

  private static RawClient rawAgent(GatewayNode gateway) throws Exception {
    return ClientTranscript.rawClient(
        gateway.port(),
        "report-bot",
        issuer.mint("report-bot", Set.of("agents"), true, Duration.ofMinutes(5), "portcullis"));
  }

  private static Connection agent(GatewayNode gateway, String params, String recording)
      throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", "report-bot");
    props.setProperty(
        "password",
        issuer.mint("report-bot", Set.of("agents"), true, Duration.ofMinutes(5), "portcullis"));
    props.setProperty("socketFactory", RecordingSocketFactory.class.getName());
    props.setProperty("socketFactoryArg", recording);
    return DriverManager.getConnection(TestGateway.jdbcUrl(gateway, params), props);
  }
}
