package io.portcullis.policy.masking;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A UTF-8 text decoded for regular expressions, with the byte offset of every char so that matches
 * can be mapped back. Each malformed byte decodes to U+FFFD.
 */
final class DecodedText {

  private final String text;
  private final int[] byteOffsets;
  private Matcher matcher;

  DecodedText(byte[] b, int start, int end) {
    StringBuilder chars = new StringBuilder(end - start);
    byteOffsets = new int[end - start + 1];
    int count = 0;
    for (int i = start; i < end; ) {
      int codePoint = Utf8Text.codePointAt(b, i, end);
      int next = codePoint < 0 ? i + 1 : i + Utf8Text.length(codePoint);
      chars.appendCodePoint(codePoint < 0 ? 0xFFFD : codePoint);
      // Both halves of a surrogate pair map to the code point's first byte.
      while (count < chars.length()) {
        byteOffsets[count++] = i;
      }
      i = next;
    }
    byteOffsets[count] = end;
    text = chars.toString();
  }

  /** The first non-empty match of {@code pattern} inside {@code [from, to)}, or -1. */
  long find(Pattern pattern, int from, int to) {
    if (matcher == null || matcher.pattern() != pattern) {
      matcher = pattern.matcher(text).useTransparentBounds(true).useAnchoringBounds(false);
    }
    matcher.region(charIndex(from), charIndex(to));
    while (matcher.find()) {
      int start = byteOffsets[matcher.start()];
      int end = byteOffsets[matcher.end()];
      if (end > start) {
        return Detector.match(start, end);
      }
    }
    return -1;
  }

  /** The index of the first char at or after byte {@code offset}. */
  private int charIndex(int offset) {
    int low = 0;
    int high = text.length();
    while (low < high) {
      int middle = (low + high) >>> 1;
      if (byteOffsets[middle] < offset) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }
}
