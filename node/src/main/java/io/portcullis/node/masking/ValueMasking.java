package io.portcullis.node.masking;

import io.portcullis.policy.masking.ColumnRule;
import io.portcullis.policy.masking.ContentScanner;
import io.portcullis.policy.masking.MaskStrategy;
import io.portcullis.policy.masking.ValueMasker;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Masks one value of a result, in the client's format and type, so that the client's decoder still
 * reads it: text-like values (text, varchar, char, name, json, jsonb, xml) are rewritten, a masked
 * value of any other type becomes NULL. Content detectors read every value in the text format,
 * text-like values and the elements of text arrays in the binary format, and 64-bit integers and
 * numerics (a card number stored as a number becomes NULL); binary records, tsvectors, other arrays
 * that can hold text and user-defined types become NULL while detectors are on.
 */
final class ValueMasking {

  private static final int BPCHAR = 1042;
  private static final int VARCHAR = 1043;
  private static final int TEXT = 25;
  private static final int NAME = 19;
  private static final int CHAR = 18;
  private static final int UNKNOWN = 705;
  private static final int XML = 142;
  private static final int JSON = 114;
  private static final int JSONB = 3802;
  private static final int INT8 = 20;
  private static final int NUMERIC = 1700;
  private static final int TEXT_ARRAY = 1009;
  private static final int VARCHAR_ARRAY = 1015;
  private static final int BPCHAR_ARRAY = 1014;
  private static final int JSONB_VERSION = 1;
  private static final int FIRST_USER_OID = 16384;

  /** Record, tsvector and arrays of other text-like types. */
  private static final java.util.Set<Integer> TEXT_CARRIERS =
      java.util.Set.of(2249, 3614, 1003, 1002, 143, 199, 3807, 2287);

  private final ValueMasker masker;
  private final ContentScanner scanner;

  ValueMasking(ValueMasker masker, ContentScanner scanner) {
    this.masker = masker;
    this.scanner = scanner;
  }

  boolean scans() {
    return !scanner.isEmpty();
  }

  /** The value of a protected column, masked by its rule; null is SQL NULL. */
  byte[] protect(ColumnRule rule, int typeOid, boolean binary, byte[] value) {
    if (value == null || rule.strategy() instanceof MaskStrategy.Nullify) {
      return null;
    }
    if (typeOid == JSON || typeOid == JSONB) {
      String json = "\"" + mask(rule.strategy(), jsonText(typeOid, binary, value)) + "\"";
      return jsonBytes(typeOid, binary, json.getBytes(StandardCharsets.UTF_8));
    }
    if (!isText(typeOid)) {
      return null;
    }
    String masked = mask(rule.strategy(), new String(value, StandardCharsets.UTF_8));
    return masked == null ? null : masked.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The value after the content detectors: the same array when nothing was found, null for SQL
   * NULL.
   */
  byte[] scan(int typeOid, boolean binary, byte[] value) {
    if (value == null || scanner.isEmpty()) {
      return value;
    }
    if (isText(typeOid) || (!binary && isTextArray(typeOid))) {
      return orNull(scanner.scan(value, 0, value.length), value);
    }
    if (typeOid == JSON || (typeOid == JSONB && !binary)) {
      byte[] masked = scanner.scanJson(value, 0, value.length);
      return masked == null ? value : masked;
    }
    if (typeOid == JSONB) {
      byte[] masked = scanner.scanJson(value, 1, value.length - 1);
      return masked == null ? value : jsonBytes(JSONB, true, masked);
    }
    if (binary && isTextArray(typeOid)) {
      return scanArray(value);
    }
    if (typeOid == INT8 || typeOid == NUMERIC) {
      byte[] digits = binary ? binaryDigits(typeOid, value) : value;
      return digits != null && scanner.scan(digits, 0, digits.length) != null ? null : value;
    }
    if (!binary) {
      // Any other type's text (records, arrays, tsvector, …) can quote a value.
      return orNull(scanner.scan(value, 0, value.length), value);
    }
    // Binary values that can hold text but that the gateway does not decode: fail closed.
    return TEXT_CARRIERS.contains(typeOid) || typeOid >= FIRST_USER_OID ? null : value;
  }

  /** A diagnostic or notification text after the detectors. */
  String scan(String text) {
    if (text == null || scanner.isEmpty()) {
      return text;
    }
    String masked = scanner.scan(text);
    return masked == null ? MaskStrategy.Redact.DEFAULT_TEXT : masked;
  }

  /** Masks a text value whose type is not known (COPY), keeping it text. */
  byte[] protectText(ColumnRule rule, byte[] value) {
    if (value == null) {
      return null;
    }
    String masked = mask(rule.strategy(), new String(value, StandardCharsets.UTF_8));
    return masked == null ? null : masked.getBytes(StandardCharsets.UTF_8);
  }

  /** Scans a text value whose type is not known (COPY). */
  byte[] scanText(byte[] value) {
    return value == null || scanner.isEmpty()
        ? value
        : orNull(scanner.scan(value, 0, value.length), value);
  }

  /**
   * Scans a binary value whose type is not known (binary COPY of a query) as text, or as jsonb when
   * it starts like one. Values of 8 bytes or fewer (integers, floats, dates, times) are left alone;
   * no detector can match in them, nor in the digit layout of a binary numeric.
   */
  byte[] scanUntypedBinary(byte[] value) {
    if (value == null || scanner.isEmpty() || value.length <= Long.BYTES) {
      return value;
    }
    if (value[0] == JSONB_VERSION && (value[1] == '{' || value[1] == '[' || value[1] == '"')) {
      return scan(JSONB, true, value);
    }
    return scanText(value);
  }

  static boolean isText(int typeOid) {
    return typeOid == TEXT
        || typeOid == VARCHAR
        || typeOid == BPCHAR
        || typeOid == NAME
        || typeOid == CHAR
        || typeOid == UNKNOWN
        || typeOid == XML;
  }

  private static boolean isTextArray(int typeOid) {
    return typeOid == TEXT_ARRAY || typeOid == VARCHAR_ARRAY || typeOid == BPCHAR_ARRAY;
  }

  private String mask(MaskStrategy strategy, String value) {
    return masker.mask(strategy, value);
  }

  private static byte[] orNull(byte[] scanned, byte[] original) {
    if (scanned == null) {
      return original;
    }
    return scanned == ContentScanner.NULL_VALUE ? null : scanned;
  }

  private byte[] scanArray(byte[] value) {
    BinaryArray array = BinaryArray.decode(value);
    List<byte[]> elements = array.elements();
    boolean changed = false;
    for (int i = 0; i < elements.size(); i++) {
      byte[] element = elements.get(i);
      byte[] scanned = element == null ? null : scanText(element);
      if (scanned != element) {
        elements.set(i, scanned);
        changed = true;
      }
    }
    return changed ? array.encode() : value;
  }

  private static String jsonText(int typeOid, boolean binary, byte[] value) {
    int skip = typeOid == JSONB && binary ? 1 : 0;
    return new String(value, skip, value.length - skip, StandardCharsets.UTF_8);
  }

  private static byte[] jsonBytes(int typeOid, boolean binary, byte[] json) {
    if (typeOid != JSONB || !binary) {
      return json;
    }
    byte[] versioned = new byte[json.length + 1];
    versioned[0] = JSONB_VERSION;
    System.arraycopy(json, 0, versioned, 1, json.length);
    return versioned;
  }

  /** A binary int8's decimal digits; numerics in binary are not read (null). */
  private static byte[] binaryDigits(int typeOid, byte[] value) {
    if (typeOid != INT8 || value.length != Long.BYTES) {
      return null;
    }
    return Long.toString(ByteBuffer.wrap(value).getLong()).getBytes(StandardCharsets.US_ASCII);
  }
}
