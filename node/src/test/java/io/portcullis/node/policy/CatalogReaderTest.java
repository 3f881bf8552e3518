package io.portcullis.node.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.node.config.TargetSettings;
import io.portcullis.node.config.TargetSettings.PasswordSource;
import io.portcullis.node.config.TargetSettings.TlsMode;
import io.portcullis.node.config.TargetSettings.UpstreamTls;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.policy.catalog.CatalogDependencies;
import io.portcullis.policy.catalog.Relations;
import io.portcullis.policy.catalog.Relations.Relation;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.StatementAnalysis;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The dependencies read from a real catalog, in two schemas of the tests' own. */
class CatalogReaderTest {

  private static final String BANK = "catalog_bank_" + UUID.randomUUID().toString().substring(0, 8);
  private static final String REPORTS = BANK.replace("bank", "reports");
  private static final SqlAnalyzer ANALYZER = new SqlAnalyzer();

  private static CatalogDependencies catalog;

  @BeforeAll
  static void createSchemas() throws SQLException {
    TestPostgres.Server server = TestPostgres.server();
    // Simple protocol: the JDBC driver would split BEGIN ATOMIC bodies at their semicolons.
    try (Connection connection =
            DriverManager.getConnection(
                server.jdbcUrl(TestPostgres.DATABASE) + "?preferQueryMode=simple",
                server.user(),
                server.password());
        Statement statement = connection.createStatement()) {
      statement.execute(
          """
          CREATE SCHEMA bank;
          CREATE SCHEMA reports;
          CREATE TABLE bank.customers (id int PRIMARY KEY, name text);
          CREATE TABLE bank.accounts (id int, customer int, balance numeric);
          ALTER TABLE bank.accounts DROP COLUMN customer;
          ALTER TABLE bank.accounts ADD COLUMN customer int;
          CREATE TABLE bank.audit (at timestamptz DEFAULT now(), what text);
          CREATE VIEW bank.customer_summary AS SELECT id, name FROM bank.customers;
          CREATE VIEW reports.rich_customers AS
            SELECT c.id, c.name FROM bank.customer_summary c
              JOIN bank.accounts a ON a.customer = c.id WHERE a.balance > 1000;
          CREATE MATERIALIZED VIEW bank.balances AS
            SELECT customer, sum(balance) FROM bank.accounts GROUP BY customer;
          CREATE FUNCTION bank.customer_count() RETURNS bigint LANGUAGE sql
            SET search_path = bank AS 'SELECT count(*) FROM customer_summary';
          CREATE FUNCTION bank.account_count() RETURNS bigint LANGUAGE sql
            AS 'SELECT count(*) FROM bank.accounts';
          CREATE FUNCTION bank.close_account(account int) RETURNS void LANGUAGE sql
            BEGIN ATOMIC
              INSERT INTO bank.audit (what) VALUES ('close');
              DELETE FROM bank.accounts a WHERE a.id = account;
            END;
          CREATE FUNCTION reports.rich_count() RETURNS bigint LANGUAGE sql
            RETURN (SELECT count(*) FROM reports.rich_customers) + bank.customer_count();
          CREATE FUNCTION bank.touch() RETURNS void LANGUAGE plpgsql
            AS $$ BEGIN UPDATE bank.customers SET name = name; END $$;
          CREATE FUNCTION bank.touch_all() RETURNS void LANGUAGE sql AS 'SELECT bank.touch()';
          """
              .replace("bank", BANK)
              .replace("reports", REPORTS));
    }
    try (Connection connection = TestPostgres.direct()) {
      catalog = CatalogReader.read(connection);
    }
  }

  @AfterAll
  static void dropSchemas() throws SQLException {
    try (Connection connection = TestPostgres.direct();
        Statement statement = connection.createStatement()) {
      statement.execute("DROP SCHEMA " + BANK + ", " + REPORTS + " CASCADE");
    }
  }

  private static StatementAnalysis expanded(String sql) {
    return catalog.expand(
        ANALYZER
            .analyze(sql.replace("bank.", BANK + ".").replace("reports.", REPORTS + "."), true)
            .get(0));
  }

  private static String[] in(String schema, String... names) {
    return Arrays.stream(names).map(name -> schema + "." + name).toArray(String[]::new);
  }

  /** The tests' database as a target, on the given port. */
  static TargetSettings target(String name, int port) {
    TestPostgres.Server server = TestPostgres.server();
    return new TargetSettings(
        name,
        server.host(),
        port,
        TestPostgres.DATABASE,
        server.user(),
        new PasswordSource.Literal(server.password()),
        List.of(),
        Optional.empty(),
        new UpstreamTls(TlsMode.DISABLE, Optional.empty()),
        Duration.ofSeconds(5));
  }

  @Test
  void aViewReadsItsTable() {
    assertThat(expanded("SELECT * FROM bank.customer_summary").tablesRead())
        .containsExactlyInAnyOrder(in(BANK, "customer_summary", "customers"));
  }

  @Test
  void aViewOfAViewInAnotherSchemaReadsEveryRelationUnderIt() {
    assertThat(expanded("SELECT * FROM reports.rich_customers").tablesRead())
        .contains(in(BANK, "customer_summary", "customers", "accounts"));
  }

  @Test
  void aMaterializedViewReadsItsTable() {
    assertThat(expanded("SELECT * FROM bank.balances").tablesRead())
        .containsExactlyInAnyOrder(in(BANK, "balances", "accounts"));
  }

  @Test
  void writingToAnUpdatableViewWritesItsTable() {
    assertThat(expanded("UPDATE bank.customer_summary SET name = 'x' WHERE id = 1").tablesWritten())
        .containsExactlyInAnyOrder(in(BANK, "customer_summary", "customers"));
  }

  @Test
  void aStringBodyIsResolvedOnTheFunctionsSearchPath() {
    assertThat(expanded("SELECT bank.customer_count()").tablesRead())
        .contains(in(BANK, "customer_summary", "customers"));
  }

  @Test
  void anAtomicBodyReadsAndWritesWhatItNames() {
    StatementAnalysis call = expanded("SELECT bank.close_account(7)");
    assertThat(call.tablesWritten()).containsExactlyInAnyOrder(in(BANK, "audit", "accounts"));
    assertThat(call.tablesRead()).contains(in(BANK, "audit", "accounts"));
  }

  @Test
  void aReturnBodyReadsItsViewsAndTheFunctionsItCalls() {
    assertThat(expanded("SELECT reports.rich_count()").tablesRead())
        .contains(in(REPORTS, "rich_customers"))
        .contains(in(BANK, "customer_summary", "customers", "accounts"));
  }

  @Test
  void aFunctionCalledWithoutItsSchemaStandsForItInEverySchema() {
    assertThat(expanded("SELECT account_count()").tablesRead()).contains(in(BANK, "accounts"));
  }

  @Test
  void plpgsqlFunctionsAndSqlFunctionsCallingThemAreOpaque() {
    assertThat(catalog.opaqueFunctions())
        .contains(in(BANK, "touch", "touch_all"))
        .doesNotContain(in(BANK, "customer_count", "account_count", "close_account"));
  }

  @Test
  void systemRelationsAreLeftAsTheyAre() {
    StatementAnalysis system = ANALYZER.analyze("SELECT * FROM pg_catalog.pg_views", true).get(0);
    assertThat(catalog.expand(system)).isSameAs(system);
  }

  @Test
  void theReaderConnectsAsATargetAndNamesItself() throws SQLException {
    TargetSettings target = target("main", TestPostgres.server().port());
    try (Connection connection = CatalogReader.connect(target);
        ResultSet rows =
            connection
                .createStatement()
                .executeQuery("SELECT current_setting('application_name')")) {
      rows.next();
      assertThat(rows.getString(1)).isEqualTo("portcullis-catalog");
    }
    assertThat(CatalogReader.load(target).dependencies().opaqueFunctions())
        .contains(in(BANK, "touch"));
  }

  @Test
  void relationsNameEveryColumnByNumberAcrossDroppedColumns() throws SQLException {
    try (Connection connection = TestPostgres.direct()) {
      Relations relations = CatalogReader.relations(connection);
      ResultSet oids =
          connection
              .createStatement()
              .executeQuery(
                  "SELECT '%1$s.accounts'::regclass::oid, '%1$s.customer_summary'::regclass::oid"
                      .formatted(BANK));
      oids.next();
      Relation accounts = relations.get(oids.getInt(1));
      assertThat(accounts.schema()).isEqualTo(BANK);
      assertThat(accounts.name()).isEqualTo("accounts");
      assertThat(accounts.kind()).isEqualTo(Relations.Kind.TABLE);
      assertThat(accounts.column(1)).isEqualTo("id");
      assertThat(accounts.column(2)).as("dropped").isNull();
      assertThat(accounts.column(4)).isEqualTo("customer");
      assertThat(accounts.column(5)).isNull();
      assertThat(relations.get(oids.getInt(2)).kind()).isEqualTo(Relations.Kind.VIEW);
      assertThat(relations.named(BANK, "customer_summary").columns()).containsExactly("id", "name");
      assertThat(relations.get(1259)).as("pg_class is not a user relation").isNull();
    }
  }
}
