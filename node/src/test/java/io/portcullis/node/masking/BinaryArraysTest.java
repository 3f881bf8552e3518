package io.portcullis.node.masking;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.node.testing.TestPostgres;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOut;

/** Arrays in PostgreSQL's binary format, as it sends them in a binary COPY and reads them back. */
class BinaryArraysTest {

  private static final int TEXT_OID = 25;
  private static final int INT4_OID = 23;

  private static Connection connection;
  private static CopyManager copy;

  @BeforeAll
  static void connect() throws SQLException {
    connection = TestPostgres.direct();
    copy = connection.unwrap(PGConnection.class).getCopyAPI();
  }

  @AfterAll
  static void disconnect() throws SQLException {
    connection.close();
  }

  @Test
  void aTextArrayWithNulls() throws Exception {
    BinaryArray array = BinaryArray.decode(binary("ARRAY['a', 'b,c', NULL, 'ünï', '']::text[]"));
    assertThat(array.elementOid()).isEqualTo(TEXT_OID);
    assertThat(array.lengths()).containsExactly(5);
    assertThat(array.lowerBounds()).containsExactly(1);
    assertThat(texts(array)).containsExactly("a", "b,c", null, "ünï", "");
  }

  @Test
  void aTwoDimensionalArrayWithOtherBounds() throws Exception {
    BinaryArray array = BinaryArray.decode(binary("'[0:1][-1:1]={{1,2,3},{4,NULL,6}}'::int4[]"));
    assertThat(array.elementOid()).isEqualTo(INT4_OID);
    assertThat(array.lengths()).containsExactly(2, 3);
    assertThat(array.lowerBounds()).containsExactly(0, -1);
    assertThat(array.elements())
        .map(element -> element == null ? null : ByteBuffer.wrap(element).getInt())
        .containsExactly(1, 2, 3, 4, null, 6);
  }

  @Test
  void anEmptyArray() throws Exception {
    BinaryArray array = BinaryArray.decode(binary("'{}'::text[]"));
    assertThat(array.lengths()).isEmpty();
    assertThat(array.elements()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ARRAY['a', 'b,c', NULL, 'ünï', '']::text[]",
        "ARRAY[[['x', NULL], ['y', 'z']], [[NULL, NULL], ['\"', '\\']]]",
        "'[0:1][-1:1]={{1,2,3},{4,NULL,6}}'::int4[]",
        "'{}'::text[]",
        "ARRAY['\\x00ff'::bytea, NULL]",
        "ARRAY[1.5, NULL, -2]::numeric[]"
      })
  void decodingAndEncodingGivesBackTheSameBytes(String array) throws Exception {
    byte[] sent = binary(array);
    assertThat(BinaryArray.decode(sent).encode()).isEqualTo(sent);
  }

  @Test
  void elementsReplacedInPlaceAreReadByPostgresqlAndTheNullFlagFollows() throws Exception {
    BinaryArray array = BinaryArray.decode(binary("ARRAY[['a', NULL], [NULL, 'd']]::text[]"));
    List<byte[]> elements = array.elements();
    for (int i = 0; i < elements.size(); i++) {
      elements.set(i, elements.get(i) == null ? "was null, now ✓".getBytes(UTF_8) : null);
    }
    byte[] encoded = array.encode();
    assertThat(ByteBuffer.wrap(encoded).getInt(4)).as("has-null flag").isEqualTo(1);
    assertThat(readBack(encoded))
        .isEqualTo("{{NULL,\"was null, now ✓\"},{\"was null, now ✓\",NULL}}");

    elements.replaceAll(element -> "x".getBytes(UTF_8));
    byte[] noNulls = array.encode();
    assertThat(ByteBuffer.wrap(noNulls).getInt(4)).as("has-null flag").isEqualTo(0);
    assertThat(readBack(noNulls)).isEqualTo("{{x,x},{x,x}}");
    assertThatThrownBy(() -> elements.add(null)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void aNewArrayCopiesWhatItIsGiven() {
    int[] lengths = {2};
    List<byte[]> elements = new ArrayList<>(Arrays.asList(new byte[] {1}, null));
    BinaryArray array = new BinaryArray(INT4_OID, lengths, new int[] {1}, elements);
    lengths[0] = 5;
    elements.set(1, new byte[] {2});
    assertThat(array.lengths()).containsExactly(2);
    assertThat(array.elements().get(1)).isNull();
  }

  @Test
  void malformedValuesAreRefused() throws Exception {
    byte[] sent = binary("ARRAY['a', NULL, 'bc']::text[]");
    assertMalformed(Arrays.copyOf(sent, 10), "truncated");
    assertMalformed(Arrays.copyOf(sent, sent.length - 1), "element 3");
    assertMalformed(Arrays.copyOf(sent, sent.length + 1), "1 bytes after");
    assertMalformed(with(sent, 0, 7), "7 dimensions");
    assertMalformed(with(sent, 0, -1), "-1 dimensions");
    assertMalformed(with(sent, 4, 2), "has-null flag 2");
    assertMalformed(with(sent, 12, -3), "length -3");
    assertMalformed(with(sent, 12, 1 << 30), "truncated or corrupt");
    assertMalformed(with(sent, 16, Integer.MAX_VALUE), "largest integer");
    assertMalformed(with(sent, 20, -2), "length -2");
    assertMalformed(with(sent, 20, 1000), "length 1000");
  }

  @Test
  void theElementsMustFillTheDimensions() {
    List<byte[]> three = Arrays.asList(new byte[0], null, new byte[0]);
    assertThatThrownBy(() -> new BinaryArray(TEXT_OID, new int[] {2, 2}, new int[] {1, 1}, three))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("3 elements");
    assertThatThrownBy(() -> new BinaryArray(TEXT_OID, new int[] {3}, new int[] {1, 1}, three))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lower bounds");
  }

  private static void assertMalformed(byte[] value, String message) {
    assertThatThrownBy(() -> BinaryArray.decode(value))
        .isInstanceOf(MalformedArrayException.class)
        .hasMessageContaining(message);
  }

  private static byte[] with(byte[] value, int offset, int int32) {
    byte[] changed = value.clone();
    ByteBuffer.wrap(changed).putInt(offset, int32);
    return changed;
  }

  private static List<String> texts(BinaryArray array) {
    return array.elements().stream()
        .map(element -> element == null ? null : new String(element, UTF_8))
        .toList();
  }

  /** The value of {@code expression} in binary, as a binary COPY sends it. */
  private static byte[] binary(String expression) throws SQLException {
    CopyOut out = copy.copyOut("COPY (SELECT " + expression + ") TO STDOUT (FORMAT binary)");
    CopyRows rows = CopyRows.forStatement(CopyStatement.parse("COPY t TO STDOUT BINARY").get());
    List<byte[]> values = new ArrayList<>();
    for (byte[] payload = out.readFromCopy(); payload != null; payload = out.readFromCopy()) {
      rows.rewrite(
          payload,
          (column, value) -> {
            values.add(value);
            return value;
          });
    }
    assertThat(values).hasSize(1);
    return values.get(0);
  }

  /** PostgreSQL reads {@code array} (text[]) from a binary COPY and shows it as text. */
  private static String readBack(byte[] array) throws Exception {
    try (Statement st = connection.createStatement()) {
      st.execute("CREATE TEMP TABLE IF NOT EXISTS arrays (a text[])");
      st.execute("TRUNCATE arrays");
    }
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    data.writeBytes(new byte[] {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0});
    data.writeBytes(new byte[8]);
    data.writeBytes(new byte[] {0, 1});
    data.writeBytes(ByteBuffer.allocate(4).putInt(array.length).array());
    data.writeBytes(array);
    data.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xFF});
    copy.copyIn(
        "COPY arrays FROM STDIN (FORMAT binary)", new ByteArrayInputStream(data.toByteArray()));
    try (Statement st = connection.createStatement();
        ResultSet rs = st.executeQuery("SELECT a::text FROM arrays")) {
      rs.next();
      return rs.getString(1);
    }
  }
}
