package io.portcullis.policy.identity;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Short SHA-256 fingerprints for audit records: enough to correlate, nothing to reuse. */
final class Sha256 {

  private Sha256() {}

  /** The first {@code bytes} bytes of the SHA-256 of {@code data}, in hex. */
  static String hexPrefix(byte[] data, int bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data), 0, bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}
