package io.portcullis.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What the analysis reports for statements whose tables the decision table cannot observe. */
class SqlAnalyzerTest {

  private final SqlAnalyzer analyzer = new SqlAnalyzer();

  private StatementAnalysis analyze(String sql) {
    return analyzer.analyze(sql, true).get(0);
  }

  @Test
  void grantingAPrivilegeOnATableNamesThatTable() {
    assertThat(analyze("GRANT SELECT ON bank.customers TO PUBLIC").tablesWritten())
        .containsExactly("bank.customers");
    assertThat(analyze("REVOKE SELECT ON TABLE payroll FROM alice").tablesWritten())
        .containsExactly("payroll");
  }

  @Test
  void aViewsQueryIsStillReadAsAQuery() {
    StatementAnalysis view = analyze("CREATE VIEW v AS SELECT * FROM customers");
    assertThat(view.tablesRead()).containsExactly("customers");
    assertThat(view.tablesWritten()).containsExactly("v");
  }
}
