package io.portcullis.policy.masking;

import java.util.Arrays;

/** Byte ranges of a text to replace, in order and not overlapping, and their replacements. */
final class Edits {

  private int[] ranges = new int[2 * 4];
  private byte[][] replacements = new byte[4][];
  private int size;

  /** Adds a replacement after the others. */
  void add(int start, int end, byte[] replacement) {
    if (size == replacements.length) {
      ranges = Arrays.copyOf(ranges, 4 * size);
      replacements = Arrays.copyOf(replacements, 2 * size);
    }
    ranges[2 * size] = start;
    ranges[2 * size + 1] = end;
    replacements[size] = replacement;
    size++;
  }

  /** A copy of {@code b[start, end)} with the replacements made. */
  byte[] apply(byte[] b, int start, int end) {
    int length = end - start;
    for (int i = 0; i < size; i++) {
      length += replacements[i].length - (ranges[2 * i + 1] - ranges[2 * i]);
    }
    byte[] out = new byte[length];
    int written = 0;
    int copied = start;
    for (int i = 0; i < size; i++) {
      int gap = ranges[2 * i] - copied;
      System.arraycopy(b, copied, out, written, gap);
      written += gap;
      System.arraycopy(replacements[i], 0, out, written, replacements[i].length);
      written += replacements[i].length;
      copied = ranges[2 * i + 1];
    }
    System.arraycopy(b, copied, out, written, end - copied);
    return out;
  }
}
