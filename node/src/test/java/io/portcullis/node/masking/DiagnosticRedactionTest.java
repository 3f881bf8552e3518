package io.portcullis.node.masking;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.catalog.Relations;
import io.portcullis.policy.catalog.Relations.Relation;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which words of PostgreSQL's errors and notices could be values, and so are redacted. */
class DiagnosticRedactionTest {

  private static final Relations CATALOG =
      Relations.of(
          Map.of(
              16400,
              new Relation(
                  "bank",
                  "customers",
                  Relations.Kind.TABLE,
                  List.of("id", "ssn", "account_no"),
                  List.of(23, 25, 25),
                  Set.of(),
                  Optional.empty())));

  private static String redacted(String statement, String message) {
    return new DiagnosticRedaction(List.of(statement), CATALOG).redact(message);
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          SELECT account_no::int FROM bank.customers | value "9988776655" is out of range for type integer | value "***" is out of range for type integer
          SELECT ssn::date FROM bank.customers | invalid input syntax for type date: "123-45-6789" | invalid input syntax for type date: "***"
          UPDATE bank.customers SET note = 'x' | Failing row contains (1, Alice Adams, 123-45-6789, alice.adams@example.com, x). | Failing row contains (***, *** ***, ***, ***, x).
          UPDATE bank.customers SET id = 2 WHERE id = 1 | Key (id)=(2) already exists. | Key (id)=(2) already exists.
          INSERT INTO bank.customers VALUES (1) | duplicate key value violates unique constraint "customers_pkey" | duplicate key value violates unique constraint "customers_pkey"
          SELECT bank.shout(ssn) FROM bank.customers | PL/pgSQL function bank.shout(text) line 3 at RAISE | PL/pgSQL function bank.shout(text) line *** at RAISE
          SELECT bank.shout(ssn) FROM bank.customers | Customer José Núñez has number 4111 1111 1111 1111 | *** *** *** has number *** *** *** ***
          SELECT * FROM custmers | relation "custmers" does not exist | relation "custmers" does not exist
          SELECT 'abc'::int | invalid input syntax for type integer: "abc" | invalid input syntax for type integer: "abc"
          SELECT PORTCULLIS_REFUSED_0a1b2c | syntax error at or near "PORTCULLIS_REFUSED_0a1b2c" | syntax error at or near "PORTCULLIS_REFUSED_0a1b2c"
          """)
  void redactsWhatIsNeitherPostgresNorTheClientsNorTheCatalogs(
      String statement, String message, String shown) {
    assertThat(redacted(statement, message)).isEqualTo(shown);
  }

  @Test
  void postgresWordsCountOnlyAsPostgresWritesThem() {
    // "max" is a word of PostgreSQL's messages; "Max" the name of a customer.
    assertThat(redacted("SELECT 1", "max Max")).isEqualTo("max ***");
  }

  @ParameterizedTest
  @CsvSource({
    "22012, true, 22012",
    "P0001, true, P0001",
    "01000, false, 01000",
    "99887, true, P0001",
    "76655, false, 01000"
  })
  void sqlStatesThatPostgresDoesNotDefineAreReplaced(String code, boolean error, String shown) {
    assertThat(DiagnosticRedaction.sqlState(code, error)).isEqualTo(shown);
  }

  @Test
  void tellsWhetherAnythingWasRedacted() {
    DiagnosticRedaction redaction = new DiagnosticRedaction(List.of("SELECT 1"), CATALOG);
    String untouched = "division by zero";
    assertThat(redaction.redact(untouched)).isSameAs(untouched);
    assertThat(redaction.redacted()).isFalse();
    redaction.redact("value 42");
    assertThat(redaction.redacted()).isTrue();
  }
}
