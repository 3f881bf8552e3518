package io.portcullis.node.masking;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.node.masking.CopyRows.FieldRewriter;
import io.portcullis.node.testing.TestPostgres;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOut;

/**
 * Rows as PostgreSQL sends them in COPY TO STDOUT, rewritten, and read back by PostgreSQL's own
 * COPY FROM STDIN with the same options.
 */
class CopyRowsTest {

  /**
   * id, a, b: every character the formats treat specially, NULLs, and the NULL strings. (Text with
   * {@code NULL ''} is left out: it writes the empty string and NULL alike.)
   */
  private static final List<List<String>> ROWS =
      List.of(
          row("1", "tab\there", "new\nline"),
          row("2", "back\\slash \\N \\x41 \\101", "quote\"d 'single' \"\""),
          row("3", "comma, semi; pipe| bang!", null),
          row("4", "", "NIL"),
          row("5", "ünïcødé ✓ 𝄞", "cr\rhere\r\n"),
          row("6", "\\.", "\\N"),
          row("7", null, ""),
          row("8", "\b\f\u000B\u0001 controls", " \"lead and trail\" "));

  /** Holds every special character of every variant below. */
  private static final String AWKWARD = "x\ty,z;w|v\"u'tNIL\\N s\nr\rq\\.p!\\";

  private static Connection connection;
  private static CopyManager copy;

  /** COPY options, and how that COPY writes NULL (null for binary). */
  record Variant(String options, String nullString) {
    @Override
    public String toString() {
      return options.isEmpty() ? "text" : options;
    }
  }

  static Stream<Variant> variants() {
    return Stream.of(
        new Variant("", "\\N"),
        new Variant("(DELIMITER '|', NULL 'NIL', HEADER)", "NIL"),
        new Variant("(FORMAT csv)", ""),
        new Variant("CSV HEADER", ""),
        new Variant(
            "(FORMAT csv, HEADER, DELIMITER ';', QUOTE '''', ESCAPE '\\', NULL 'NIL')", "NIL"),
        new Variant("CSV DELIMITER AS '|' QUOTE AS '!' NULL AS '\\N' FORCE QUOTE *", "\\N"),
        new Variant("(FORMAT binary)", null));
  }

  private static List<String> row(String... values) {
    return Arrays.asList(values);
  }

  @BeforeAll
  static void connect() throws SQLException {
    connection = TestPostgres.direct();
    copy = connection.unwrap(PGConnection.class).getCopyAPI();
    try (Statement st = connection.createStatement()) {
      st.execute("CREATE TEMP TABLE source (id int, a text, b text)");
      st.execute("CREATE TEMP TABLE scratch (id int, a text, b text)");
      st.execute("CREATE TEMP TABLE one (a text)");
    }
    try (PreparedStatement insert =
        connection.prepareStatement("INSERT INTO source VALUES (?::int, ?, ?)")) {
      for (List<String> row : ROWS) {
        for (int i = 0; i < 3; i++) {
          insert.setString(i + 1, row.get(i));
        }
        insert.executeUpdate();
      }
    }
  }

  @AfterAll
  static void disconnect() throws SQLException {
    connection.close();
  }

  @ParameterizedTest
  @MethodSource("variants")
  void keepingEveryFieldChangesNothing(Variant variant) throws Exception {
    CopyRows rows = rows(variant);
    for (byte[] payload : copyOut(variant)) {
      assertThat(rows.rewrite(payload, (column, value) -> value)).isNull();
    }
  }

  /** The values as PostgreSQL reads its own output (text with NULL 'NIL' reads 'NIL' as NULL). */
  @ParameterizedTest
  @MethodSource("variants")
  void fieldsAreDecodedToTheirValues(Variant variant) throws Exception {
    CopyRows rows = rows(variant);
    List<List<String>> decoded = new ArrayList<>();
    for (byte[] payload : copyOut(variant)) {
      rows.rewrite(
          payload,
          (column, value) -> {
            if (column == 0) {
              decoded.add(new ArrayList<>());
            }
            decoded.get(decoded.size() - 1).add(text(variant, column, value));
            return value;
          });
    }
    assertThat(decoded).isEqualTo(rewrittenAndReadBack(variant, (column, value) -> value));
  }

  @ParameterizedTest
  @MethodSource("variants")
  void everyFieldWrittenAgainReadsBackTheSame(Variant variant) throws Exception {
    // A copy of the value is a replacement: every field is encoded by CopyRows.
    assertThat(
            rewrittenAndReadBack(variant, (column, value) -> value == null ? null : value.clone()))
        .isEqualTo(rewrittenAndReadBack(variant, (column, value) -> value));
  }

  @ParameterizedTest
  @MethodSource("variants")
  void awkwardReplacementsReadBackAsWritten(Variant variant) throws Exception {
    List<List<String>> read =
        rewrittenAndReadBack(
            variant,
            (column, value) ->
                switch (column) {
                  case 1 -> AWKWARD.getBytes(UTF_8);
                  case 2 -> null;
                  default -> value;
                });
    assertThat(read).isEqualTo(expected(row -> row(row.get(0), AWKWARD, null)));
  }

  @ParameterizedTest
  @MethodSource("variants")
  void aReplacementEqualToTheNullStringIsNotNull(Variant variant) throws Exception {
    String lookalike = variant.nullString() == null ? "" : variant.nullString();
    List<List<String>> read =
        rewrittenAndReadBack(
            variant, (column, value) -> column == 0 ? value : lookalike.getBytes(UTF_8));
    assertThat(read).isEqualTo(expected(row -> row(row.get(0), lookalike, lookalike)));
  }

  @Test
  void theEndOfDataMarkerAloneOnACsvLineIsQuoted() throws Exception {
    for (String options : List.of("(FORMAT csv)", "")) {
      execute("TRUNCATE one");
      String sql = "COPY (SELECT a FROM source ORDER BY id) TO STDOUT " + options;
      CopyRows rows = CopyRows.forStatement(CopyStatement.parse(sql).orElseThrow());
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (byte[] payload : copyOut(sql)) {
        out.writeBytes(rows.rewrite(payload, (column, value) -> "\\.".getBytes(UTF_8)));
      }
      copy.copyIn("COPY one FROM STDIN " + options, new ByteArrayInputStream(out.toByteArray()));
      assertThat(query("SELECT a FROM one")).hasSize(ROWS.size()).containsOnly(row("\\."));
    }
  }

  @Test
  void eachRowComesInACopyDataOfItsOwn() throws Exception {
    List<byte[]> text = copyOut("COPY (SELECT id, a, b FROM source ORDER BY id) TO STDOUT");
    assertThat(text).hasSize(ROWS.size()).allSatisfy(row -> assertThat(row).endsWith('\n'));

    List<byte[]> csv =
        copyOut("COPY (SELECT id, a, b FROM source ORDER BY id) TO STDOUT CSV HEADER");
    assertThat(csv).hasSize(ROWS.size() + 1);
    assertThat(new String(csv.get(0), UTF_8)).isEqualTo("id,a,b\n");

    // The binary header comes with the first row, the trailer alone.
    List<byte[]> binary =
        copyOut("COPY (SELECT id, a, b FROM source ORDER BY id) TO STDOUT BINARY");
    assertThat(binary).hasSize(ROWS.size() + 1);
    assertThat(new String(binary.get(0), 0, 6, UTF_8)).isEqualTo("PGCOPY");
    assertThat(binary.get(0).length).isGreaterThan(19 + 2);
    assertThat(binary.get(binary.size() - 1)).containsExactly(0xFF, 0xFF);
  }

  @Test
  void anEmptyBinaryCopyHasHeaderAndTrailerTogether() throws Exception {
    String sql = "COPY (SELECT a FROM source WHERE false) TO STDOUT (FORMAT binary)";
    List<byte[]> payloads = copyOut(sql);
    assertThat(payloads).hasSize(1);
    assertThat(payloads.get(0)).hasSize(19 + 2);
    CopyRows rows = CopyRows.forStatement(CopyStatement.parse(sql).orElseThrow());
    assertThat(rows.rewrite(payloads.get(0), (column, value) -> new byte[0])).isNull();
  }

  @Test
  void theHeaderRowIsPassedThrough() throws Exception {
    String sql = "COPY source TO STDOUT (FORMAT csv, HEADER)";
    CopyRows rows = CopyRows.forStatement(CopyStatement.parse(sql).orElseThrow());
    List<byte[]> payloads = copyOut(sql);
    FieldRewriter everything = (column, value) -> "masked".getBytes(UTF_8);
    assertThat(rows.rewrite(payloads.get(0), everything)).isNull();
    assertThat(new String(rows.rewrite(payloads.get(1), everything), UTF_8))
        .isEqualTo("masked,masked,masked\n");
  }

  @Test
  void malformedBinaryDataIsRefused() throws Exception {
    List<byte[]> payloads =
        copyOut("COPY (SELECT id, a FROM source ORDER BY id) TO STDOUT (FORMAT binary)");
    byte[] first = payloads.get(0);
    byte[] second = payloads.get(1);
    byte[] trailer = payloads.get(payloads.size() - 1);
    FieldRewriter keep = (column, value) -> value;

    assertThatThrownBy(() -> binary().rewrite(second, keep))
        .isInstanceOf(MalformedCopyDataException.class)
        .hasMessageContaining("signature");
    assertThatThrownBy(() -> binary().rewrite(Arrays.copyOf(first, first.length - 1), keep))
        .isInstanceOf(MalformedCopyDataException.class)
        .hasMessageContaining("truncated");
    byte[] longer = Arrays.copyOf(second, second.length + 3);
    assertThatThrownBy(() -> afterHeader(first).rewrite(longer, keep))
        .isInstanceOf(MalformedCopyDataException.class);
    byte[] negative = second.clone();
    ByteBuffer.wrap(negative).putInt(2, -7);
    assertThatThrownBy(() -> afterHeader(first).rewrite(negative, keep))
        .isInstanceOf(MalformedCopyDataException.class)
        .hasMessageContaining("length -7");
    byte[] oids = first.clone();
    ByteBuffer.wrap(oids).putInt(11, 1 << 16);
    assertThatThrownBy(() -> binary().rewrite(oids, keep))
        .isInstanceOf(MalformedCopyDataException.class)
        .hasMessageContaining("flags");

    CopyRows ended = afterHeader(first);
    assertThat(ended.rewrite(trailer, keep)).isNull();
    assertThatThrownBy(() -> ended.rewrite(second, keep))
        .isInstanceOf(MalformedCopyDataException.class)
        .hasMessageContaining("after the trailer");
  }

  @Test
  void malformedTextAndCsvRowsAreRefused() {
    FieldRewriter keep = (column, value) -> value;
    CopyRows text = CopyRows.forStatement(CopyStatement.parse("COPY t TO STDOUT").orElseThrow());
    assertThatThrownBy(() -> text.rewrite("a\tb".getBytes(UTF_8), keep))
        .isInstanceOf(MalformedCopyDataException.class);
    assertThatThrownBy(() -> text.rewrite("a\\\n".getBytes(UTF_8), keep))
        .isInstanceOf(MalformedCopyDataException.class);
    assertThatThrownBy(() -> text.rewrite("a\rb\n".getBytes(UTF_8), keep))
        .isInstanceOf(MalformedCopyDataException.class);
    CopyRows csv = CopyRows.forStatement(CopyStatement.parse("COPY t TO STDOUT CSV").orElseThrow());
    assertThatThrownBy(() -> csv.rewrite("a,\"b\n".getBytes(UTF_8), keep))
        .isInstanceOf(MalformedCopyDataException.class)
        .hasMessageContaining("quoted");
    assertThatThrownBy(() -> csv.rewrite("a,b".getBytes(UTF_8), keep))
        .isInstanceOf(MalformedCopyDataException.class);
  }

  @Test
  void textEscapesAreAllUndone() {
    CopyRows text = CopyRows.forStatement(CopyStatement.parse("COPY t TO STDOUT").orElseThrow());
    List<String> values = new ArrayList<>();
    text.rewrite(
        "\\b\\f\\n\\r\\t\\v\\\\\\q\\101\\0411\\x41\\x4a2\\xg\tx\\\ty\n".getBytes(UTF_8),
        (column, value) -> {
          values.add(new String(value, UTF_8));
          return value;
        });
    assertThat(values).containsExactly("\b\f\n\r\t\u000B\\qA!1AJ2xg", "x\ty");
  }

  private List<List<String>> rewrittenAndReadBack(Variant variant, FieldRewriter rewriter)
      throws Exception {
    execute("TRUNCATE scratch");
    CopyRows rows = rows(variant);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] payload : copyOut(variant)) {
      byte[] rewritten = rows.rewrite(payload, rewriter);
      out.writeBytes(rewritten == null ? payload : rewritten);
    }
    // FORCE QUOTE is for COPY TO only.
    String options = variant.options().replace(" FORCE QUOTE *", "");
    copy.copyIn("COPY scratch FROM STDIN " + options, new ByteArrayInputStream(out.toByteArray()));
    return query("SELECT id::text, a, b FROM scratch ORDER BY id");
  }

  private static List<List<String>> expected(UnaryOperator<List<String>> change) {
    return ROWS.stream().map(change).toList();
  }

  private static CopyRows rows(Variant variant) {
    return CopyRows.forStatement(
        CopyStatement.parse("COPY source TO STDOUT " + variant.options()).orElseThrow());
  }

  private static CopyRows binary() {
    return CopyRows.forStatement(CopyStatement.parse("COPY t TO STDOUT BINARY").orElseThrow());
  }

  private static CopyRows afterHeader(byte[] first) {
    CopyRows rows = binary();
    rows.rewrite(first, (column, value) -> value);
    return rows;
  }

  private static String text(Variant variant, int column, byte[] value) {
    if (value == null) {
      return null;
    }
    if (variant.nullString() == null && column == 0) {
      return Integer.toString(ByteBuffer.wrap(value).getInt());
    }
    return new String(value, UTF_8);
  }

  private static List<byte[]> copyOut(Variant variant) throws SQLException {
    return copyOut("COPY (SELECT id, a, b FROM source ORDER BY id) TO STDOUT " + variant.options());
  }

  /** The payloads of the CopyData messages, one by one as they came. */
  private static List<byte[]> copyOut(String sql) throws SQLException {
    CopyOut out = copy.copyOut(sql);
    List<byte[]> payloads = new ArrayList<>();
    for (byte[] payload = out.readFromCopy(); payload != null; payload = out.readFromCopy()) {
      payloads.add(payload);
    }
    return payloads;
  }

  private static void execute(String sql) throws SQLException {
    try (Statement st = connection.createStatement()) {
      st.execute(sql);
    }
  }

  private static List<List<String>> query(String sql) throws SQLException {
    List<List<String>> rows = new ArrayList<>();
    try (Statement st = connection.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<String> row = new ArrayList<>();
        for (int i = 1; i <= columns; i++) {
          row.add(rs.getString(i));
        }
        rows.add(row);
      }
    }
    return rows;
  }
}
