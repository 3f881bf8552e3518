package io.portcullis.policy.masking;

import static io.portcullis.policy.masking.Utf8Text.codePointAt;
import static io.portcullis.policy.masking.Utf8Text.isAsciiLetterOrDigit;
import static io.portcullis.policy.masking.Utf8Text.isWordChar;

/** E-mail addresses {@code local@domain.tld}, found from their {@code @}. */
final class EmailDetector implements Detector {

  static final EmailDetector INSTANCE = new EmailDetector();

  private static final String LOCAL_PUNCTUATION = ".!#$%&'*+/=?^_`{|}~-";
  private static final boolean[] LOCAL_ASCII = new boolean[128];

  static {
    for (int c = 0; c < 128; c++) {
      LOCAL_ASCII[c] = isAsciiLetterOrDigit((byte) c) || LOCAL_PUNCTUATION.indexOf(c) >= 0;
    }
  }

  private EmailDetector() {}

  @Override
  public long find(byte[] b, int textStart, int textEnd, int from, int to) {
    for (int at = from + 1; at < to; at++) {
      if (b[at] == '@') {
        int start = localPartStart(b, from, at);
        int end = start < at ? domainEnd(b, at + 1, to) : -1;
        if (end >= 0) {
          return Detector.match(start, end);
        }
      }
    }
    return -1;
  }

  /** The start of the longest local part ending at {@code at}; {@code at} if there is none. */
  private static int localPartStart(byte[] b, int from, int at) {
    int start = at;
    while (start > from) {
      int previous = Utf8Text.previous(b, from, start);
      byte c = b[previous];
      boolean local = c >= 0 ? LOCAL_ASCII[c] : isWordChar(codePointAt(b, previous, start));
      if (!local) {
        break;
      }
      start = previous;
    }
    while (start < at && b[start] == '.') {
      start++;
    }
    return start;
  }

  /**
   * The end of the longest domain of two labels or more starting at {@code pos}, whose last label
   * is at least two letters; or -1.
   */
  private static int domainEnd(byte[] b, int pos, int to) {
    int best = -1;
    int labels = 0;
    int i = pos;
    while (true) {
      int labelStart = i;
      while (i < to && isLabelChar(b, i, to)) {
        i = Utf8Text.next(b, i, to);
      }
      int labelEnd = i;
      while (labelEnd > labelStart && b[labelEnd - 1] == '-') {
        labelEnd--;
      }
      if (labelEnd == labelStart || b[labelStart] == '-') {
        return best;
      }
      labels++;
      if (labels >= 2 && isTopLevel(b, labelStart, labelEnd)) {
        best = labelEnd;
      }
      // A label ending in hyphens ends the domain before them.
      if (labelEnd < i || i + 1 >= to || b[i] != '.') {
        return best;
      }
      i++;
    }
  }

  private static boolean isLabelChar(byte[] b, int pos, int to) {
    byte c = b[pos];
    return c >= 0 ? isAsciiLetterOrDigit(c) || c == '-' : isWordChar(codePointAt(b, pos, to));
  }

  private static boolean isTopLevel(byte[] b, int start, int end) {
    int letters = 0;
    for (int i = start; i < end; i = Utf8Text.next(b, i, end)) {
      if (!Character.isLetter(codePointAt(b, i, end))) {
        return false;
      }
      letters++;
    }
    return letters >= 2;
  }
}
