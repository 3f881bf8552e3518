package io.portcullis.policy.masking;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.StatementAnalysis;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PredicateGuardTest {

  private static final MaskingPolicy POLICY =
      new MaskingPolicy(
          List.of(
              new ColumnRule(
                  "ssn",
                  List.of(new ColumnRef(Optional.of("bank"), "customers", "ssn")),
                  new MaskStrategy.Partial(4),
                  Set.of("fraud"),
                  true,
                  Set.of("contractors"))),
          List.of());
  private static final SqlAnalyzer ANALYZER = new SqlAnalyzer();

  private static boolean refused(Set<String> groups, String sql) {
    return refused(groups, sql, true);
  }

  private static boolean refused(
      Set<String> groups, String sql, boolean standardConformingStrings) {
    SessionMasking masking = POLICY.forIdentity(new Identity("u", "i", groups, false));
    StatementAnalysis statement = ANALYZER.analyze(sql, standardConformingStrings).get(0);
    return PredicateGuard.violation(masking, groups, statement, standardConformingStrings)
        .isPresent();
  }

  /**
   * With {@code standard_conforming_strings} off a backslash escapes a quote, so the filter below
   * is outside any string; read with the setting on, it would hide inside one.
   */
  @Test
  void readsStringsAsTheSessionsSettingSays() {
    String sql = "SELECT name FROM bank.customers WHERE 'a\\'' = '' OR ssn LIKE '1%' --'";
    assertThat(refused(Set.of("contractors"), sql, false)).isTrue();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          SELECT ssn FROM bank.customers                                        | false
          SELECT upper(ssn), name FROM bank.customers c                         | false
          SELECT name FROM bank.customers UNION SELECT ssn FROM bank.customers  | false
          SELECT ssn FROM other.customers WHERE ssn = '1'                       | false
          SELECT ssn FROM bank.accounts WHERE ssn = '1'                         | false
          SELECT ssn FROM bank.customers WHERE ssn LIKE '123%'                  | true
          SELECT name FROM bank.customers ORDER BY ssn                          | true
          SELECT count(*) FROM bank.customers GROUP BY ssn                      | true
          SELECT 1 FROM bank.customers a JOIN bank.customers b ON a.ssn = b.ssn | true
          SELECT (SELECT max(ssn) FROM bank.customers WHERE ssn > '5')          | true
          SELECT row_number() OVER (ORDER BY "ssn") FROM bank.customers         | true
          WITH x AS (SELECT * FROM bank.customers WHERE ssn = '1') SELECT 1 FROM x | true
          UPDATE bank.customers SET name = 'x' WHERE ssn = '123-45-6789'        | true
          """)
  void contractorsMaySelectButNotFilterJoinGroupOrSort(String sql, boolean refused) {
    assertThat(refused(Set.of("contractors"), sql)).as(sql).isEqualTo(refused);
  }

  @ParameterizedTest
  @CsvSource({"agents", "'contractors,fraud'"})
  void otherGroupsAndExemptIdentitiesMayFilter(String groups) {
    assertThat(
            refused(
                Set.of(groups.split(",")), "SELECT ssn FROM bank.customers WHERE ssn LIKE '1%'"))
        .isFalse();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          INSERT INTO scratch SELECT * FROM bank.customers                         | true
          CREATE TABLE scratch AS SELECT ssn FROM bank.customers                   | true
          UPDATE scratch s SET v = c.ssn FROM bank.customers c WHERE c.id = s.id   | true
          INSERT INTO scratch VALUES (1, 'x')                                      | false
          UPDATE bank.customers SET name = 'x' WHERE id = 1                        | false
          SELECT ssn FROM bank.customers                                           | false
          DO $$ BEGIN CREATE TEMP TABLE t AS SELECT ssn FROM bank.customers; END $$ | true
          DO $$ BEGIN RAISE NOTICE 'hello'; END $$                                 | true
          """)
  void copiesOfProtectedTablesAreRefusedUnlessExempt(String sql, boolean refused) {
    StatementAnalysis statement = ANALYZER.analyze(sql, true).get(0);
    SessionMasking agent = POLICY.forIdentity(new Identity("u", "i", Set.of("agents"), true));
    SessionMasking fraud = POLICY.forIdentity(new Identity("f", "i", Set.of("fraud"), false));
    assertThat(CopyGuard.violation(agent, statement, false, true).isPresent())
        .as(sql)
        .isEqualTo(refused);
    assertThat(CopyGuard.violation(fraud, statement, false, true)).as("exempt").isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          CREATE TABLE scratch AS SELECT s.opaque(i) FROM generate_series(1, 2) i | true
          INSERT INTO scratch VALUES (1, s.opaque(1))                             | true
          SELECT s.opaque(1)                                                      | false
          """)
  void writesWithAFunctionWhoseReadsCannotBeFollowedAreRefusedUnlessExempt(
      String sql, boolean refused) {
    StatementAnalysis statement = ANALYZER.analyze(sql, true).get(0);
    SessionMasking agent = POLICY.forIdentity(new Identity("u", "i", Set.of("agents"), true));
    SessionMasking fraud = POLICY.forIdentity(new Identity("f", "i", Set.of("fraud"), false));
    assertThat(CopyGuard.violation(agent, statement, true, true).isPresent())
        .as(sql)
        .isEqualTo(refused);
    assertThat(CopyGuard.violation(fraud, statement, true, true)).as("exempt").isEmpty();
  }
}
