package io.portcullis.node.policy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

/**
 * Values bound to a statement (Bind parameters, fast-path arguments) as an approver reads them:
 * text values as they are, binary values of common types decoded, other binary values as hex.
 */
final class BoundValues {

  private static final int BOOL = 16;
  private static final int INT8 = 20;
  private static final int INT2 = 21;
  private static final int INT4 = 23;
  private static final int TEXT = 25;
  private static final int FLOAT4 = 700;
  private static final int FLOAT8 = 701;
  private static final int VARCHAR = 1043;
  private static final int UUID_TYPE = 2950;

  private BoundValues() {}

  /**
   * @param types the parameter type OIDs declared at Parse (0 or missing: unspecified)
   * @param formats PostgreSQL's format codes: none (all text), one for all, or one per value
   */
  static List<String> display(int[] types, short[] formats, byte[][] values) {
    List<String> shown = new ArrayList<>(values.length);
    for (int i = 0; i < values.length; i++) {
      short format = formats.length == 0 ? 0 : formats.length == 1 ? formats[0] : formats[i];
      byte[] value = values[i];
      if (value == null) {
        shown.add("NULL");
      } else if (format == 0) {
        shown.add(new String(value, StandardCharsets.UTF_8));
      } else {
        shown.add(binary(i < types.length ? types[i] : 0, value));
      }
    }
    return shown;
  }

  private static String binary(int type, byte[] value) {
    ByteBuffer buffer = ByteBuffer.wrap(value);
    if (type == BOOL && value.length == 1) {
      return value[0] != 0 ? "true" : "false";
    }
    if (type == INT2 && value.length == 2) {
      return Short.toString(buffer.getShort());
    }
    if (type == INT4 && value.length == 4) {
      return Integer.toString(buffer.getInt());
    }
    if (type == INT8 && value.length == 8) {
      return Long.toString(buffer.getLong());
    }
    if (type == FLOAT4 && value.length == 4) {
      return Float.toString(buffer.getFloat());
    }
    if (type == FLOAT8 && value.length == 8) {
      return Double.toString(buffer.getDouble());
    }
    if (type == UUID_TYPE && value.length == 16) {
      return new UUID(buffer.getLong(), buffer.getLong()).toString();
    }
    if (type == TEXT || type == VARCHAR) {
      return new String(value, StandardCharsets.UTF_8);
    }
    return "\\x" + HexFormat.of().formatHex(value);
  }
}
