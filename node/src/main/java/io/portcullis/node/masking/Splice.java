package io.portcullis.node.masking;

import java.io.ByteArrayOutputStream;

/**
 * A payload with some of its stretches replaced, in order; the copy is made only once the first
 * stretch is replaced, and the stretches between are copied as they are.
 */
final class Splice {
  private final byte[] original;
  private ByteArrayOutputStream out;
  private int copied;

  Splice(byte[] original) {
    this.original = original;
  }

  /** Drops {@code original[from, to)}: the caller writes its replacement to the stream returned. */
  ByteArrayOutputStream replace(int from, int to) {
    if (out == null) {
      out = new ByteArrayOutputStream(original.length + 16);
    }
    out.write(original, copied, from - copied);
    copied = to;
    return out;
  }

  /** The payload rewritten, or null if nothing was replaced. */
  byte[] result() {
    if (out == null) {
      return null;
    }
    out.write(original, copied, original.length - copied);
    return out.toByteArray();
  }
}
