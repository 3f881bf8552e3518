package io.portcullis.policy.masking;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.masking.PredicateGuard.Violation;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.StatementAnalysis;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Writes to a protected table itself. Copies into other tables, DO blocks and unreadable functions
 * are in {@link PredicateGuardTest}.
 */
class CopyGuardTest {

  private static final MaskingPolicy POLICY =
      new MaskingPolicy(
          List.of(
              new ColumnRule(
                  "ssn",
                  List.of(new ColumnRef(Optional.of("bank"), "customers", "ssn")),
                  new MaskStrategy.Partial(4),
                  Set.of("fraud"),
                  true,
                  Set.of()),
              new ColumnRule(
                  "card",
                  List.of(new ColumnRef(Optional.of("bank"), "customers", "card_number")),
                  new MaskStrategy.Redact("****"),
                  Set.of("fraud", "cards"),
                  true,
                  Set.of())),
          List.of());
  private static final SqlAnalyzer ANALYZER = new SqlAnalyzer();

  private static Optional<Violation> violation(Set<String> groups, String sql) {
    SessionMasking masking = POLICY.forIdentity(new Identity("u", "i", groups, false));
    StatementAnalysis statement = ANALYZER.analyze(sql, true).get(0);
    return CopyGuard.violation(masking, statement, false, true);
  }

  @ParameterizedTest
  @CsvSource(
      delimiterString = "==>",
      textBlock =
          """
          UPDATE bank.customers SET note = ssn ==> ssn
          UPDATE customers SET note = ssn WHERE id = 1 ==> ssn
          UPDATE bank.customers c SET note = c.ssn ==> ssn
          UPDATE bank.customers SET note = customers.ssn ==> ssn
          UPDATE bank.customers SET note = bank.customers.ssn ==> ssn
          UPDATE bank.customers SET note = "ssn" ==> ssn
          UPDATE ONLY bank.customers AS c SET note = left(c.ssn, 3) ==> ssn
          UPDATE bank.customers SET note = ssn || '' ==> ssn
          UPDATE bank.customers SET note = CASE WHEN id > 0 THEN ssn END ==> ssn
          UPDATE bank.customers SET note = 'x' IS DISTINCT FROM ssn ==> ssn
          UPDATE bank.customers SET note = (SELECT ssn) ==> ssn
          UPDATE bank.customers SET name = upper(name), note = $$x$$ /* , */ || ssn ==> ssn
          UPDATE bank.customers SET (note, name) = (ssn, name) ==> ssn
          UPDATE bank.customers SET (name, note) = ROW(name, ssn) ==> ssn
          UPDATE bank.customers SET (note, ssn) = (SELECT s, ssn FROM (SELECT ssn AS s) q) ==> ssn
          UPDATE bank.customers SET ssn = note, note = ssn ==> ssn
          UPDATE bank.customers SET tags[length(ssn)] = 'x' ==> ssn
          UPDATE bank.customers c SET note = c::text ==> ssn
          UPDATE bank.customers SET note = to_jsonb(customers) ->> 'ssn' ==> ssn
          UPDATE bank.customers c SET note = row_to_json(c.*)::text ==> ssn
          UPDATE bank.customers SET note = (customers).card_number ==> ssn
          UPDATE bank.customers SET ssn = card_number ==> card
          UPDATE bank.customers SET card_number = ssn ==> ssn
          WITH u AS (UPDATE bank.customers SET note = ssn RETURNING id) SELECT * FROM u ==> ssn
          EXPLAIN ANALYZE UPDATE bank.customers SET note = ssn ==> ssn
          PREPARE p AS UPDATE bank.customers SET note = ssn ==> ssn
          INSERT INTO bank.customers (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET note = ssn ==> ssn
          INSERT INTO bank.customers (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET note = customers.ssn ==> ssn
          INSERT INTO bank.customers AS c (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET note = c.ssn WHERE c.id > 0 ==> ssn
          MERGE INTO bank.customers t USING (VALUES (1)) s(id) ON t.id = s.id WHEN MATCHED THEN UPDATE SET note = t.ssn ==> ssn
          MERGE INTO bank.customers t USING (VALUES (1)) s(id) ON t.id = s.id WHEN MATCHED AND t.id > 0 THEN UPDATE SET note = CASE WHEN true THEN ssn END WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id) ==> ssn
          """)
  void copiesOfAProtectedColumnIntoAnotherColumnOfItsTableAreRefused(String sql, String rule) {
    assertThat(violation(Set.of("agents"), sql)).as(sql).map(Violation::ruleId).contains(rule);
    assertThat(violation(Set.of("fraud"), sql)).as("exempt: " + sql).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiterString = "==>",
      textBlock =
          """
          UPDATE bank.customers SET ssn = upper(ssn)
          UPDATE bank.customers SET ssn = ssn
          UPDATE bank.customers c SET ssn = c.ssn || '', card_number = left(card_number, 4)
          UPDATE bank.customers SET (ssn, note) = (ssn, 'x')
          UPDATE bank.customers SET (note, ssn) = ROW(upper(note), trim(ssn))
          UPDATE bank.customers SET note = 'x' WHERE ssn = '123-45-6789'
          UPDATE bank.customers SET note = upper(note) WHERE id = 1 RETURNING ssn, customers.*
          UPDATE bank.customers SET note = 'ssn' -- ssn
          UPDATE bank.customers SET note = $x$ ssn $x$
          UPDATE bank.customers SET note = CASE WHEN id = 1 THEN 'a' ELSE 'b' END WHERE ssn > '1'
          UPDATE bank.customers SET note = v.n FROM (VALUES (1, 'x')) v(id, n) WHERE v.id = customers.id
          UPDATE bank.customers SET note = customers.note || customers.name
          UPDATE other.customers SET note = ssn
          UPDATE scratch SET note = ssn
          INSERT INTO bank.customers (id, ssn) VALUES (1, '1') ON CONFLICT (id) DO UPDATE SET note = excluded.ssn
          INSERT INTO bank.customers (id, ssn) VALUES (1, '1') ON CONFLICT (id) DO UPDATE SET ssn = excluded.ssn WHERE customers.ssn IS NULL
          MERGE INTO bank.customers t USING (VALUES (1, 'x')) s(id, ssn) ON t.id = s.id WHEN MATCHED THEN UPDATE SET ssn = s.ssn
          DELETE FROM bank.customers WHERE ssn = '1' RETURNING *
          SELECT ssn, card_number FROM bank.customers
          """)
  void writesThatKeepProtectedValuesInTheirColumnsAreAllowed(String sql) {
    assertThat(violation(Set.of("agents"), sql)).as(sql).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiterString = "==>",
      textBlock =
          """
          WITH d AS (DELETE FROM bank.customers RETURNING *) INSERT INTO scratch SELECT ssn FROM d ==> true
          WITH d AS (DELETE FROM bank.customers WHERE id = 1 RETURNING id, ssn) INSERT INTO bank.customers (id, note) SELECT id + 10, ssn FROM d ==> true
          WITH d AS (UPDATE bank.customers c SET name = name RETURNING c) INSERT INTO scratch SELECT d::text FROM d ==> true
          WITH d AS (UPDATE bank.customers SET name = name RETURNING upper(ssn) AS s), e AS (INSERT INTO scratch SELECT s FROM d) SELECT 1 ==> true
          CREATE TABLE t AS WITH d AS (UPDATE bank.customers SET note = note RETURNING ssn) SELECT * FROM d ==> true
          WITH d AS (UPDATE bank.customers SET name = name RETURNING ssn) SELECT ssn INTO TEMP t FROM d ==> true
          WITH d AS (MERGE INTO bank.customers t USING (VALUES (1)) s(id) ON t.id = s.id WHEN MATCHED THEN DELETE RETURNING t.*) INSERT INTO scratch SELECT * FROM d ==> true
          WITH d AS (UPDATE bank.customers SET name = name RETURNING ssn) SELECT * FROM d ==> false
          WITH d AS (UPDATE bank.customers SET name = name RETURNING ssn) SELECT replace(ssn, '-', '') FROM d ==> false
          WITH d AS (DELETE FROM bank.customers WHERE id = 1 RETURNING id, name) INSERT INTO scratch SELECT id, name FROM d ==> false
          WITH d AS (INSERT INTO scratch VALUES (1) RETURNING id) UPDATE bank.customers SET note = d.id::text FROM d ==> false
          UPDATE bank.customers SET name = name RETURNING ssn ==> false
          """)
  void protectedValuesReturnedByAWithQueryMayNotBeWrittenElsewhere(String sql, boolean refused) {
    assertThat(violation(Set.of("agents"), sql).isPresent()).as(sql).isEqualTo(refused);
    assertThat(violation(Set.of("fraud"), sql)).as("exempt: " + sql).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiterString = "==>",
      textBlock =
          """
          ALTER TABLE bank.customers RENAME COLUMN ssn TO x ==> true
          ALTER TABLE IF EXISTS ONLY bank.customers RENAME card_number TO y ==> true
          ALTER TABLE bank.customers RENAME TO c2 ==> true
          ALTER TABLE bank.customers SET SCHEMA public ==> true
          ALTER SCHEMA bank RENAME TO b2 ==> true
          ALTER TABLE bank.customers ALTER COLUMN note TYPE text USING ssn ==> true
          ALTER TABLE customers ADD COLUMN g text GENERATED ALWAYS AS (ssn) STORED ==> true
          ALTER TABLE bank.customers INHERIT public.p ==> true
          ALTER TABLE public.p ATTACH PARTITION bank.customers FOR VALUES IN (1) ==> true
          CREATE RULE r AS ON UPDATE TO bank.customers DO ALSO INSERT INTO t VALUES (new.ssn) ==> true
          CREATE TRIGGER t BEFORE UPDATE ON bank.customers FOR EACH ROW EXECUTE FUNCTION f() ==> true
          ALTER TABLE other.customers RENAME COLUMN ssn TO x ==> false
          ALTER TABLE scratch ADD COLUMN g text GENERATED ALWAYS AS (note) STORED ==> false
          CREATE TABLE public.customers (LIKE other.customers) ==> false
          CREATE TEMP TABLE t (v text) ==> false
          """)
  void definitionsOfAProtectedTableAreNotChanged(String sql, boolean refused) {
    assertThat(violation(Set.of("agents"), sql).isPresent()).as(sql).isEqualTo(refused);
    assertThat(violation(Set.of("fraud"), sql)).as("exempt: " + sql).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiterString = "==>",
      textBlock =
          """
          COPY bank.customers TO '/tmp/c' ==> true
          COPY (SELECT ssn FROM bank.customers) TO PROGRAM 'cat > /tmp/c' ==> true
          COPY bank.customers (id, name) TO '/tmp/c' (FORMAT csv) ==> true
          COPY bank.customers TO STDOUT ==> false
          COPY scratch TO '/tmp/c' ==> false
          """)
  void protectedTablesAreNotCopiedToServerFiles(String sql, boolean refused) {
    assertThat(violation(Set.of("agents"), sql).isPresent()).as(sql).isEqualTo(refused);
    assertThat(violation(Set.of("fraud"), sql)).as("exempt: " + sql).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiterString = "==>",
      textBlock =
          """
          UPDATE bank.customers SET note = card_number ==> false
          UPDATE bank.customers SET note = ssn ==> true
          """)
  void onlyTheRulesThatApplyToTheIdentityCount(String sql, boolean refused) {
    assertThat(violation(Set.of("cards"), sql).isPresent()).as(sql).isEqualTo(refused);
  }

  @Test
  void theTextIsReadWithTheSessionsStandardConformingStrings() {
    // With standard_conforming_strings off, 'a\'' is a string and "note = ssn" an assignment.
    String sql = "UPDATE bank.customers SET name = 'a\\'', note = ssn --'";
    StatementAnalysis statement = ANALYZER.analyze(sql, false).get(0);
    assertThat(CopyGuard.violation(agents(), statement, false, false)).isPresent();
    assertThat(CopyGuard.violation(agents(), statement, false, true)).isEmpty();
  }

  @Test
  void aWriteWhoseTextCannotBeReadIsRefused() {
    // Read with standard_conforming_strings off, 'a\' is an unterminated string.
    String sql = "UPDATE bank.customers SET note = 'a\\'";
    StatementAnalysis statement = ANALYZER.analyze(sql, true).get(0);
    assertThat(CopyGuard.violation(agents(), statement, false, false)).isPresent();
    assertThat(CopyGuard.violation(agents(), statement, false, true)).isEmpty();
  }

  private static SessionMasking agents() {
    return POLICY.forIdentity(new Identity("u", "i", Set.of("agents"), false));
  }
}
