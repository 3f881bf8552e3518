package io.portcullis.policy.masking;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * Finds PII inside text values and masks it, leaving the rest of the value byte for byte.
 *
 * <p>What each detector kind finds:
 *
 * <ul>
 *   <li>{@link DetectorKind#CARD}: 13 to 19 digits, contiguous or in groups of any size separated
 *       by single spaces or single dashes, Luhn-valid. As groups may be of any size, a number just
 *       before a card, separated from it by one space or dash, can be read as the card's start if
 *       the two together are Luhn-valid; the card's last groups are then left as they are.
 *   <li>{@link DetectorKind#SSN}: {@code AAA-GG-SSSS} or {@code AAA GG SSSS}, the area not 000, 666
 *       or 900 to 999, the group not 00, the serial not 0000. Nine bare digits are not taken for an
 *       SSN: too many other numbers look like one.
 *   <li>{@link DetectorKind#IBAN}: two upper-case letters, two check digits and 11 to 30 upper-case
 *       letters or digits (15 to 34 in all), compact or in groups of four separated by single
 *       spaces, the last group maybe shorter; ISO 7064 mod-97 remainder 1. Lower-case IBANs are not
 *       found.
 *   <li>{@link DetectorKind#EMAIL}: {@code local@domain.tld}: the local part letters, digits and
 *       {@code .!#$%&'*+/=?^_`{|}~-} (not starting with a dot), the domain two labels or more of
 *       letters, digits and inner hyphens, the last label two letters or more.
 *   <li>{@link DetectorKind#PHONE}: {@code +} then 8 to 15 digits in groups separated by a single
 *       space, dash or dot, a group maybe in parentheses ({@code +44 (0)20 7946 0958}); or North
 *       American {@code (212) 555-0100}, {@code 212-555-0100}, {@code 212.555.0100}, maybe after
 *       {@code 1} and a separator, area code and exchange not starting with 0 or 1. Bare runs of
 *       digits are never phone numbers.
 *   <li>{@link DetectorKind#PATTERN}: every non-empty match of the rule's regular expression
 *       ({@link java.util.regex.Matcher#find()}), in the decoded text; in JSON, in one string or
 *       number at a time.
 * </ul>
 *
 * <p>Cards, SSNs, IBANs and phone numbers are whole tokens: a letter or digit right before or after
 * one (as in {@code ab4111111111111111}) means it is part of something else. Letters of scripts
 * written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar) do not count, so
 * {@code 卡号4111111111111111} is found; for the same reason they are not taken as part of an e-mail
 * address. Digits are ASCII digits only.
 *
 * <p>Each match is replaced by what the rule's {@link MaskStrategy} makes of the matched text. A
 * {@link MaskStrategy.Nullify} match makes the whole value NULL. Rules take their matches in list
 * order: a later rule only looks at the text earlier rules did not match (a pattern's lookarounds
 * still see it). Within one rule the leftmost match wins, then the longest (for a pattern, the one
 * the regular expression prefers).
 *
 * <p>Without a {@code pattern} rule, a value in which nothing is found is read in place, without
 * allocating. Thread-safe.
 */
public final class ContentScanner {

  /**
   * Sentinel returned when a Nullify rule matched: the whole value must become SQL NULL. Compare by
   * identity.
   */
  public static final byte[] NULL_VALUE = new byte[0];

  private final DetectorRule[] rules;
  private final Detector[] detectors;
  private final ValueMasker masker;

  /** The fewest digits in which a card, SSN or phone rule can find something. */
  private final int fewestDigits;

  private final boolean hasIban;
  private final boolean hasEmail;
  private final boolean hasPattern;

  /**
   * @param rules the detectors that apply, in policy order (an earlier rule's matches win)
   * @param masker makes the replacement of each match
   */
  public ContentScanner(List<DetectorRule> rules, ValueMasker masker) {
    this.rules = rules.toArray(new DetectorRule[0]);
    this.masker = Objects.requireNonNull(masker);
    detectors = new Detector[this.rules.length];
    int digits = Integer.MAX_VALUE;
    for (int i = 0; i < this.rules.length; i++) {
      DetectorKind kind = this.rules[i].kind();
      detectors[i] = Detector.of(kind);
      if (kind == DetectorKind.CARD) {
        digits = Math.min(digits, CardDetector.MIN_DIGITS);
      } else if (kind == DetectorKind.SSN) {
        digits = Math.min(digits, SsnDetector.DIGITS);
      } else if (kind == DetectorKind.PHONE) {
        digits = Math.min(digits, PhoneDetector.MIN_DIGITS);
      }
    }
    fewestDigits = digits;
    hasIban = has(DetectorKind.IBAN);
    hasEmail = has(DetectorKind.EMAIL);
    hasPattern = has(DetectorKind.PATTERN);
  }

  private boolean has(DetectorKind kind) {
    for (DetectorRule rule : rules) {
      if (rule.kind() == kind) {
        return true;
      }
    }
    return false;
  }

  /** Whether there are no rules, so that nothing is ever found. */
  public boolean isEmpty() {
    return rules.length == 0;
  }

  /**
   * Masks the UTF-8 text at {@code utf8[offset, offset+length)}.
   *
   * @return a masked copy (UTF-8), {@link #NULL_VALUE} when a Nullify rule matched, or null when
   *     nothing was found
   */
  public byte[] scan(byte[] utf8, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, utf8.length);
    int end = offset + length;
    Matches matches = find(utf8, offset, end);
    if (matches == null) {
      return null;
    }
    return nullifies(matches) ? NULL_VALUE : masked(matches, utf8, offset, end);
  }

  /**
   * Masks a text.
   *
   * @return the masked text, the same instance when nothing was found, or null when a Nullify rule
   *     matched
   */
  public String scan(String text) {
    if (rules.length == 0 || !mayMatch(text)) {
      return text;
    }
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    byte[] masked = scan(utf8, 0, utf8.length);
    if (masked == null) {
      return text;
    }
    return masked == NULL_VALUE ? null : new String(masked, StandardCharsets.UTF_8);
  }

  /**
   * Masks json or jsonb text so that it stays valid JSON. A match inside a JSON string (an escaped
   * one is read unescaped) is replaced in place. A JSON number in which something is found becomes
   * a JSON string of the masked number, e.g. {@code {"pan": "****"}}. With a Nullify rule the
   * string or number becomes the JSON literal {@code null}; in an object key, which cannot be null,
   * the match is replaced by {@value MaskStrategy.Redact#DEFAULT_TEXT}. A match never spans two
   * JSON values.
   *
   * @return a masked copy (UTF-8), or null when nothing was found; never {@link #NULL_VALUE}
   */
  public byte[] scanJson(byte[] utf8, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, utf8.length);
    return JsonScan.scan(this, utf8, offset, offset + length);
  }

  /**
   * Whether the text holds enough digits (and upper-case letters), or an {@code @}, for some rule
   * to find something. A JSON escape of {@code @} counts as one.
   */
  boolean mayMatch(byte[] b, int start, int end) {
    if (hasPattern) {
      return start < end;
    }
    int digits = 0;
    int upper = 0;
    for (int i = start; i < end; i++) {
      byte c = b[i];
      if (c >= '0' && c <= '9') {
        digits++;
        if (digits >= fewestDigits || ibanMayMatch(digits, upper)) {
          return true;
        }
      } else if (c >= 'A' && c <= 'Z') {
        upper++;
        if (ibanMayMatch(digits, upper)) {
          return true;
        }
      } else if (hasEmail && (c == '@' || (c == '\\' && JsonScan.isEscapedAt(b, i, end)))) {
        return true;
      }
    }
    return false;
  }

  private boolean mayMatch(String text) {
    if (hasPattern) {
      return !text.isEmpty();
    }
    int digits = 0;
    int upper = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c >= '0' && c <= '9') {
        digits++;
        if (digits >= fewestDigits || ibanMayMatch(digits, upper)) {
          return true;
        }
      } else if (c >= 'A' && c <= 'Z') {
        upper++;
        if (ibanMayMatch(digits, upper)) {
          return true;
        }
      } else if (hasEmail && c == '@') {
        return true;
      }
    }
    return false;
  }

  /** An IBAN is two check digits and at least 15 upper-case letters and digits in all. */
  private boolean ibanMayMatch(int digits, int upper) {
    return hasIban && digits >= 2 && digits + upper >= IbanDetector.MIN_LENGTH;
  }

  /** The matches of all rules in {@code b[start, end)}, or null when there are none. */
  Matches find(byte[] b, int start, int end) {
    if (rules.length == 0 || !mayMatch(b, start, end)) {
      return null;
    }
    Matches matches = null;
    DecodedText decoded = null;
    for (int rule = 0; rule < rules.length; rule++) {
      if (detectors[rule] == null && decoded == null) {
        decoded = new DecodedText(b, start, end);
      }
      matches = findOutside(rule, b, start, end, matches, decoded);
    }
    return matches;
  }

  /** {@code claimed} with the matches of {@code rule} in the gaps between them added. */
  private Matches findOutside(
      int rule, byte[] b, int start, int end, Matches claimed, DecodedText decoded) {
    Matches merged = null;
    int claims = claimed == null ? 0 : claimed.size();
    int gapStart = start;
    for (int i = 0; i <= claims; i++) {
      int gapEnd = i < claims ? claimed.start(i) : end;
      int pos = gapStart;
      while (pos < gapEnd) {
        long match =
            detectors[rule] == null
                ? decoded.find(rules[rule].pattern().orElseThrow(), pos, gapEnd)
                : detectors[rule].find(b, start, end, pos, gapEnd);
        if (match < 0) {
          break;
        }
        merged = Matches.append(merged, Detector.start(match), Detector.end(match), rule);
        pos = Detector.end(match);
      }
      if (i < claims) {
        merged = Matches.append(merged, claimed.start(i), claimed.end(i), claimed.rule(i));
        gapStart = claimed.end(i);
      }
    }
    return merged;
  }

  /** Whether one of the matches belongs to a Nullify rule. */
  boolean nullifies(Matches matches) {
    for (int i = 0; i < matches.size(); i++) {
      if (rules[matches.rule(i)].strategy() instanceof MaskStrategy.Nullify) {
        return true;
      }
    }
    return false;
  }

  /** The replacement of the match at {@code b[start, end)}, or null for a Nullify rule. */
  byte[] replacement(int rule, byte[] b, int start, int end) {
    String matched = new String(b, start, end - start, StandardCharsets.UTF_8);
    String masked = masker.mask(rules[rule].strategy(), matched);
    return masked == null ? null : masked.getBytes(StandardCharsets.UTF_8);
  }

  /** A copy of {@code b[start, end)} with every match replaced; none may be a Nullify match. */
  byte[] masked(Matches matches, byte[] b, int start, int end) {
    Edits edits = new Edits();
    for (int i = 0; i < matches.size(); i++) {
      edits.add(
          matches.start(i),
          matches.end(i),
          replacement(matches.rule(i), b, matches.start(i), matches.end(i)));
    }
    return edits.apply(b, start, end);
  }
}
