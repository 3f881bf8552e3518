package io.portcullis.policy.masking;

import static io.portcullis.policy.masking.Utf8Text.gluedAfter;
import static io.portcullis.policy.masking.Utf8Text.gluedBefore;
import static io.portcullis.policy.masking.Utf8Text.isDigit;

/** US social security numbers {@code AAA-GG-SSSS} or {@code AAA GG SSSS}. */
final class SsnDetector implements Detector {

  static final SsnDetector INSTANCE = new SsnDetector();

  /** How many digits an SSN has. */
  static final int DIGITS = 9;

  private static final int LENGTH = 11;

  private SsnDetector() {}

  @Override
  public long find(byte[] b, int textStart, int textEnd, int from, int to) {
    for (int pos = from; pos + LENGTH <= to; pos++) {
      if (isDigit(b[pos])
          && !gluedBefore(b, textStart, pos)
          && isSsn(b, pos)
          && !gluedAfter(b, pos + LENGTH, textEnd)) {
        return Detector.match(pos, pos + LENGTH);
      }
    }
    return -1;
  }

  private static boolean isSsn(byte[] b, int pos) {
    byte separator = b[pos + 3];
    if ((separator != '-' && separator != ' ')
        || b[pos + 6] != separator
        || !digits(b, pos, 3)
        || !digits(b, pos + 4, 2)
        || !digits(b, pos + 7, 4)) {
      return false;
    }
    int area = number(b, pos, 3);
    return area != 0
        && area != 666
        && area < 900
        && number(b, pos + 4, 2) != 0
        && number(b, pos + 7, 4) != 0;
  }

  private static boolean digits(byte[] b, int pos, int count) {
    for (int i = pos; i < pos + count; i++) {
      if (!isDigit(b[i])) {
        return false;
      }
    }
    return true;
  }

  private static int number(byte[] b, int pos, int count) {
    int value = 0;
    for (int i = pos; i < pos + count; i++) {
      value = value * 10 + (b[i] - '0');
    }
    return value;
  }
}
