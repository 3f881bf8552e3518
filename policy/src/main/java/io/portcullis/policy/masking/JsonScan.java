package io.portcullis.policy.masking;

import static io.portcullis.policy.masking.Utf8Text.isDigit;

import java.nio.charset.StandardCharsets;

/**
 * {@link ContentScanner#scanJson}: scans each JSON string and number on its own and replaces what
 * is found so that the text stays valid JSON. The text is read leniently, as PostgreSQL only sends
 * valid JSON.
 */
final class JsonScan {

  private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] KEY_REPLACEMENT =
      MaskStrategy.Redact.DEFAULT_TEXT.getBytes(StandardCharsets.US_ASCII);

  private JsonScan() {}

  static byte[] scan(ContentScanner scanner, byte[] b, int start, int end) {
    if (!scanner.mayMatch(b, start, end)) {
      return null;
    }
    Edits edits = null;
    int i = start;
    while (i < end) {
      byte c = b[i];
      if (c == '"') {
        int close = closingQuote(b, i + 1, end);
        int after = close < end ? close + 1 : end;
        edits = string(scanner, b, i, close, after, isKey(b, after, end), edits);
        i = after;
      } else if (c == '-' || isDigit(c)) {
        int numberEnd = i + 1;
        while (numberEnd < end && isNumberChar(b[numberEnd])) {
          numberEnd++;
        }
        edits = number(scanner, b, i, numberEnd, edits);
        i = numberEnd;
      } else {
        i++;
      }
    }
    return edits == null ? null : edits.apply(b, start, end);
  }

  /** Whether a backslash at {@code pos} starts the escape {@code \u0040}, an {@code @}. */
  static boolean isEscapedAt(byte[] b, int pos, int end) {
    return pos + 6 <= end
        && b[pos + 1] == 'u'
        && b[pos + 2] == '0'
        && b[pos + 3] == '0'
        && b[pos + 4] == '4'
        && b[pos + 5] == '0';
  }

  /** The string whose opening quote is at {@code quote} and content ends at {@code close}. */
  private static Edits string(
      ContentScanner scanner, byte[] b, int quote, int close, int after, boolean key, Edits edits) {
    int contentStart = quote + 1;
    if (!scanner.mayMatch(b, contentStart, close)) {
      return edits;
    }
    // Without escapes the content is scanned in place; with them, unescaped, and mapped back.
    Unescaped unescaped = Unescaped.of(b, contentStart, close);
    byte[] text = unescaped == null ? b : unescaped.bytes;
    Matches matches =
        unescaped == null
            ? scanner.find(b, contentStart, close)
            : scanner.find(text, 0, unescaped.length);
    if (matches == null) {
      return edits;
    }
    Edits result = edits == null ? new Edits() : edits;
    if (!key && scanner.nullifies(matches)) {
      result.add(quote, after, NULL);
      return result;
    }
    for (int i = 0; i < matches.size(); i++) {
      int start = matches.start(i);
      int end = matches.end(i);
      byte[] replacement = scanner.replacement(matches.rule(i), text, start, end);
      result.add(
          unescaped == null ? start : unescaped.rawOffsets[start],
          unescaped == null ? end : unescaped.rawOffsets[end],
          replacement == null ? KEY_REPLACEMENT : replacement);
    }
    return result;
  }

  private static Edits number(ContentScanner scanner, byte[] b, int start, int end, Edits edits) {
    Matches matches = scanner.find(b, start, end);
    if (matches == null) {
      return edits;
    }
    Edits result = edits == null ? new Edits() : edits;
    if (scanner.nullifies(matches)) {
      result.add(start, end, NULL);
    } else {
      byte[] masked = scanner.masked(matches, b, start, end);
      byte[] quoted = new byte[masked.length + 2];
      quoted[0] = '"';
      System.arraycopy(masked, 0, quoted, 1, masked.length);
      quoted[quoted.length - 1] = '"';
      result.add(start, end, quoted);
    }
    return result;
  }

  /**
   * The index of the quote closing a string whose content starts at {@code pos}, or {@code end}.
   */
  private static int closingQuote(byte[] b, int pos, int end) {
    int i = pos;
    while (i < end && b[i] != '"') {
      i += b[i] == '\\' ? 2 : 1;
    }
    return Math.min(i, end);
  }

  private static boolean isKey(byte[] b, int pos, int end) {
    int i = pos;
    while (i < end && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) {
      i++;
    }
    return i < end && b[i] == ':';
  }

  private static boolean isNumberChar(byte c) {
    return isDigit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
  }

  /**
   * The unescaped text of a JSON string's content, with the offset in the JSON text of each of its
   * bytes.
   */
  private record Unescaped(byte[] bytes, int length, int[] rawOffsets) {

    /** The content at {@code b[start, end)} unescaped, or null when it has no escape. */
    static Unescaped of(byte[] b, int start, int end) {
      int firstEscape = start;
      while (firstEscape < end && b[firstEscape] != '\\') {
        firstEscape++;
      }
      if (firstEscape == end) {
        return null;
      }
      // Unescaping never makes the text longer.
      byte[] out = new byte[end - start];
      int[] raw = new int[end - start + 1];
      int length = 0;
      int i = start;
      while (i < end) {
        int escapeLength = b[i] == '\\' && i + 1 < end ? escapeLength(b, i, end) : 1;
        if (escapeLength == 1) {
          raw[length] = i;
          out[length++] = b[i];
        } else {
          String decoded = new String(Character.toChars(unescape(b, i, escapeLength)));
          for (byte encoded : decoded.getBytes(StandardCharsets.UTF_8)) {
            raw[length] = i;
            out[length++] = encoded;
          }
        }
        i += escapeLength;
      }
      raw[length] = end;
      return new Unescaped(out, length, raw);
    }

    /** How many bytes the escape at {@code pos} takes: 12 for a surrogate pair. */
    private static int escapeLength(byte[] b, int pos, int end) {
      if (b[pos + 1] != 'u') {
        return 2;
      }
      if (pos + 6 > end) {
        return end - pos;
      }
      int unit = hex(b, pos + 2);
      if (Character.isHighSurrogate((char) unit)
          && pos + 12 <= end
          && b[pos + 6] == '\\'
          && b[pos + 7] == 'u'
          && Character.isLowSurrogate((char) hex(b, pos + 8))) {
        return 12;
      }
      return 6;
    }

    /** The code point an escape of {@code length} bytes stands for; U+FFFD if malformed. */
    private static int unescape(byte[] b, int pos, int length) {
      byte c = b[pos + 1];
      if (c != 'u') {
        switch (c) {
          case 'b':
            return '\b';
          case 'f':
            return '\f';
          case 'n':
            return '\n';
          case 'r':
            return '\r';
          case 't':
            return '\t';
          default:
            return c >= 0 ? c : 0xFFFD;
        }
      }
      if (length == 12) {
        return Character.toCodePoint((char) hex(b, pos + 2), (char) hex(b, pos + 8));
      }
      int unit = length == 6 ? hex(b, pos + 2) : -1;
      return unit < 0 || Character.isSurrogate((char) unit) ? 0xFFFD : unit;
    }

    /** The four hex digits at {@code pos}, or -1. */
    private static int hex(byte[] b, int pos) {
      int value = 0;
      for (int i = pos; i < pos + 4; i++) {
        int digit = Character.digit(b[i], 16);
        if (digit < 0) {
          return -1;
        }
        value = value * 16 + digit;
      }
      return value;
    }
  }
}
