package io.portcullis.policy.masking;

import static io.portcullis.policy.masking.Utf8Text.gluedAfter;
import static io.portcullis.policy.masking.Utf8Text.gluedBefore;
import static io.portcullis.policy.masking.Utf8Text.isDigit;

/** Payment card numbers: 13 to 19 digits, single spaces or dashes between groups, Luhn-valid. */
final class CardDetector implements Detector {

  static final CardDetector INSTANCE = new CardDetector();

  static final int MIN_DIGITS = 13;
  static final int MAX_DIGITS = 19;

  private CardDetector() {}

  @Override
  public long find(byte[] b, int textStart, int textEnd, int from, int to) {
    for (int pos = from; pos < to; pos++) {
      if (isDigit(b[pos]) && !gluedBefore(b, textStart, pos)) {
        int end = longestFrom(b, pos, to, textEnd);
        if (end >= 0) {
          return Detector.match(pos, end);
        }
      }
    }
    return -1;
  }

  /** The end of the longest Luhn-valid number starting at {@code start}, or -1. */
  private static int longestFrom(byte[] b, int start, int to, int textEnd) {
    // Luhn doubles every second digit counting from the last one, and which digit is last is not
    // known yet: keep the sums for both choices, by the parity of the digit's index from the left.
    int evenPlain = 0;
    int evenDoubled = 0;
    int oddPlain = 0;
    int oddDoubled = 0;
    int digits = 0;
    int best = -1;
    int i = start;
    while (true) {
      while (i < to && isDigit(b[i])) {
        if (digits == MAX_DIGITS) {
          return best;
        }
        int digit = b[i] - '0';
        int doubled = digit < 5 ? 2 * digit : 2 * digit - 9;
        if (digits % 2 == 0) {
          evenPlain += digit;
          evenDoubled += doubled;
        } else {
          oddPlain += digit;
          oddDoubled += doubled;
        }
        digits++;
        i++;
      }
      if (digits >= MIN_DIGITS && !gluedAfter(b, i, textEnd)) {
        // With an even count the digits at even indexes are doubled, with an odd count the others.
        int sum = digits % 2 == 0 ? evenDoubled + oddPlain : evenPlain + oddDoubled;
        if (sum % 10 == 0) {
          best = i;
        }
      }
      if (i + 1 < to && (b[i] == ' ' || b[i] == '-') && isDigit(b[i + 1])) {
        i++;
      } else {
        return best;
      }
    }
  }
}
