package io.portcullis.policy.masking;

import static io.portcullis.policy.masking.ContentScannerTest.allBuiltIn;
import static io.portcullis.policy.masking.ContentScannerTest.rule;
import static io.portcullis.policy.masking.ContentScannerTest.scanBytes;
import static io.portcullis.policy.masking.ContentScannerTest.scanner;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class ContentScannerPropertiesTest {

  /** Text around the PII: several scripts, punctuation, upper case; no digit and no {@code @}. */
  private static final List<String> FILLER =
      List.of(
          "a", "q", "Z", "GB", "é", "ß", "ж", "中", "カ", "😀", "☃", " ", " ", ",", ".", ";", ":",
          "!", "?", "(", ")", "[", "]", "{", "}", "<", ">", "\"", "'", "/", "\\", "|", "_", "=",
          "*", "&", "%", "$", "#", "~", "-", "+", "\t", "\n");

  /** Characters a token may sit right next to. */
  private static final List<String> EDGES =
      List.of(" ", ",", ";", ":", "=", "(", ")", "\"", "'", "/", "-", "\n", "<", ">", "[", "]");

  private static final ContentScanner CARDS = scanner(rule(DetectorKind.CARD));
  private static final ContentScanner SSNS = scanner(rule(DetectorKind.SSN));
  private static final ContentScanner IBANS = scanner(rule(DetectorKind.IBAN));

  @Provide
  Arbitrary<String> filler() {
    return Arbitraries.of(FILLER).list().ofMaxSize(12).map(parts -> String.join("", parts));
  }

  @Provide
  Arbitrary<String> edge() {
    return Arbitraries.of(EDGES);
  }

  /** Luhn-valid numbers of 13 to 19 digits, maybe grouped by single spaces or dashes. */
  @Provide
  Arbitrary<String> card() {
    return Arbitraries.strings()
        .withCharRange('0', '9')
        .ofMinLength(CardDetector.MIN_DIGITS - 1)
        .ofMaxLength(CardDetector.MAX_DIGITS - 1)
        .flatMap(payload -> grouped(payload + luhnCheckDigit(payload)));
  }

  private static Arbitrary<String> grouped(String digits) {
    return Arbitraries.of("", "", "", " ", "-")
        .list()
        .ofSize(digits.length() - 1)
        .map(
            separators -> {
              StringBuilder text = new StringBuilder().append(digits.charAt(0));
              for (int i = 1; i < digits.length(); i++) {
                text.append(separators.get(i - 1)).append(digits.charAt(i));
              }
              return text.toString();
            });
  }

  private static char luhnCheckDigit(String payload) {
    int sum = 0;
    for (int i = 0; i < payload.length(); i++) {
      int digit = payload.charAt(payload.length() - 1 - i) - '0';
      // The check digit will be last, so the payload's last digit is doubled.
      if (i % 2 == 0) {
        digit = digit < 5 ? 2 * digit : 2 * digit - 9;
      }
      sum += digit;
    }
    return (char) ('0' + (10 - sum % 10) % 10);
  }

  /** Valid SSNs, with dashes or spaces. */
  @Provide
  Arbitrary<String> ssn() {
    Arbitrary<Integer> areas = Arbitraries.integers().between(1, 899).filter(a -> a != 666);
    return Combinators.combine(
            areas,
            Arbitraries.integers().between(1, 99),
            Arbitraries.integers().between(1, 9999),
            Arbitraries.of("-", " "))
        .as(
            (area, group, serial, sep) ->
                "%03d%s%02d%s%04d".formatted(area, sep, group, sep, serial));
  }

  /** Checksum-valid IBANs, compact or in groups of four. */
  @Provide
  Arbitrary<String> iban() {
    Arbitrary<String> countries = Arbitraries.strings().withCharRange('A', 'Z').ofLength(2);
    Arbitrary<String> accounts =
        Arbitraries.strings()
            .withCharRange('A', 'Z')
            .withCharRange('0', '9')
            .ofMinLength(11)
            .ofMaxLength(30);
    return Combinators.combine(countries, accounts, Arbitraries.of(true, false))
        .as(
            (country, account, grouped) -> {
              String iban = country + checkDigits(country, account) + account;
              return grouped ? String.join(" ", iban.split("(?<=\\G.{4})")) : iban;
            });
  }

  private static String checkDigits(String country, String account) {
    StringBuilder number = new StringBuilder();
    for (char c : (account + country + "00").toCharArray()) {
      number.append(Character.digit(c, 36));
    }
    int check = 98 - new BigInteger(number.toString()).mod(BigInteger.valueOf(97)).intValue();
    return "%02d".formatted(check);
  }

  @Property
  void validCardsAreAlwaysMasked(
      @ForAll("card") String card,
      @ForAll("filler") String before,
      @ForAll("edge") String left,
      @ForAll("edge") String right,
      @ForAll("filler") String after) {
    String text = before + left + card + right + after;
    String expected = before + left + "CARD" + right + after;
    assertThat(CARDS.scan(text)).isEqualTo(expected);
    assertThat(scanBytes(CARDS, text)).isEqualTo(expected);
  }

  @Property
  void validCardsInJsonAreMaskedAndTheJsonStaysValid(
      @ForAll("card") String card,
      @ForAll("filler") String before,
      @ForAll("edge") String left,
      @ForAll("filler") String after) {
    String digits = card.replaceAll("[ -]", "");
    String json =
        "{\"text\": " + quoted(before + left + card + " " + after) + ", \"n\": " + digits + "}";
    byte[] utf8 = json.getBytes(StandardCharsets.UTF_8);
    String masked = new String(CARDS.scanJson(utf8, 0, utf8.length), StandardCharsets.UTF_8);
    assertThat(masked).doesNotContainPattern("[0-9]").endsWith(", \"n\": \"CARD\"}");
    assertThat(ContentScannerTest.JsonCheck.isValid(masked)).as(masked).isTrue();
  }

  @Property
  void validSsnsAreAlwaysMasked(
      @ForAll("ssn") String ssn,
      @ForAll("filler") String before,
      @ForAll("edge") String left,
      @ForAll("edge") String right,
      @ForAll("filler") String after) {
    String text = before + left + ssn + right + after;
    String expected = before + left + "SSN" + right + after;
    assertThat(SSNS.scan(text)).isEqualTo(expected);
    assertThat(scanBytes(SSNS, text)).isEqualTo(expected);
  }

  @Property
  void validIbansAreAlwaysMasked(
      @ForAll("iban") String iban,
      @ForAll("filler") String before,
      @ForAll("edge") String left,
      @ForAll("edge") String right,
      @ForAll("filler") String after) {
    String text = before + left + iban + right + after;
    // After a last group of four, upper-case filler could read as one more group.
    assertThat(IBANS.scan(text)).startsWith(before + left + "IBAN").doesNotContain(iban);
    assertThat(scanBytes(IBANS, text)).startsWith(before + left + "IBAN").doesNotContain(iban);
  }

  @Provide
  Arbitrary<String> textWithoutDigitsOrAt() {
    Arbitrary<String> anyChars =
        Arbitraries.strings().ofMaxLength(40).filter(s -> !s.matches("(?s).*[0-9@].*"));
    return Arbitraries.oneOf(filler(), anyChars);
  }

  @Property
  void textWithoutDigitsOrAtIsUntouched(@ForAll("textWithoutDigitsOrAt") String text) {
    ContentScanner scanner = allBuiltIn();
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    assertThat(scanner.scan(utf8, 0, utf8.length)).isNull();
    assertThat(scanner.scanJson(utf8, 0, utf8.length)).isNull();
    assertThat(scanner.scan(text)).isSameAs(text);
  }

  private static String quoted(String text) {
    StringBuilder json = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      if (c == '"' || c == '\\') {
        json.append('\\').append(c);
      } else if (c == '\n') {
        json.append("\\n");
      } else if (c == '\t') {
        json.append("\\t");
      } else {
        json.append(c);
      }
    }
    return json.append('"').toString();
  }
}
