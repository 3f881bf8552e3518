package io.portcullis.node.masking;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Rewrites single field values in the CopyData of one {@code COPY … TO STDOUT}, in the format its
 * statement asks for, keeping every byte of the fields left alone.
 *
 * <p>An instance follows one COPY and is fed its CopyData payloads in order: it remembers whether
 * the header row (text and CSV with HEADER) or the binary header has gone by, and whether the
 * binary trailer came. It is not thread-safe.
 *
 * <p>PostgreSQL sends each row in a CopyData of its own (the binary header comes with the first
 * row, or with the trailer when there are none); a payload holding several whole rows is read as
 * well, but a row split across payloads is malformed.
 *
 * <p>Text and CSV values are the bytes of the COPY's encoding: the session's client_encoding, or
 * the statement's {@code ENCODING}. They are UTF-8 only when that is UTF8, which the caller checks;
 * rows are split correctly in any encoding that never puts ASCII bytes inside a multi-byte
 * character (all but SJIS, BIG5, GBK, UHC, GB18030 and JOHAB).
 */
public sealed interface CopyRows {

  /** The rewriting for the rows of {@code statement}, fresh for one COPY. */
  static CopyRows forStatement(CopyStatement statement) {
    return switch (statement.format()) {
      case TEXT -> new Text(statement.delimiter(), statement.nullString(), statement.header());
      case CSV ->
          new Csv(
              statement.delimiter(),
              statement.quote(),
              statement.escape(),
              statement.nullString(),
              statement.header());
      case BINARY -> new Binary();
    };
  }

  /**
   * Rewrites one CopyData payload.
   *
   * @return the payload rewritten, or null when no field changed
   * @throws MalformedCopyDataException if the payload is not what the format says it must be
   */
  byte[] rewrite(byte[] payload, FieldRewriter rewriter);

  /** Decides the value of one field of a row. */
  @FunctionalInterface
  interface FieldRewriter {
    /**
     * The value the field is to have.
     *
     * @param column 0-based position of the field in its row
     * @param value the field decoded: text and CSV un-escaped, binary as sent; null for SQL NULL
     * @return {@code value} itself to keep the field as it was sent, null for SQL NULL, or the
     *     replacement (text for text and CSV, the binary value for binary)
     */
    byte[] rewrite(int column, byte[] value);
  }

  /**
   * The text format: fields split at the delimiter, backslash escapes, a row ends at an unescaped
   * newline.
   */
  final class Text implements CopyRows {
    private final byte delimiter;
    private final byte[] nullString;
    private boolean headerPending;

    Text(char delimiter, String nullString, boolean header) {
      this.delimiter = (byte) delimiter;
      this.nullString = nullString.getBytes(StandardCharsets.UTF_8);
      this.headerPending = header;
    }

    @Override
    public byte[] rewrite(byte[] payload, FieldRewriter rewriter) {
      Splice splice = new Splice(payload);
      int row = 0;
      while (row < payload.length) {
        int end = rowEnd(payload, row);
        if (headerPending) {
          headerPending = false;
        } else {
          rewriteRow(payload, row, end, rewriter, splice);
        }
        row = end + 1;
      }
      return splice.result();
    }

    private void rewriteRow(
        byte[] payload, int row, int end, FieldRewriter rewriter, Splice splice) {
      int start = row;
      for (int column = 0; ; column++) {
        int at = start;
        while (at < end && payload[at] != delimiter) {
          at += payload[at] == '\\' ? 2 : 1;
        }
        // COPY FROM compares the field to the NULL string before undoing the escapes.
        byte[] value =
            Arrays.equals(payload, start, at, nullString, 0, nullString.length)
                ? null
                : unescape(payload, start, at);
        byte[] replacement = rewriter.rewrite(column, value);
        if (replacement != value) {
          splice.replace(start, at).writeBytes(encode(replacement));
        }
        if (at == end) {
          return;
        }
        start = at + 1;
      }
    }

    /** The newline that ends the row starting at {@code from}; a backslash escapes any byte. */
    private static int rowEnd(byte[] payload, int from) {
      for (int at = from; at < payload.length; at++) {
        if (payload[at] == '\n') {
          return at;
        }
        if (payload[at] == '\r') {
          // COPY FROM would take it for the end of the row; PostgreSQL writes it as \r.
          throw new MalformedCopyDataException(
              "text COPY row has an unescaped carriage return at offset " + at);
        }
        if (payload[at] == '\\') {
          at++;
        }
      }
      throw new MalformedCopyDataException("text COPY row does not end with a newline");
    }

    /** The escapes CopyReadAttributesText undoes; a backslash before any other byte is dropped. */
    private static byte[] unescape(byte[] payload, int from, int to) {
      int backslash = from;
      while (backslash < to && payload[backslash] != '\\') {
        backslash++;
      }
      if (backslash == to) {
        return Arrays.copyOfRange(payload, from, to);
      }
      ByteArrayOutputStream value = new ByteArrayOutputStream(to - from);
      value.write(payload, from, backslash - from);
      int at = backslash;
      while (at < to) {
        byte b = payload[at++];
        if (b != '\\') {
          value.write(b);
          continue;
        }
        b = payload[at++];
        if (isOctal(b)) {
          int code = b - '0';
          for (int digits = 1; digits < 3 && at < to && isOctal(payload[at]); digits++) {
            code = (code << 3) + payload[at++] - '0';
          }
          value.write(code);
        } else if (b == 'x' && at < to && hexValue(payload[at]) >= 0) {
          int code = hexValue(payload[at++]);
          if (at < to && hexValue(payload[at]) >= 0) {
            code = (code << 4) + hexValue(payload[at++]);
          }
          value.write(code);
        } else {
          value.write(
              switch (b) {
                case 'b' -> '\b';
                case 'f' -> '\f';
                case 'n' -> '\n';
                case 'r' -> '\r';
                case 't' -> '\t';
                case 'v' -> 0x0B;
                default -> b;
              });
        }
      }
      return value.toByteArray();
    }

    /**
     * A value as CopyAttributeOutText writes it. PostgreSQL writes a value equal to the NULL string
     * as it is, to be read back as NULL; here its first byte is written as an octal escape instead
     * (impossible only for the empty value under {@code NULL ''}).
     */
    private byte[] encode(byte[] value) {
      if (value == null) {
        return nullString;
      }
      byte[] encoded = escape(value, false);
      return Arrays.equals(encoded, nullString) && value.length > 0 ? escape(value, true) : encoded;
    }

    private byte[] escape(byte[] value, boolean octalFirst) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 8);
      for (int i = 0; i < value.length; i++) {
        byte b = value[i];
        if (i == 0 && octalFirst) {
          out.write('\\');
          out.write('0' + ((b >> 6) & 3));
          out.write('0' + ((b >> 3) & 7));
          out.write('0' + (b & 7));
          continue;
        }
        int letter =
            switch (b) {
              case '\b' -> 'b';
              case '\f' -> 'f';
              case '\n' -> 'n';
              case '\r' -> 'r';
              case '\t' -> 't';
              case 0x0B -> 'v';
              default -> b == '\\' || b == delimiter ? b : -1;
            };
        if (letter >= 0) {
          out.write('\\');
          out.write(letter);
        } else {
          out.write(b);
        }
      }
      return out.toByteArray();
    }

    private static boolean isOctal(byte b) {
      return b >= '0' && b <= '7';
    }

    private static int hexValue(byte b) {
      if (b >= '0' && b <= '9') {
        return b - '0';
      }
      if (b >= 'a' && b <= 'f') {
        return b - 'a' + 10;
      }
      if (b >= 'A' && b <= 'F') {
        return b - 'A' + 10;
      }
      return -1;
    }
  }

  /**
   * The CSV format: fields split at the delimiter outside quotes, a quoted stretch may hold
   * anything, the escape character (the quote by default) escapes a quote or itself inside one.
   */
  final class Csv implements CopyRows {
    private static final byte[] END_OF_DATA = {'\\', '.'};

    private final byte delimiter;
    private final byte quote;
    private final byte escape;
    private final byte[] nullString;
    private boolean headerPending;

    Csv(char delimiter, char quote, char escape, String nullString, boolean header) {
      this.delimiter = (byte) delimiter;
      this.quote = (byte) quote;
      this.escape = (byte) escape;
      this.nullString = nullString.getBytes(StandardCharsets.UTF_8);
      this.headerPending = header;
    }

    @Override
    public byte[] rewrite(byte[] payload, FieldRewriter rewriter) {
      Splice splice = new Splice(payload);
      int row = 0;
      while (row < payload.length) {
        int columns = 1;
        int end = fieldEnd(payload, row);
        while (payload[end] != '\n') {
          columns++;
          end = fieldEnd(payload, end + 1);
        }
        if (headerPending) {
          headerPending = false;
        } else {
          rewriteRow(payload, row, columns, rewriter, splice);
        }
        row = end + 1;
      }
      return splice.result();
    }

    private void rewriteRow(
        byte[] payload, int row, int columns, FieldRewriter rewriter, Splice splice) {
      int start = row;
      for (int column = 0; column < columns; column++) {
        int end = fieldEnd(payload, start);
        // The NULL string never holds the quote, so matching it means the field had no quotes.
        byte[] value =
            Arrays.equals(payload, start, end, nullString, 0, nullString.length)
                ? null
                : unquote(payload, start, end);
        byte[] replacement = rewriter.rewrite(column, value);
        if (replacement != value) {
          write(replacement, columns == 1, splice.replace(start, end));
        }
        start = end + 1;
      }
    }

    /** The delimiter or newline, outside quotes, that ends the field starting at {@code from}. */
    private int fieldEnd(byte[] payload, int from) {
      boolean quoted = false;
      for (int at = from; at < payload.length; at++) {
        byte b = payload[at];
        if (quoted) {
          if (b == escape
              && at + 1 < payload.length
              && (payload[at + 1] == escape || payload[at + 1] == quote)) {
            at++;
          } else if (b == quote) {
            quoted = false;
          }
        } else if (b == delimiter || b == '\n') {
          return at;
        } else if (b == quote) {
          quoted = true;
        } else if (b == '\r') {
          // COPY FROM would take it for the end of the row; PostgreSQL quotes it.
          throw new MalformedCopyDataException(
              "CSV COPY row has a carriage return outside quotes at offset " + at);
        }
      }
      throw new MalformedCopyDataException(
          quoted
              ? "CSV COPY row ends inside a quoted field"
              : "CSV COPY row does not end with a newline");
    }

    /** The field's value as CopyReadAttributesCSV reads it. */
    private byte[] unquote(byte[] payload, int from, int to) {
      ByteArrayOutputStream value = null;
      boolean quoted = false;
      for (int at = from; at < to; at++) {
        byte b = payload[at];
        if (value == null) {
          if (b != quote) {
            continue;
          }
          value = new ByteArrayOutputStream(to - from);
          value.write(payload, from, at - from);
        }
        if (quoted
            && b == escape
            && at + 1 < to
            && (payload[at + 1] == escape || payload[at + 1] == quote)) {
          value.write(payload[++at]);
        } else if (b == quote) {
          quoted = !quoted;
        } else {
          value.write(b);
        }
      }
      return value == null ? Arrays.copyOfRange(payload, from, to) : value.toByteArray();
    }

    /**
     * A value as CopyAttributeOutCSV writes it: quoted when it holds a special character or could
     * be read as NULL, or as the end-of-data marker {@code \.} alone on a line.
     */
    private void write(byte[] value, boolean onlyColumn, ByteArrayOutputStream out) {
      if (value == null) {
        out.writeBytes(nullString);
        return;
      }
      boolean quoted =
          Arrays.equals(value, nullString) || (onlyColumn && Arrays.equals(value, END_OF_DATA));
      for (int i = 0; i < value.length && !quoted; i++) {
        byte b = value[i];
        quoted = b == delimiter || b == quote || b == escape || b == '\n' || b == '\r';
      }
      if (!quoted) {
        out.writeBytes(value);
        return;
      }
      out.write(quote);
      for (byte b : value) {
        if (b == quote || b == escape) {
          out.write(escape);
        }
        out.write(b);
      }
      out.write(quote);
    }
  }

  /**
   * The binary format: an 11-byte signature, flags and a header extension before the first row;
   * each row a 16-bit field count, then per field a 32-bit length (-1 for NULL) and the value; a
   * field count of -1 as the trailer.
   */
  final class Binary implements CopyRows {
    private static final byte[] SIGNATURE = {
      'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0
    };

    /** Bits 16-31 of the flags change the format (bit 16: OIDs); readers must refuse them. */
    private static final int CRITICAL_FLAGS = 0xFFFF0000;

    private boolean headerRead;
    private boolean trailerRead;

    Binary() {}

    @Override
    public byte[] rewrite(byte[] payload, FieldRewriter rewriter) {
      if (trailerRead) {
        throw new MalformedCopyDataException("binary COPY data after the trailer");
      }
      int at = 0;
      if (!headerRead) {
        at = header(payload);
        headerRead = true;
      }
      Splice splice = new Splice(payload);
      while (at < payload.length) {
        need(payload, at, 2, "a row's field count");
        int fields = int16(payload, at);
        at += 2;
        if (fields == -1) {
          trailerRead = true;
          if (at != payload.length) {
            throw new MalformedCopyDataException(
                "binary COPY trailer followed by " + (payload.length - at) + " bytes");
          }
          break;
        }
        if (fields < 0) {
          throw new MalformedCopyDataException("binary COPY row with " + fields + " fields");
        }
        for (int column = 0; column < fields; column++) {
          int start = at;
          need(payload, at, 4, "the length of field " + column);
          int length = int32(payload, at);
          at += 4;
          byte[] value = null;
          if (length >= 0) {
            need(payload, at, length, "field " + column);
            value = Arrays.copyOfRange(payload, at, at + length);
            at += length;
          } else if (length != -1) {
            throw new MalformedCopyDataException(
                "binary COPY field " + column + " has length " + length);
          }
          byte[] replacement = rewriter.rewrite(column, value);
          if (replacement != value) {
            ByteArrayOutputStream out = splice.replace(start, at);
            writeInt32(out, replacement == null ? -1 : replacement.length);
            if (replacement != null) {
              out.writeBytes(replacement);
            }
          }
        }
      }
      return splice.result();
    }

    /** Checks the header at the start of the first payload; returns where it ends. */
    private static int header(byte[] payload) {
      need(payload, 0, SIGNATURE.length + 8, "the header");
      if (!Arrays.equals(payload, 0, SIGNATURE.length, SIGNATURE, 0, SIGNATURE.length)) {
        throw new MalformedCopyDataException("binary COPY data without the PGCOPY signature");
      }
      int flags = int32(payload, SIGNATURE.length);
      if ((flags & CRITICAL_FLAGS) != 0) {
        throw new MalformedCopyDataException(
            "binary COPY header has unsupported flags 0x" + Integer.toHexString(flags));
      }
      int extension = int32(payload, SIGNATURE.length + 4);
      int at = SIGNATURE.length + 8;
      if (extension < 0) {
        throw new MalformedCopyDataException("binary COPY header extension of length " + extension);
      }
      need(payload, at, extension, "the header extension");
      return at + extension;
    }

    private static void need(byte[] payload, int at, int bytes, String what) {
      if (payload.length - at < bytes) {
        throw new MalformedCopyDataException(
            "binary COPY data truncated in "
                + what
                + ": "
                + bytes
                + " bytes needed at offset "
                + at
                + ", "
                + (payload.length - at)
                + " left");
      }
    }

    private static int int16(byte[] payload, int at) {
      return (short) (((payload[at] & 0xFF) << 8) | (payload[at + 1] & 0xFF));
    }

    private static int int32(byte[] payload, int at) {
      return ((payload[at] & 0xFF) << 24)
          | ((payload[at + 1] & 0xFF) << 16)
          | ((payload[at + 2] & 0xFF) << 8)
          | (payload[at + 3] & 0xFF);
    }

    private static void writeInt32(ByteArrayOutputStream out, int value) {
      out.write(value >>> 24);
      out.write(value >>> 16);
      out.write(value >>> 8);
      out.write(value);
    }
  }
}
