package io.portcullis.protocol;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * One field of an ErrorResponse or NoticeResponse: a one-byte code and a string.
 *
 * <p>{@code byte1 code | cstring value}
 */
public record Field(char code, String value) {

  public static final char SEVERITY = 'S';

  /** Severity that is never localized (PostgreSQL 9.6+). */
  public static final char SEVERITY_NON_LOCALIZED = 'V';

  public static final char SQLSTATE = 'C';
  public static final char MESSAGE = 'M';
  public static final char DETAIL = 'D';
  public static final char HINT = 'H';

  public Field {
    // Code 0 is the list terminator on the wire; codes are written as one byte.
    if (code == 0 || code > 0xFF) {
      throw new IllegalArgumentException("invalid field code " + (int) code);
    }
  }

  static List<Field> standard(String severity, String sqlState, String message) {
    return List.of(
        new Field(SEVERITY, severity),
        new Field(SEVERITY_NON_LOCALIZED, severity),
        new Field(SQLSTATE, sqlState),
        new Field(MESSAGE, message));
  }

  /** {@code type | int32 len | (byte1 code | cstring value)* | 0} */
  static void writeAll(ByteBuf out, char type, List<Field> fields) {
    int start = Wire.begin(out, type);
    for (Field field : fields) {
      out.writeByte(field.code);
      Wire.writeCString(out, field.value);
    }
    out.writeByte(0);
    Wire.end(out, start);
  }

  static List<Field> readAll(ByteBuf body) {
    List<Field> fields = new ArrayList<>();
    for (int code = body.readUnsignedByte(); code != 0; code = body.readUnsignedByte()) {
      fields.add(new Field((char) code, Wire.readCString(body)));
    }
    return fields;
  }
}
