package io.portcullis.policy.masking;

/**
 * How a protected value is replaced. Every strategy produces text made only of characters that need
 * no quoting in JSON strings, array literals or COPY rows, so a value masked inside one of those
 * stays valid for the client's decoder.
 */
public sealed interface MaskStrategy {

  /** A fixed text in place of the value. */
  record Redact(String text) implements MaskStrategy {
    public static final String DEFAULT_TEXT = "****";
    public static final String ALLOWED_TEXT = "[A-Za-z0-9*#_.:-]{1,64}";

    public Redact {
      if (!text.matches(ALLOWED_TEXT)) {
        throw new IllegalArgumentException("redact text must match " + ALLOWED_TEXT);
      }
    }
  }

  /** The last {@code keep} characters stay; every other character becomes {@code *}. */
  record Partial(int keep) implements MaskStrategy {
    public Partial {
      if (keep < 1) {
        throw new IllegalArgumentException("partial must keep at least one character");
      }
    }
  }

  /** A keyed HMAC of the value: the same value always gives the same text, so joins still work. */
  record Hash() implements MaskStrategy {}

  /** SQL NULL. */
  record Nullify() implements MaskStrategy {}
}
