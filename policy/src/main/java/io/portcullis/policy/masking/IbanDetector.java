package io.portcullis.policy.masking;

import static io.portcullis.policy.masking.Utf8Text.gluedAfter;
import static io.portcullis.policy.masking.Utf8Text.gluedBefore;
import static io.portcullis.policy.masking.Utf8Text.isDigit;
import static io.portcullis.policy.masking.Utf8Text.isUpper;

/**
 * IBANs: country code, check digits and 11 to 30 upper-case letters or digits, compact or in groups
 * of four, with an ISO 7064 mod-97 remainder of 1.
 */
final class IbanDetector implements Detector {

  static final IbanDetector INSTANCE = new IbanDetector();

  static final int MIN_LENGTH = 15;
  private static final int MAX_LENGTH = 34;
  private static final int GROUP = 4;

  private IbanDetector() {}

  @Override
  public long find(byte[] b, int textStart, int textEnd, int from, int to) {
    for (int pos = from; pos + MIN_LENGTH <= to; pos++) {
      if (isUpper(b[pos])
          && isUpper(b[pos + 1])
          && isDigit(b[pos + 2])
          && isDigit(b[pos + 3])
          && !gluedBefore(b, textStart, pos)) {
        int end =
            b[pos + GROUP] == ' '
                ? groupedFrom(b, pos, to, textEnd)
                : compactFrom(b, pos, to, textEnd);
        if (end >= 0) {
          return Detector.match(pos, end);
        }
      }
    }
    return -1;
  }

  private static int compactFrom(byte[] b, int start, int to, int textEnd) {
    int remainder = 0;
    int i = start + GROUP;
    while (i < to && i - start < MAX_LENGTH && isIbanChar(b[i])) {
      remainder = append(remainder, b[i]);
      i++;
    }
    int length = i - start;
    boolean valid =
        length >= MIN_LENGTH && !gluedAfter(b, i, textEnd) && checksum(remainder, b, start) == 1;
    return valid ? i : -1;
  }

  /** The end of the longest valid IBAN written in groups of four, the last one maybe shorter. */
  private static int groupedFrom(byte[] b, int start, int to, int textEnd) {
    int remainder = 0;
    int length = GROUP;
    int best = -1;
    int i = start + GROUP;
    while (i + 1 < to && b[i] == ' ' && isIbanChar(b[i + 1])) {
      i++;
      int group = 0;
      while (i < to && group < GROUP && isIbanChar(b[i])) {
        remainder = append(remainder, b[i]);
        group++;
        i++;
      }
      length += group;
      if (length > MAX_LENGTH) {
        break;
      }
      if (length >= MIN_LENGTH
          && !gluedAfter(b, i, textEnd)
          && checksum(remainder, b, start) == 1) {
        best = i;
      }
      if (group < GROUP) {
        break;
      }
    }
    return best;
  }

  private static boolean isIbanChar(byte c) {
    return isUpper(c) || isDigit(c);
  }

  /** The mod-97 remainder after appending one character, a letter counting as 10 to 35. */
  private static int append(int remainder, byte c) {
    return isDigit(c) ? (remainder * 10 + (c - '0')) % 97 : (remainder * 100 + (c - 'A' + 10)) % 97;
  }

  /** The remainder of the whole IBAN, whose first four characters are checked last. */
  private static int checksum(int remainder, byte[] b, int start) {
    for (int i = start; i < start + GROUP; i++) {
      remainder = append(remainder, b[i]);
    }
    return remainder;
  }
}
