package io.portcullis.policy.masking;

import static io.portcullis.policy.masking.Utf8Text.gluedAfter;
import static io.portcullis.policy.masking.Utf8Text.gluedBefore;
import static io.portcullis.policy.masking.Utf8Text.isDigit;

/** Telephone numbers in international {@code +…} or North American form. */
final class PhoneDetector implements Detector {

  static final PhoneDetector INSTANCE = new PhoneDetector();

  static final int MIN_DIGITS = 8;
  private static final int MAX_DIGITS = 15;

  private PhoneDetector() {}

  @Override
  public long find(byte[] b, int textStart, int textEnd, int from, int to) {
    for (int pos = from; pos < to; pos++) {
      byte c = b[pos];
      if ((c == '+' || c == '(' || isDigit(c)) && !gluedBefore(b, textStart, pos)) {
        int end =
            c == '+' ? international(b, pos, to, textEnd) : northAmerican(b, pos, to, textEnd);
        if (end >= 0) {
          return Detector.match(pos, end);
        }
      }
    }
    return -1;
  }

  /**
   * The end of the longest {@code +} number of 8 to 15 digits in groups, each group maybe in
   * parentheses, separated by one space, dash or dot (none is needed next to a parenthesis); or -1.
   */
  private static int international(byte[] b, int plus, int to, int textEnd) {
    int digits = 0;
    int best = -1;
    int i = plus + 1;
    while (i < to) {
      boolean parenthesised = b[i] == '(';
      int groupStart = parenthesised ? i + 1 : i;
      int groupEnd = groupStart;
      // Reads at most one digit more than allowed: enough to know the number is too long.
      while (groupEnd < to
          && isDigit(b[groupEnd])
          && digits + groupEnd - groupStart <= MAX_DIGITS) {
        groupEnd++;
      }
      digits += groupEnd - groupStart;
      if (groupEnd == groupStart || digits > MAX_DIGITS) {
        return best;
      }
      i = groupEnd;
      if (parenthesised) {
        if (i >= to || b[i] != ')') {
          return best;
        }
        i++;
      }
      if (digits >= MIN_DIGITS && !gluedAfter(b, i, textEnd)) {
        best = i;
      }
      if (i + 1 < to && isSeparator(b[i]) && (isDigit(b[i + 1]) || b[i + 1] == '(')) {
        i++;
      } else if (i >= to || (b[i] != '(' && !(parenthesised && isDigit(b[i])))) {
        return best;
      }
    }
    return best;
  }

  /**
   * The end of {@code (NXX) NXX-XXXX}, {@code NXX-NXX-XXXX} or {@code NXX.NXX.XXXX}, maybe after
   * {@code 1} and a separator; or -1. Area codes and exchanges never start with 0 or 1.
   */
  private static int northAmerican(byte[] b, int start, int to, int textEnd) {
    int i = start;
    if (b[i] == '1' && i + 2 < to && isSeparator(b[i + 1])) {
      i += 2;
    }
    byte separator;
    if (b[i] == '(') {
      if (!isAreaOrExchange(b, i + 1, to) || i + 4 >= to || b[i + 4] != ')') {
        return -1;
      }
      i += 5;
      if (i < to && b[i] == ' ') {
        i++;
      }
      separator = 0;
    } else {
      if (!isAreaOrExchange(b, i, to) || i + 3 >= to || (b[i + 3] != '-' && b[i + 3] != '.')) {
        return -1;
      }
      separator = b[i + 3];
      i += 4;
    }
    if (!isAreaOrExchange(b, i, to) || i + 3 >= to) {
      return -1;
    }
    i += 3;
    // After a parenthesised area code any separator will do; otherwise the same one again.
    if (separator == 0 ? !isSeparator(b[i]) : b[i] != separator) {
      return -1;
    }
    i++;
    for (int end = i + 4; i < end; i++) {
      if (i >= to || !isDigit(b[i])) {
        return -1;
      }
    }
    return gluedAfter(b, i, textEnd) ? -1 : i;
  }

  private static boolean isAreaOrExchange(byte[] b, int pos, int to) {
    return pos + 3 <= to
        && b[pos] >= '2'
        && b[pos] <= '9'
        && isDigit(b[pos + 1])
        && isDigit(b[pos + 2]);
  }

  private static boolean isSeparator(byte c) {
    return c == ' ' || c == '-' || c == '.';
  }
}
