package io.portcullis.node.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.node.testing.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The lineage of real statements planned by PostgreSQL, and of hand-written plans. Statements are
 * only explained: the tables hold rows that several of them would fail on or change if run.
 */
class PlanLineageTest {

  private static final String DATABASE = "portcullis_lineage";
  private static final String ROW_COUNTS =
      "SELECT (SELECT count(*) FROM bank.customers), (SELECT count(*) FROM bank.cards),"
          + " (SELECT count(*) FROM bank.accounts)";

  private static Connection connection;

  @BeforeAll
  static void createDatabase() throws SQLException {
    TestPostgres.recreateDatabase(DATABASE);
    connection = TestPostgres.direct(DATABASE);
    try (Statement statement = connection.createStatement()) {
      statement.execute(
          """
          CREATE SCHEMA bank;
          CREATE TABLE bank.customers (
            id int PRIMARY KEY, name text, ssn text, email text, profile jsonb);
          CREATE TABLE bank.cards (id int PRIMARY KEY, customer_id int, pan text, expiry date);
          CREATE TABLE bank.accounts (
            id int PRIMARY KEY, customer_id int, iban text, balance numeric);
          CREATE VIEW bank.customer_view AS SELECT id, name, ssn FROM bank.customers;
          CREATE VIEW bank.guarded WITH (security_barrier) AS
            SELECT id, name, upper(ssn) AS ssn FROM bank.customers WHERE id > 0;
          CREATE DOMAIN bank.not_null AS int NOT NULL;
          CREATE TABLE bank."Weird Table" ("SSN" text, "a""b" text);
          CREATE TABLE bank.parted (id int, ssn text) PARTITION BY RANGE (id);
          CREATE TABLE bank.parted_a PARTITION OF bank.parted FOR VALUES FROM (0) TO (10);
          CREATE TABLE bank.parted_b PARTITION OF bank.parted FOR VALUES FROM (10) TO (20);
          INSERT INTO bank.customers VALUES
            (1, 'Ada', '123-45-6789', 'ada@example.com', '{"a": "b"}');
          INSERT INTO bank.cards VALUES (1, 1, '4111111111111111', '2030-01-31');
          INSERT INTO bank.accounts VALUES (1, 1, 'DE89370400440532013000', 10.5);
          ANALYZE;
          """);
    }
  }

  @AfterAll
  static void close() throws SQLException {
    connection.close();
  }

  /**
   * A statement and the expected lineage of each result column: sources separated by {@code ;},
   * each {@code table.column} or {@code table.*} in schema bank, {@code ?} for incomplete.
   */
  record Case(String sql, int parameters, List<String> columns) {
    @Override
    public String toString() {
      return sql;
    }
  }

  private static Case of(String sql, String... columns) {
    return new Case(sql, 0, List.of(columns));
  }

  static Stream<Case> statements() {
    return Stream.of(
        of("SELECT c.ssn FROM bank.customers c", "customers.ssn"),
        of(
            "SELECT c.ssn AS social, c.name AS who FROM bank.customers c",
            "customers.ssn",
            "customers.name"),
        of("SELECT upper(c.ssn) AS x FROM bank.customers c", "customers.ssn"),
        of("SELECT ssn || '' FROM bank.customers", "customers.ssn"),
        of("SELECT substr(pan, 1, 6) FROM bank.cards", "cards.pan"),
        of("SELECT ssn::int FROM bank.customers", "customers.ssn"),
        of("SELECT row_to_json(c) FROM bank.customers c", "customers.*"),
        of("SELECT c::text, c.name FROM bank.customers c", "customers.*", "customers.name"),
        of("SELECT to_jsonb(c.*) FROM bank.customers c", "customers.*"),
        of("SELECT string_agg(ssn, ',') FROM bank.customers", "customers.ssn"),
        of("SELECT encode(convert_to(ssn, 'UTF8'), 'base64') FROM bank.customers", "customers.ssn"),
        of(
            "SELECT 'ssn', 'c.ssn'::text, 42, NULL, now(), c.name FROM bank.customers c",
            "",
            "",
            "",
            "",
            "",
            "customers.name"),
        of("SELECT count(*) FROM bank.customers", ""),
        of("SELECT 1, 'x'", "", ""),
        of(
            "SELECT * FROM bank.customers",
            "customers.id",
            "customers.name",
            "customers.ssn",
            "customers.email",
            "customers.profile"),
        of(
            "SELECT c.profile ->> 'ssn', extract(day FROM k.expiry), k.pan COLLATE \"C\""
                + " FROM bank.customers c JOIN bank.cards k ON k.customer_id = c.id",
            "customers.profile",
            "cards.expiry",
            "cards.pan"),
        of(
            "SELECT \"Weird Alias\".\"SSN\", w.\"a\"\"b\" FROM bank.\"Weird Table\" \"Weird Alias\""
                + " JOIN bank.\"Weird Table\" w ON true",
            "Weird Table.SSN",
            "Weird Table.a\"b"),
        // Scalar sub-selects: a correlated SubPlan, and an InitPlan printed as $0.
        of(
            "SELECT c.name, (SELECT max(k.pan) FROM bank.cards k WHERE k.customer_id = c.id)"
                + " FROM bank.customers c",
            "customers.name",
            "cards.pan"),
        of(
            "SELECT (SELECT max(ssn) FROM bank.customers), a.iban FROM bank.accounts a",
            "customers.ssn",
            "accounts.iban"),
        of(
            "SELECT c.id IN (SELECT customer_id FROM bank.cards),"
                + " (c.id, c.name) = (SELECT id, pan FROM bank.cards LIMIT 1)"
                + " FROM bank.customers c",
            "cards.customer_id",
            "customers.id;customers.name;cards.id;cards.pan"),
        // Flattened into the outer query.
        of("SELECT s.x FROM (SELECT upper(ssn) AS x, name FROM bank.customers) s", "customers.ssn"),
        // Not flattened; the planner replaces the unused output by NULL, so still exact.
        of(
            "SELECT s.n FROM (SELECT ssn AS x, name AS n FROM bank.customers LIMIT 5) s",
            "customers.name"),
        // Not flattened: the plan does not say which output s.n is, so both (over-approximated).
        of(
            "SELECT s.n FROM (SELECT DISTINCT ssn AS x, name AS n FROM bank.customers) s",
            "customers.ssn;customers.name"),
        of(
            "WITH x AS (SELECT id, ssn FROM bank.customers) SELECT id, ssn FROM x",
            "customers.id",
            "customers.ssn"),
        // A CTE scan: all of the CTE's outputs (over-approximated).
        of(
            "WITH x AS MATERIALIZED (SELECT id, upper(ssn) AS s FROM bank.customers)"
                + " SELECT id, s FROM x",
            "customers.id;customers.ssn",
            "customers.id;customers.ssn"),
        // Recursive: n is really only id, but the work table feeds both columns
        // (over-approximated).
        of(
            "WITH RECURSIVE r(n, s) AS (SELECT id, ssn FROM bank.customers"
                + " UNION ALL SELECT n + 1, s FROM r WHERE n < 3) SELECT n, s FROM r",
            "customers.id;customers.ssn",
            "customers.id;customers.ssn"),
        of(
            "SELECT name FROM bank.customers UNION SELECT ssn FROM bank.customers",
            "customers.name;customers.ssn"),
        of(
            "SELECT id, name FROM bank.customers UNION ALL SELECT id, pan FROM bank.cards",
            "customers.id;cards.id",
            "customers.name;cards.pan"),
        of(
            "SELECT name FROM bank.customers UNION ALL SELECT upper(ssn) FROM bank.customers"
                + " ORDER BY 1",
            "customers.name;customers.ssn"),
        // EXCEPT returns values of the first branch only; both are taken (over-approximated).
        of(
            "SELECT name FROM bank.customers EXCEPT SELECT ssn FROM bank.customers",
            "customers.name;customers.ssn"),
        of(
            "SELECT c.name, k.pan FROM bank.customers c JOIN bank.cards k ON k.customer_id = c.id",
            "customers.name",
            "cards.pan"),
        of(
            "SELECT c.name, sum(a.balance), count(*) FROM bank.customers c"
                + " JOIN bank.accounts a ON a.customer_id = c.id GROUP BY c.name",
            "customers.name",
            "accounts.balance",
            ""),
        of(
            "SELECT c.name, sum(a.balance) OVER (PARTITION BY c.id),"
                + " first_value(c.ssn) OVER (ORDER BY c.name), row_number() OVER ()"
                + " FROM bank.customers c JOIN bank.accounts a ON a.customer_id = c.id",
            "customers.name",
            "accounts.balance",
            "customers.ssn",
            ""),
        of(
            "SELECT c.name, l.pan FROM bank.customers c,"
                + " LATERAL (SELECT k.pan FROM bank.cards k WHERE k.customer_id = c.id LIMIT 1) l",
            "customers.name",
            "cards.pan"),
        of(
            "SELECT c.id, j.key, j.value FROM bank.customers c, LATERAL jsonb_each(c.profile) j",
            "customers.id",
            "customers.profile",
            "customers.profile"),
        of("SELECT * FROM bank.customer_view", "customers.id", "customers.name", "customers.ssn"),
        // A security-barrier view stays a sub-query scan: all the outputs the outer query uses
        // (over-approximated; the planner replaces unused ones, here id, by NULL).
        of(
            "SELECT name, ssn FROM bank.guarded WHERE ssn = 'X'",
            "customers.name;customers.ssn",
            "customers.name;customers.ssn"),
        of("SELECT g FROM generate_series(1, 3) g", ""),
        of(
            "SELECT c.name, g FROM bank.customers c, generate_series(1, c.id) g",
            "customers.name",
            "customers.id"),
        of("SELECT v.a FROM (VALUES (1, 'x'), (2, 'y')) v(a, b)", ""),
        // VALUES lists are not printed: everything the outer side provides (over-approximated).
        of(
            "SELECT c.name, v.x FROM bank.customers c, LATERAL (VALUES (c.ssn), (c.email)) v(x)",
            "customers.name",
            "customers.id;customers.name;customers.ssn;customers.email;customers.profile"),
        // Partitions are named as such, not as their parent.
        of(
            "SELECT p.ssn, p FROM bank.parted p ORDER BY p.id",
            "parted_a.ssn;parted_b.ssn",
            "parted_a.*;parted_b.*"),
        // Sort and lock columns come after the result columns.
        of("SELECT name FROM bank.customers ORDER BY ssn", "customers.name"),
        of("SELECT c.name FROM bank.customers c FOR UPDATE", "customers.name"),
        // Nothing is scanned, so the unqualified ssn cannot be placed: fail closed.
        of("SELECT ssn FROM bank.customers WHERE false", "?"),
        // The values inserted are constants.
        of(
            "INSERT INTO bank.customers (id, name, ssn) VALUES (2, 'Bob', '987-65-4321')"
                + " RETURNING id, upper(ssn)",
            "customers.id",
            "customers.ssn"),
        // Which input column feeds which target column is not printed (over-approximated).
        of(
            "INSERT INTO bank.cards (id, customer_id, pan) SELECT id, id, ssn FROM bank.customers"
                + " RETURNING pan, 1",
            "cards.pan;customers.id;customers.ssn",
            ""),
        of(
            "UPDATE bank.customers SET email = lower(name) WHERE id = 1 RETURNING ssn, email",
            "customers.ssn;customers.name",
            "customers.email;customers.name"),
        of(
            "UPDATE bank.customers c SET email = a.iban FROM bank.accounts a"
                + " WHERE a.customer_id = c.id RETURNING c.ssn, a.balance",
            "customers.ssn;accounts.iban;accounts.balance",
            "accounts.balance"),
        // The SET list of ON CONFLICT DO UPDATE is not printed: fail closed.
        of(
            "INSERT INTO bank.customers AS c (id, ssn) VALUES (1, 'x')"
                + " ON CONFLICT (id) DO UPDATE SET ssn = c.name RETURNING c.ssn, 1",
            "customers.ssn;?",
            ""),
        of(
            "DELETE FROM bank.cards k USING bank.customers c WHERE c.id = k.customer_id"
                + " RETURNING k.pan, c.ssn",
            "cards.pan",
            "customers.ssn"),
        of("DELETE FROM bank.cards RETURNING pan, cards", "cards.pan", "cards.*"),
        of(
            "WITH gone AS (DELETE FROM bank.cards RETURNING pan) SELECT upper(pan) FROM gone",
            "cards.pan"),
        // A custom plan for NULL parameters would drop the ssn branch and even the scan.
        new Case(
            "SELECT CASE WHEN $1 THEN ssn ELSE name END, upper($2) FROM bank.customers"
                + " WHERE id = $3",
            3,
            List.of("customers.ssn;customers.name", "")),
        new Case(
            "SELECT k.pan FROM bank.cards k WHERE k.customer_id = $1 AND k.pan LIKE $2",
            2,
            List.of("cards.pan")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("statements")
  void lineage(Case statement) throws SQLException {
    List<Long> rowsBefore = rowCounts();

    List<ColumnLineage> lineage =
        PlanLineage.explain(connection, statement.sql(), statement.parameters());

    int resultColumns = resultColumns(statement.sql());
    assertThat(statement.columns()).hasSize(resultColumns);
    assertThat(lineage).hasSizeGreaterThanOrEqualTo(resultColumns);
    assertThat(lineage.subList(0, resultColumns))
        .isEqualTo(statement.columns().stream().map(PlanLineageTest::expected).toList());
    assertThat(rowCounts()).as("nothing was executed").isEqualTo(rowsBefore);
  }

  @Test
  void explainingWithParametersLeavesTheSessionAsItWas() throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute("SET plan_cache_mode = force_custom_plan");
      try {
        PlanLineage.explain(connection, "SELECT ssn FROM bank.customers WHERE id = $1", 1);
        assertThatThrownBy(
                () -> PlanLineage.explain(connection, "SELECT nonsense FROM bank.customers", 1))
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("nonsense");

        try (ResultSet row =
            statement.executeQuery(
                "SELECT current_setting('plan_cache_mode'),"
                    + " (SELECT count(*) FROM pg_prepared_statements"
                    + " WHERE name = 'portcullis_lineage')")) {
          row.next();
          assertThat(row.getString(1)).isEqualTo("force_custom_plan");
          assertThat(row.getLong(2)).isZero();
        }
      } finally {
        statement.execute("RESET plan_cache_mode");
      }
    }
  }

  @Test
  void aPreparedStatementLeftByAFailedTransactionIsCleanedUp() throws SQLException {
    // NULL is no value of the domain: EXECUTE fails after PREPARE, and aborts the transaction.
    String rejectsNull = "SELECT ssn FROM bank.customers WHERE id = $1::bank.not_null";
    connection.setAutoCommit(false);
    try {
      assertThatThrownBy(() -> PlanLineage.explain(connection, rejectsNull, 1))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("does not allow null values");
      connection.rollback();

      assertThat(PlanLineage.explain(connection, "SELECT ssn FROM bank.customers WHERE id = $1", 1))
          .containsExactly(expected("customers.ssn"));
      try (Statement statement = connection.createStatement();
          ResultSet row =
              statement.executeQuery(
                  "SELECT count(*) FROM pg_prepared_statements WHERE name = 'portcullis_lineage'")) {
        row.next();
        assertThat(row.getLong(1)).isZero();
      }
    } finally {
      connection.rollback();
      connection.setAutoCommit(true);
    }
  }

  @Test
  void textThatIsNotExplainOutputIsRejected() {
    for (String text :
        List.of("{\"Plan\": ", "not json", "", "{\"Plan\": {}}", "[{\"x\": 1}]", "[[]]")) {
      assertThatThrownBy(() -> PlanLineage.fromPlan(text))
          .as(text)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("not EXPLAIN (FORMAT JSON) output");
    }
  }

  @Test
  void anUnfamiliarNodeIsIncomplete() {
    String plan =
        """
        [{"Plan": {"Node Type": "Quantum Scan", "Alias": "q",
                   "Output": ["q.secret", "upper(q.x)", "1", "'q.x'::text"]}}]
        """;

    assertThat(PlanLineage.fromPlan(plan))
        .containsExactly(ColumnLineage.UNKNOWN, ColumnLineage.UNKNOWN, expected(""), expected(""));
  }

  @Test
  void oddPlansAreIncompleteNotErrors() {
    String plan =
        """
        [{"Plan": {"Node Type": "Hash Join", "Plans": 7,
                   "Output": [1, "c.ssn", "'unterminated", "\\"unterminated.x",
                              "nobody.ssn", "ssn", "(c.ssn)::numeric(", "a.b.c"]}}]
        """;

    assertThat(PlanLineage.fromPlan(plan)).containsOnly(ColumnLineage.UNKNOWN);

    String emptyInput =
        """
        [{"Plan": {"Node Type": "Sort", "Output": ["x.a", "(x.a)"],
                   "Plans": [{"Node Type": "Weird", "Parent Relationship": "Outer",
                              "Output": ["", "x.a"]}]}}]
        """;
    assertThat(PlanLineage.fromPlan(emptyInput)).containsOnly(ColumnLineage.UNKNOWN);
  }

  @Test
  void aPlanWithoutOutputHasNoColumns() {
    String plan =
        """
        [{"Plan": {"Node Type": "ModifyTable", "Operation": "Delete",
                   "Relation Name": "cards", "Schema": "bank", "Alias": "cards",
                   "Plans": [{"Node Type": "Seq Scan", "Parent Relationship": "Outer",
                              "Relation Name": "cards", "Schema": "bank", "Alias": "cards",
                              "Output": ["ctid"]}]}}]
        """;

    assertThat(PlanLineage.fromPlan(plan)).isEmpty();
  }

  @Test
  void parametersAreInitPlanOutputsOrBindParameters() {
    String plan =
        """
        [{"Plan": {"Node Type": "Seq Scan", "Relation Name": "accounts", "Schema": "bank",
                   "Alias": "a", "Output": ["($0 || a.iban)", "($1 || $3)", "$2"],
                   "Plans": [{"Node Type": "Limit", "Parent Relationship": "InitPlan",
                              "Subplan Name": "InitPlan 1 (returns $0,$1)",
                              "Output": ["k.pan", "k.expiry"],
                              "Plans": [{"Node Type": "Seq Scan", "Parent Relationship": "Outer",
                                         "Relation Name": "cards", "Schema": "bank",
                                         "Alias": "k", "Output": ["k.pan", "k.expiry"]}]}]}}]
        """;

    assertThat(PlanLineage.fromPlan(plan))
        .containsExactly(
            expected("cards.pan;accounts.iban"), expected("cards.expiry"), expected(""));
  }

  @Test
  void aStatementRulesRewroteIsTracedThroughThePlanThatReturnsRows() {
    String insert =
        """
        {"Plan": {"Node Type": "ModifyTable", "Operation": "Insert", "Relation Name": "log",
                  "Schema": "bank", "Alias": "log"}}
        """;
    String delete =
        """
        {"Plan": {"Node Type": "ModifyTable", "Operation": "Delete", "Relation Name": "cards",
                  "Schema": "bank", "Alias": "k", "Output": ["k.pan"]}}
        """;

    assertThat(PlanLineage.fromPlan("[" + insert + "," + delete + "]"))
        .containsExactly(expected("cards.pan;?"));
    assertThat(PlanLineage.fromPlan("[]")).as("rewritten to nothing").isEmpty();
  }

  private static ColumnLineage expected(String sources) {
    Set<SourceColumn> columns = new HashSet<>();
    Set<SourceTable> wholeRows = new HashSet<>();
    boolean complete = true;
    for (String source : sources.split(";")) {
      if (source.isEmpty()) {
        continue;
      }
      if (source.equals("?")) {
        complete = false;
        continue;
      }
      int dot = source.indexOf('.');
      String table = source.substring(0, dot);
      String column = source.substring(dot + 1);
      if (column.equals("*")) {
        wholeRows.add(new SourceTable("bank", table));
      } else {
        columns.add(new SourceColumn("bank", table, column));
      }
    }
    return new ColumnLineage(columns, wholeRows, complete);
  }

  /** The statement's result columns, from a describe that does not execute it. */
  private static int resultColumns(String sql) throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement(sql.replaceAll("\\$\\d+", "?"))) {
      var metaData = statement.getMetaData();
      return metaData == null ? 0 : metaData.getColumnCount();
    }
  }

  private static List<Long> rowCounts() throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet row = statement.executeQuery(ROW_COUNTS)) {
      row.next();
      List<Long> counts = new ArrayList<>();
      for (int column = 1; column <= 3; column++) {
        counts.add(row.getLong(column));
      }
      return counts;
    }
  }
}
