package io.portcullis.policy.masking;

/** What a content detector looks for in a value's text. */
public enum DetectorKind {
  /** Payment card numbers: 13 to 19 digits, spaces or dashes between groups, Luhn-valid. */
  CARD,
  /**
   * US social security numbers: {@code 123-45-6789} or {@code 123 45 6789}, valid
   * area/group/serial.
   */
  SSN,
  /** IBANs, compact or in groups of four, with a valid ISO 7064 mod-97 checksum. */
  IBAN,
  EMAIL,
  /** Telephone numbers: international {@code +…} or North American forms. */
  PHONE,
  /** A regular expression from the policy, e.g. the bank's account number format. */
  PATTERN;

  public String policyName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
