package io.portcullis.policy.masking;

/**
 * Finds one kind of PII in UTF-8 bytes without allocating. A match is returned packed in a long,
 * start offset in the high half and end offset in the low half.
 */
interface Detector {

  /**
   * The leftmost, then longest, match lying inside {@code b[from, to)}, or -1. The whole text is
   * {@code b[textStart, textEnd)}: characters outside {@code [from, to)} still count as the
   * neighbours that decide whether a match is a whole token.
   */
  long find(byte[] b, int textStart, int textEnd, int from, int to);

  static long match(int start, int end) {
    return (long) start << 32 | end;
  }

  static int start(long match) {
    return (int) (match >>> 32);
  }

  static int end(long match) {
    return (int) match;
  }

  /** The detector of a built-in kind, or null for {@link DetectorKind#PATTERN}. */
  static Detector of(DetectorKind kind) {
    switch (kind) {
      case CARD:
        return CardDetector.INSTANCE;
      case SSN:
        return SsnDetector.INSTANCE;
      case IBAN:
        return IbanDetector.INSTANCE;
      case EMAIL:
        return EmailDetector.INSTANCE;
      case PHONE:
        return PhoneDetector.INSTANCE;
      default:
        return null;
    }
  }
}
