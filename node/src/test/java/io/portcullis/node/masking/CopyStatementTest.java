package io.portcullis.node.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.node.masking.CopyStatement.Format;
import io.portcullis.node.testing.TestPostgres;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;

class CopyStatementTest {

  private static Connection connection;

  @BeforeAll
  static void connect() throws SQLException {
    connection = TestPostgres.direct();
    try (Statement st = connection.createStatement()) {
      st.execute("CREATE TEMP TABLE t (a int, b text)");
      st.execute("CREATE TEMP TABLE \"My\"\"T\" (\"B c\" int)");
    }
  }

  @AfterAll
  static void disconnect() throws SQLException {
    connection.close();
  }

  private static CopyStatement parsed(String sql) {
    Optional<CopyStatement> copy = CopyStatement.parse(sql);
    assertThat(copy).as(sql).isPresent();
    return copy.get();
  }

  @Test
  void aTableWithTheTextDefaults() {
    CopyStatement copy = parsed("COPY t TO STDOUT");
    assertThat(copy.schema()).isEmpty();
    assertThat(copy.table()).contains("t");
    assertThat(copy.columns()).isEmpty();
    assertThat(copy.query()).isEmpty();
    assertThat(copy.format()).isEqualTo(Format.TEXT);
    assertThat(copy.header()).isFalse();
    assertThat(copy.delimiter()).isEqualTo('\t');
    assertThat(copy.nullString()).isEqualTo("\\N");
    assertThat(copy.encoding()).isEmpty();
  }

  @Test
  void namesAreFoldedAsPostgresqlFoldsThem() {
    CopyStatement copy = parsed("copy Public.MyTable (A, \"B c\", Ünï) to stdout");
    assertThat(copy.schema()).contains("public");
    assertThat(copy.table()).contains("mytable");
    assertThat(copy.columns()).containsExactly("a", "B c", "Ünï");

    copy = parsed("COPY \"My\"\"Schema\".\"T\" TO STDOUT");
    assertThat(copy.schema()).contains("My\"Schema");
    assertThat(copy.table()).contains("T");

    copy = parsed("COPY /* a comment */ t -- another\n TO STDOUT;");
    assertThat(copy.schema()).isEmpty();
    assertThat(copy.table()).contains("t");
  }

  @Test
  void aQueryIsItsTextBetweenTheParentheses() {
    String query =
        "SELECT f(x), ')' AS p, $$)$$ AS q /* ) */ FROM (SELECT 1 AS x) s WHERE x IN (1, (2))";
    CopyStatement copy = parsed("COPY ( " + query + "\n) TO STDOUT WITH CSV");
    assertThat(copy.query()).contains(query);
    assertThat(copy.table()).isEmpty();
    assertThat(copy.columns()).isEmpty();
    assertThat(copy.format()).isEqualTo(Format.CSV);
  }

  @Test
  void aStatementCopiesATableOrAQuery() {
    assertThatThrownBy(
            () ->
                new CopyStatement(
                    Optional.empty(),
                    Optional.of("t"),
                    List.of(),
                    Optional.of("SELECT 1"),
                    Format.TEXT,
                    false,
                    '\t',
                    "\\N",
                    '"',
                    '"',
                    Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theOptionList() {
    CopyStatement copy =
        parsed(
            "COPY t TO STDOUT WITH (FORMAT csv, HEADER, DELIMITER ';', NULL 'x', QUOTE '''',"
                + " ESCAPE '\\', FORCE_QUOTE *, ENCODING 'UTF8')");
    assertThat(copy.format()).isEqualTo(Format.CSV);
    assertThat(copy.header()).isTrue();
    assertThat(copy.delimiter()).isEqualTo(';');
    assertThat(copy.nullString()).isEqualTo("x");
    assertThat(copy.quote()).isEqualTo('\'');
    assertThat(copy.escape()).isEqualTo('\\');
    assertThat(copy.encoding()).contains("UTF8");

    copy = parsed("COPY t TO STDOUT (\"format\" 'csv', header off, force_quote (a, \"b\"))");
    assertThat(copy.format()).isEqualTo(Format.CSV);
    assertThat(copy.header()).isFalse();
    assertThat(copy.delimiter()).isEqualTo(',');
    assertThat(copy.nullString()).isEmpty();
    assertThat(copy.quote()).isEqualTo('"');
    assertThat(copy.escape()).isEqualTo('"');

    assertThat(parsed("COPY t TO STDOUT (HEADER 1, DELIMITER '|')").header()).isTrue();
    assertThat(parsed("COPY t TO STDOUT (FORMAT binary, FREEZE)").format())
        .isEqualTo(Format.BINARY);
  }

  @Test
  void theOldOptionSyntax() {
    CopyStatement copy =
        parsed(
            "COPY t TO STDOUT WITH CSV HEADER DELIMITER AS ',' NULL AS 'n' QUOTE AS '!'"
                + " ESCAPE '^' FORCE QUOTE a, b ENCODING 'LATIN1'");
    assertThat(copy.format()).isEqualTo(Format.CSV);
    assertThat(copy.header()).isTrue();
    assertThat(copy.nullString()).isEqualTo("n");
    assertThat(copy.quote()).isEqualTo('!');
    assertThat(copy.escape()).isEqualTo('^');
    assertThat(copy.encoding()).contains("LATIN1");

    assertThat(parsed("COPY t TO STDOUT CSV QUOTE AS '\"'").quote()).isEqualTo('"');
    assertThat(parsed("COPY t TO STDOUT USING DELIMITERS '|'").delimiter()).isEqualTo('|');
    assertThat(parsed("COPY t TO STDOUT DELIMITERS '|' NULL ''").nullString()).isEmpty();
    for (String binary :
        List.of(
            "COPY t TO STDOUT BINARY",
            "COPY t TO STDOUT WITH BINARY",
            "COPY BINARY t TO STDOUT",
            "COPY t TO STDOUT (FORMAT binary)")) {
      assertThat(parsed(binary).format()).as(binary).isEqualTo(Format.BINARY);
    }
  }

  @Test
  void stringConstantsAreReadAsTheServerReadsThem() {
    assertThat(parsed("COPY t TO STDOUT (DELIMITER E'\\t', NULL E'\\\\N\\x41\\101\\u00e9')"))
        .satisfies(
            copy -> {
              assertThat(copy.delimiter()).isEqualTo('\t');
              assertThat(copy.nullString()).isEqualTo("\\NAAé");
            });
    assertThat(parsed("COPY t TO STDOUT (NULL $q$it's$q$)").nullString()).isEqualTo("it's");
    assertThat(parsed("COPY t TO STDOUT (NULL 'a' -- continued\n  'b')").nullString())
        .isEqualTo("ab");
    assertThat(CopyStatement.parse("COPY t TO STDOUT (NULL '\\\\N')", false).get().nullString())
        .isEqualTo("\\N");
    assertThat(CopyStatement.parse("COPY t TO STDOUT (NULL '\\N')", true).get().nullString())
        .isEqualTo("\\N");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT 1",
        "COPY t FROM STDIN",
        "COPY t TO '/tmp/out'",
        "COPY t TO PROGRAM 'cat'",
        "COPY (SELECT 1) TO STDOUT; SELECT 2",
        "COPY (SELECT 1 TO STDOUT",
        "COPY () TO STDOUT",
        "COPY db.public.t TO STDOUT",
        "COPY t TO STDOUT (NULL U&'\\0041')"
      })
  void whatIsNotCopyToStdoutIsNotRead(String sql) {
    assertThat(CopyStatement.parse(sql)).isEmpty();
  }

  /** What PostgreSQL itself refuses is not read either, so no option is misread. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "COPY t TO STDOUT (FOO 1)",
        "COPY t TO STDOUT (FORMAT csv, FORMAT text)",
        "COPY BINARY t TO STDOUT (FORMAT csv)",
        "COPY t TO STDOUT CSV CSV",
        "COPY t TO STDOUT USING DELIMITERS '|' DELIMITER '|'",
        "COPY t TO STDOUT (FORMAT 'CSV')",
        "COPY t TO STDOUT (FORMAT)",
        "COPY t TO STDOUT (FORMAT text, QUOTE '\"')",
        "COPY t TO STDOUT (ESCAPE '\\')",
        "COPY t TO STDOUT (FORMAT binary, HEADER)",
        "COPY t TO STDOUT (FORMAT binary, NULL 'x')",
        "COPY t TO STDOUT BINARY DELIMITER ','",
        "COPY t TO STDOUT (DELIMITER ',,')",
        "COPY t TO STDOUT (DELIMITER 'é')",
        "COPY t TO STDOUT (DELIMITER 'a')",
        "COPY t TO STDOUT (DELIMITER '\\')",
        "COPY t TO STDOUT (DELIMITER E'\\n')",
        "COPY t TO STDOUT (NULL E'a\\rb')",
        "COPY t TO STDOUT (DELIMITER '|', NULL 'a|b')",
        "COPY t TO STDOUT (FORMAT csv, NULL 'a\"b')",
        "COPY t TO STDOUT (FORMAT csv, DELIMITER '\"')",
        "COPY t TO STDOUT (FORMAT csv, QUOTE 'ab')",
        "COPY t TO STDOUT (HEADER match)",
        "COPY t TO STDOUT (HEADER 2)",
        "COPY t TO STDOUT (HEADER 'yes')",
        "COPY t TO STDOUT (FORCE_QUOTE *)",
        "COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE 'a')",
        "COPY t TO STDOUT (FORMAT csv, FORCE_NOT_NULL (a))",
        "COPY t TO STDOUT CSV FORCE NOT NULL a",
        "COPY t TO STDOUT (NULL E'\\0')",
        "COPY t TO STDOUT WHERE a > 1",
        "COPY (SELECT 1) TO STDOUT USING DELIMITERS '|'",
        "COPY t TO STDOUT ()",
        "COPY t TO STDOUT (NULL B'101')"
      })
  void whatPostgresqlRefusesIsNotRead(String sql) {
    assertThat(CopyStatement.parse(sql)).isEmpty();
    assertThatThrownBy(() -> run(sql)).as(sql).isInstanceOf(SQLException.class);
  }

  /** And what it reads is read, checked against the server. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "COPY t TO STDOUT",
        "COPY \"My\"\"T\" (\"B c\") TO STDOUT WITH (FORMAT csv, FORCE_QUOTE (\"B c\"))",
        "COPY t TO STDOUT (HEADER)",
        "COPY t TO STDOUT (FORMAT csv, HEADER 'ON', DELIMITER *, FREEZE 0)",
        "COPY t TO STDOUT (FORMAT \"csv\", DELIMITER x, ESCAPE $$\\$$)",
        "COPY t TO STDOUT WITH CSV HEADER DELIMITER AS ';' NULL AS 'n' QUOTE AS '!' FORCE QUOTE *",
        "COPY (SELECT a, ')' FROM t) TO STDOUT BINARY",
        "COPY t (b) TO STDOUT USING DELIMITERS '|' WITH NULL AS ''",
        "COPY t TO STDOUT (ENCODING 'latin1')"
      })
  void whatPostgresqlReadsIsRead(String sql) throws Exception {
    assertThat(CopyStatement.parse(sql)).as(sql).isPresent();
    run(sql);
  }

  private static void run(String sql) throws Exception {
    connection
        .unwrap(PGConnection.class)
        .getCopyAPI()
        .copyOut(sql, OutputStream.nullOutputStream());
  }
}
