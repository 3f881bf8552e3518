package io.portcullis.policy.masking;

/**
 * Character tests on UTF-8 bytes, for detectors that read the bytes directly rather than decode
 * them. A malformed sequence counts as one byte that is neither a letter nor a digit.
 */
final class Utf8Text {

  private Utf8Text() {}

  static boolean isDigit(byte c) {
    return c >= '0' && c <= '9';
  }

  static boolean isUpper(byte c) {
    return c >= 'A' && c <= 'Z';
  }

  static boolean isAsciiLetterOrDigit(byte c) {
    return isDigit(c) || isUpper(c) || (c >= 'a' && c <= 'z');
  }

  /**
   * Whether the character a token would be glued to is a letter or digit, in any script except
   * those written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar): there, a
   * number or address directly after a word is still a separate token.
   */
  static boolean isWordChar(int codePoint) {
    if (codePoint < 0 || !Character.isLetterOrDigit(codePoint)) {
      return false;
    }
    if (codePoint < 0x80) {
      return true;
    }
    switch (Character.UnicodeScript.of(codePoint)) {
      case HAN:
      case HIRAGANA:
      case KATAKANA:
      case THAI:
      case LAO:
      case KHMER:
      case MYANMAR:
        return false;
      default:
        return true;
    }
  }

  /** Whether the character just before {@code pos} is a word character; none before the text. */
  static boolean gluedBefore(byte[] b, int textStart, int pos) {
    if (pos <= textStart) {
      return false;
    }
    byte c = b[pos - 1];
    if (c >= 0) {
      return isAsciiLetterOrDigit(c);
    }
    int start = previous(b, textStart, pos);
    return isWordChar(codePointAt(b, start, pos));
  }

  /** Whether the character at {@code pos} is a word character; none after the text. */
  static boolean gluedAfter(byte[] b, int pos, int textEnd) {
    if (pos >= textEnd) {
      return false;
    }
    byte c = b[pos];
    return c >= 0 ? isAsciiLetterOrDigit(c) : isWordChar(codePointAt(b, pos, textEnd));
  }

  /** The code point whose encoding starts at {@code pos} and ends by {@code end}, or -1. */
  static int codePointAt(byte[] b, int pos, int end) {
    int lead = b[pos] & 0xFF;
    if (lead < 0x80) {
      return lead;
    }
    int more;
    int codePoint;
    if (lead >= 0xC2 && lead <= 0xDF) {
      more = 1;
      codePoint = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      more = 2;
      codePoint = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      more = 3;
      codePoint = lead & 0x07;
    } else {
      return -1;
    }
    if (pos + more >= end) {
      return -1;
    }
    for (int k = 1; k <= more; k++) {
      int c = b[pos + k] & 0xFF;
      if ((c & 0xC0) != 0x80) {
        return -1;
      }
      codePoint = codePoint << 6 | (c & 0x3F);
    }
    int shortest = more == 1 ? 0x80 : more == 2 ? 0x800 : 0x10000;
    if (codePoint < shortest
        || codePoint > Character.MAX_CODE_POINT
        || (codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE)) {
      return -1;
    }
    return codePoint;
  }

  /** How many bytes encode {@code codePoint}. */
  static int length(int codePoint) {
    if (codePoint < 0x80) {
      return 1;
    }
    if (codePoint < 0x800) {
      return 2;
    }
    return codePoint < 0x10000 ? 3 : 4;
  }

  /** Where the character after the one at {@code pos} starts. */
  static int next(byte[] b, int pos, int end) {
    int codePoint = codePointAt(b, pos, end);
    return codePoint < 0 ? pos + 1 : pos + length(codePoint);
  }

  /** Where the character that ends at {@code pos} starts, not before {@code limit}. */
  static int previous(byte[] b, int limit, int pos) {
    int start = pos - 1;
    while (start > limit && start > pos - 4 && (b[start] & 0xC0) == 0x80) {
      start--;
    }
    int codePoint = codePointAt(b, start, pos);
    return codePoint >= 0 && start + length(codePoint) == pos ? start : pos - 1;
  }
}
