package io.portcullis.policy.masking;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Applies a {@link MaskStrategy} to one value. Thread-safe. */
public final class ValueMasker {

  /** Prefix of hashed values, so a reader knows the text is not the value. */
  public static final String HASH_PREFIX = "h:";

  private static final int HASH_BYTES = 16;

  /** One initialised MAC per thread: looking one up per value costs more than the hashing. */
  private final ThreadLocal<Mac> macs;

  /** Reads the key from a file of at least 32 random bytes ({@code openssl rand -out F 32}). */
  public static ValueMasker fromKeyFile(Path file) throws IOException {
    byte[] key = Files.readAllBytes(file);
    if (key.length < 32) {
      throw new IllegalArgumentException(
          "the masking key file "
              + file
              + " holds "
              + key.length
              + " bytes; it needs at least 32 random bytes (openssl rand -out masking.key 32)");
    }
    return new ValueMasker(key);
  }

  /**
   * @param hashKey the HMAC-SHA256 key for {@link MaskStrategy.Hash}, at least 32 bytes
   */
  public ValueMasker(byte[] hashKey) {
    if (hashKey.length < 32) {
      throw new IllegalArgumentException("the masking hash key must be at least 32 bytes");
    }
    SecretKeySpec key = new SecretKeySpec(hashKey.clone(), "HmacSHA256");
    this.macs =
        ThreadLocal.withInitial(
            () -> {
              try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(key);
                return mac;
              } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 unavailable", e);
              }
            });
  }

  /** The masked text, or null for {@link MaskStrategy.Nullify}. */
  public String mask(MaskStrategy strategy, String value) {
    if (strategy instanceof MaskStrategy.Redact redact) {
      return redact.text();
    }
    if (strategy instanceof MaskStrategy.Partial partial) {
      return partial(value, partial.keep());
    }
    if (strategy instanceof MaskStrategy.Hash) {
      return HASH_PREFIX + hmac(value);
    }
    return null;
  }

  private static String partial(String value, int keep) {
    int length = value.codePointCount(0, value.length());
    // A value no longer than what would be kept is hidden whole.
    if (length <= keep) {
      return "*".repeat(length);
    }
    int cut = value.offsetByCodePoints(0, length - keep);
    String kept = value.substring(cut);
    // Only safe characters survive: the kept tail must not carry a quote or a delimiter.
    StringBuilder masked = new StringBuilder("*".repeat(length - keep));
    kept.codePoints().forEach(c -> masked.appendCodePoint(Character.isLetterOrDigit(c) ? c : '*'));
    return masked.toString();
  }

  private String hmac(String value) {
    byte[] digest = macs.get().doFinal(value.getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(digest, 0, HASH_BYTES);
  }
}
