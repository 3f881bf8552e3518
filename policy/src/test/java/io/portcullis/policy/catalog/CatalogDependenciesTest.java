package io.portcullis.policy.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.catalog.CatalogDependencies.References;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.StatementAnalysis;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CatalogDependenciesTest {

  private static final SqlAnalyzer ANALYZER = new SqlAnalyzer();

  /** bank.rich_customers over bank.customer_summary over bank.customers; sql functions on them. */
  private static final CatalogDependencies BANK =
      CatalogDependencies.of(
          Map.of(
              "bank.customer_summary", reads("bank.customers"),
              "reports.rich_customers", reads("bank.customer_summary", "bank.accounts"),
              "reports.customer_summary", reads("reports.archive")),
          Map.of(
              "bank.customer_count", reads("customer_summary"),
              "bank.close_account",
                  new References(Set.of(), Set.of("bank.accounts"), Set.of("bank.log_event")),
              "bank.log_event", new References(Set.of(), Set.of("bank.audit"), Set.of())),
          Set.of());

  private static References reads(String... relations) {
    return new References(Set.of(relations), Set.of(), Set.of());
  }

  private static References calls(String... functions) {
    return new References(Set.of(), Set.of(), Set.of(functions));
  }

  private static StatementAnalysis expanded(CatalogDependencies catalog, String sql) {
    return catalog.expand(ANALYZER.analyze(sql, true).get(0));
  }

  @Test
  void aViewReadsTheTablesUnderIt() {
    assertThat(expanded(BANK, "SELECT * FROM bank.customer_summary").tablesRead())
        .containsExactlyInAnyOrder("bank.customer_summary", "bank.customers");
  }

  @Test
  void aViewOfAViewReadsEveryRelationDownToTheTables() {
    assertThat(expanded(BANK, "SELECT name FROM reports.rich_customers").tablesRead())
        .containsExactlyInAnyOrder(
            "reports.rich_customers", "bank.customer_summary", "bank.accounts", "bank.customers");
  }

  @Test
  void anUnqualifiedNameStandsForThatViewInEverySchema() {
    assertThat(expanded(BANK, "SELECT * FROM customer_summary").tablesRead())
        .containsExactlyInAnyOrder("customer_summary", "bank.customers", "reports.archive");
  }

  @Test
  void aCalledFunctionReadsWhatItsBodyReads() {
    StatementAnalysis statement = expanded(BANK, "SELECT bank.customer_count()");
    assertThat(statement.tablesRead())
        .containsExactlyInAnyOrder("customer_summary", "bank.customers", "reports.archive");
    assertThat(statement.tablesWritten()).isEmpty();
  }

  @Test
  void aCalledFunctionWritesWhatItAndTheFunctionsItCallsWrite() {
    StatementAnalysis statement = expanded(BANK, "SELECT close_account(42)");
    assertThat(statement.tablesWritten()).containsExactlyInAnyOrder("bank.accounts", "bank.audit");
    assertThat(statement.functions()).containsExactly("close_account");
  }

  @Test
  void writingToAViewWritesTheTablesUnderIt() {
    assertThat(
            expanded(BANK, "UPDATE bank.customer_summary SET name = 'x' WHERE id = 1")
                .tablesWritten())
        .containsExactlyInAnyOrder("bank.customer_summary", "bank.customers");
    assertThat(expanded(BANK, "INSERT INTO reports.rich_customers VALUES (1)").tablesWritten())
        .containsExactlyInAnyOrder(
            "reports.rich_customers", "bank.customer_summary", "bank.accounts", "bank.customers");
  }

  @Test
  void droppingAViewDoesNotWriteTheTablesUnderIt() {
    StatementAnalysis drop = ANALYZER.analyze("DROP VIEW bank.customer_summary", true).get(0);
    assertThat(BANK.expand(drop)).isSameAs(drop);
  }

  @Test
  void aStatementOnPlainTablesIsReturnedAsItIs() {
    StatementAnalysis plain =
        ANALYZER
            .analyze("SELECT c.name, now() FROM bank.customers c JOIN accounts a USING (id)", true)
            .get(0);
    assertThat(BANK.expand(plain)).isSameAs(plain);
    assertThat(CatalogDependencies.empty().expand(plain)).isSameAs(plain);
  }

  @Test
  void aFunctionReadingAViewThatCallsItEnds() {
    CatalogDependencies cyclic =
        CatalogDependencies.of(
            Map.of("s.v", new References(Set.of("s.t"), Set.of(), Set.of("s.f"))),
            Map.of(
                "s.f",
                new References(Set.of("s.v"), Set.of(), Set.of("s.g")),
                "s.g",
                calls("s.f", "g")),
            Set.of());
    assertThat(expanded(cyclic, "SELECT s.g()").tablesRead())
        .containsExactlyInAnyOrder("s.v", "s.t");
    assertThat(expanded(cyclic, "SELECT * FROM v").tablesRead())
        .containsExactlyInAnyOrder("v", "s.v", "s.t");
  }

  @Test
  void aSqlFunctionCallingAnOpaqueOneIsOpaque() {
    CatalogDependencies catalog =
        CatalogDependencies.of(
            Map.of(),
            Map.of("s.wrapper", calls("helper"), "s.plain", reads("s.t")),
            Set.of("s.helper"));
    assertThat(catalog.opaqueFunctions()).containsExactlyInAnyOrder("s.helper", "s.wrapper");
  }

  @Test
  void aFunctionCalledByASchemaTheCatalogDoesNotHoldIsUnknown() {
    CatalogDependencies catalog =
        CatalogDependencies.of(Map.of(), Map.of("s.plain", reads("s.t")), Set.of("s.helper"));
    for (String known :
        new String[] {
          "SELECT replace(name, 'a', 'b'), count(*) FROM s.t",
          "SELECT pg_catalog.replace(name, 'a', 'b') FROM s.t",
          "SELECT s.plain(), s.helper(), made_since() FROM s.t",
          "SELECT * FROM (VALUES (1, 'x')) v(a, b)"
        }) {
      assertThat(catalog.callsUnknownFunction(ANALYZER.analyze(known, true).get(0)))
          .as(known)
          .isFalse();
    }
    for (String unknown : new String[] {"SELECT s.made_since()", "SELECT pg_temp.tf()"}) {
      assertThat(catalog.callsUnknownFunction(ANALYZER.analyze(unknown, true).get(0)))
          .as(unknown)
          .isTrue();
    }
  }
}
