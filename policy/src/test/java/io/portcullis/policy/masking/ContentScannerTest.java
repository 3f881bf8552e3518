package io.portcullis.policy.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ContentScannerTest {

  static final ValueMasker MASKER = new ValueMasker(new byte[32]);
  static final String ACCOUNT_PATTERN = "ACC-\\d{6}";

  /** A rule that replaces what it finds by the kind's name, e.g. {@code CARD}. */
  static DetectorRule rule(DetectorKind kind) {
    return rule(kind, new MaskStrategy.Redact(kind.name()));
  }

  static DetectorRule rule(DetectorKind kind, MaskStrategy strategy) {
    Optional<Pattern> pattern =
        kind == DetectorKind.PATTERN
            ? Optional.of(Pattern.compile(ACCOUNT_PATTERN))
            : Optional.empty();
    return new DetectorRule(kind.policyName(), kind, pattern, strategy, Set.of());
  }

  static DetectorRule pattern(String regex, String replacement) {
    return new DetectorRule(
        "pattern",
        DetectorKind.PATTERN,
        Optional.of(Pattern.compile(regex)),
        new MaskStrategy.Redact(replacement),
        Set.of());
  }

  static ContentScanner scanner(DetectorRule... rules) {
    return new ContentScanner(List.of(rules), MASKER);
  }

  static ContentScanner allBuiltIn() {
    return scanner(
        rule(DetectorKind.CARD),
        rule(DetectorKind.SSN),
        rule(DetectorKind.IBAN),
        rule(DetectorKind.EMAIL),
        rule(DetectorKind.PHONE));
  }

  /** The bytes path's result as text, the input itself when nothing was found. */
  static String scanBytes(ContentScanner scanner, String text) {
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    byte[] masked = scanner.scan(utf8, 0, utf8.length);
    if (masked == ContentScanner.NULL_VALUE) {
      return null;
    }
    return masked == null ? text : new String(masked, StandardCharsets.UTF_8);
  }

  static String scanJson(ContentScanner scanner, String json) {
    byte[] utf8 = json.getBytes(StandardCharsets.UTF_8);
    byte[] masked = scanner.scanJson(utf8, 0, utf8.length);
    return masked == null ? null : new String(masked, StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- one kind at a time

  static Stream<Arguments> masked() {
    return Stream.of(
        // Cards: separators, boundaries, lengths, Luhn.
        arguments("card", "4111111111111111", "CARD"),
        arguments("card", "pan=4111111111111111;", "pan=CARD;"),
        arguments("card", "\"4111 1111 1111 1111\"", "\"CARD\""),
        arguments("card", "card 4111-1111-1111-1111.", "card CARD."),
        arguments("card", "amex 3782 822463 10005", "amex CARD"),
        arguments("card", "13 digits 4222222222222!", "13 digits CARD!"),
        arguments("card", "19 digits 4111111111111111110", "19 digits CARD"),
        arguments("card", "(4111111111111111)", "(CARD)"),
        arguments("card", "-4111111111111111-", "-CARD-"),
        arguments("card", "4111 1111 1111 1111 then 12", "CARD then 12"),
        arguments("card", "4111111111111112", "4111111111111112"),
        arguments("card", "4111 1111 1111 1112", "4111 1111 1111 1112"),
        arguments("card", "ab4111111111111111", "ab4111111111111111"),
        arguments("card", "4111111111111111xy", "4111111111111111xy"),
        arguments("card", "é4111111111111111", "é4111111111111111"),
        arguments("card", "14111111111111111", "14111111111111111"),
        arguments("card", "41111111111111111115", "41111111111111111115"),
        arguments("card", "411111111111", "411111111111"),
        arguments("card", "4111  1111 1111 1111", "4111  1111 1111 1111"),
        arguments("card", "4111--1111-1111-1111", "4111--1111-1111-1111"),
        arguments("card", "4111_1111_1111_1111", "4111_1111_1111_1111"),
        // SSNs: both separators, invalid areas, groups and serials, no bare nine digits.
        arguments("ssn", "123-45-6789", "SSN"),
        arguments("ssn", "ssn: 123 45 6789.", "ssn: SSN."),
        arguments("ssn", "899-99-9999", "SSN"),
        arguments("ssn", "000-12-3456", "000-12-3456"),
        arguments("ssn", "666-12-3456", "666-12-3456"),
        arguments("ssn", "900-12-3456", "900-12-3456"),
        arguments("ssn", "999-12-3456", "999-12-3456"),
        arguments("ssn", "123-00-4567", "123-00-4567"),
        arguments("ssn", "123-45-0000", "123-45-0000"),
        arguments("ssn", "123456789", "123456789"),
        arguments("ssn", "123-45 6789", "123-45 6789"),
        arguments("ssn", "1123-45-6789", "1123-45-6789"),
        arguments("ssn", "123-45-67890", "123-45-67890"),
        arguments("ssn", "x123-45-6789", "x123-45-6789"),
        // IBANs: compact and grouped, checksum, upper case, boundaries.
        arguments("iban", "GB82WEST12345698765432", "IBAN"),
        arguments("iban", "iban GB82 WEST 1234 5698 7654 32, thanks", "iban IBAN, thanks"),
        arguments("iban", "DE89 3704 0044 0532 0130 00", "IBAN"),
        arguments("iban", "to NL91ABNA0417164300.", "to IBAN."),
        arguments("iban", "NO9386011117947", "IBAN"),
        arguments("iban", "MT84MALT011000012345MTLCAST001S", "IBAN"),
        arguments("iban", "GB83WEST12345698765432", "GB83WEST12345698765432"),
        arguments("iban", "gb82west12345698765432", "gb82west12345698765432"),
        arguments("iban", "XGB82WEST12345698765432", "XGB82WEST12345698765432"),
        arguments("iban", "GB82WEST12345698765432x", "GB82WEST12345698765432x"),
        arguments("iban", "GB82 WEST12345698765432", "GB82 WEST12345698765432"),
        // E-mail addresses.
        arguments("email", "mail bob@example.com.", "mail EMAIL."),
        arguments("email", "<first.last+tag@mail.example.co.uk>", "<EMAIL>"),
        arguments("email", "to: o'hara@example.org, cc", "to: EMAIL, cc"),
        arguments("email", "josé@exämple.de", "EMAIL"),
        arguments("email", "..bob@example.com", "..EMAIL"),
        arguments("email", "bob@example.com-", "EMAIL-"),
        arguments("email", "bob@localhost", "bob@localhost"),
        arguments("email", "bob@example.c", "bob@example.c"),
        arguments("email", "bob@example.c0m", "bob@example.c0m"),
        arguments("email", "@example.com", "@example.com"),
        arguments("email", "bob@", "bob@"),
        arguments("email", "bob@-example.com", "bob@-example.com"),
        // Phone numbers.
        arguments("phone", "(212) 555-0100", "PHONE"),
        arguments("phone", "call 212-555-0100.", "call PHONE."),
        arguments("phone", "212.555.0100", "PHONE"),
        arguments("phone", "1-212-555-0100", "PHONE"),
        arguments("phone", "+1 212 555 0100", "PHONE"),
        arguments("phone", "+1 (212) 555-0100", "PHONE"),
        arguments("phone", "tel:+44 20 7946 0958;", "tel:PHONE;"),
        arguments("phone", "+44 (0)20 7946 0958", "PHONE"),
        arguments("phone", "+33.1.23.45.67.89", "PHONE"),
        arguments("phone", "+4915123456789", "PHONE"),
        arguments("phone", "2125550100", "2125550100"),
        arguments("phone", "+1234567", "+1234567"),
        arguments("phone", "+1234567890123456", "+1234567890123456"),
        arguments("phone", "112-555-0100", "112-555-0100"),
        arguments("phone", "212-155-0100", "212-155-0100"),
        arguments("phone", "212-555.0100", "212-555.0100"),
        arguments("phone", "212-555-01000", "212-555-01000"),
        arguments("phone", "x+1 212 555 0100", "x+1 212 555 0100"),
        arguments("phone", "2024-01-05 12:00:00+05:30", "2024-01-05 12:00:00+05:30"),
        // Patterns.
        arguments("pattern", "acct ACC-123456 ok", "acct PATTERN ok"),
        arguments("pattern", "ACC-123456ACC-654321", "PATTERNPATTERN"),
        arguments("pattern", "ACC-12345", "ACC-12345"));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource
  void masked(String kind, String input, String expected) {
    ContentScanner scanner = scanner(rule(DetectorKind.valueOf(kind.toUpperCase(Locale.ROOT))));
    assertThat(scanBytes(scanner, input)).isEqualTo(expected);
    assertThat(scanner.scan(input)).isEqualTo(expected);
  }

  static Stream<Arguments> allKinds() {
    return Stream.of(
        arguments(
            "bob@example.com paid 4111111111111111 and 5555555555554444, ssn 123-45-6789",
            "EMAIL paid CARD and CARD, ssn SSN"),
        arguments("IBAN GB82WEST12345698765432 / tel (212) 555-0100", "IBAN IBAN / tel PHONE"),
        // Multi-byte text around matches is kept byte for byte.
        arguments("日本語 4111111111111111 ☃ 😀", "日本語 CARD ☃ 😀"),
        arguments("카드 4111 1111 1111 1111 입니다", "카드 CARD 입니다"),
        arguments("😀bob@example.com😀", "😀EMAIL😀"),
        arguments("Ünïcödé 123-45-6789 ñ", "Ünïcödé SSN ñ"),
        // Scripts written without spaces do not glue a number to the words around it.
        arguments("卡号4111111111111111。", "卡号CARD。"),
        arguments("電話番号212-555-0100です", "電話番号PHONEです"),
        arguments("连络bob@example.com谢谢", "连络EMAIL谢谢"),
        // ... but other letters do.
        arguments("номер4111111111111111", "номер4111111111111111"),
        arguments("2024-01-05T10:11:12.123456+00:00", "2024-01-05T10:11:12.123456+00:00"));
  }

  @ParameterizedTest
  @MethodSource
  void allKinds(String input, String expected) {
    ContentScanner scanner = allBuiltIn();
    assertThat(scanBytes(scanner, input)).isEqualTo(expected);
    assertThat(scanner.scan(input)).isEqualTo(expected);
  }

  // ---------------------------------------------------------------- rules together

  @Test
  void earlierRuleWinsOverlaps() {
    String card = "4111 1111 1111 1111";
    DetectorRule pairs = pattern("\\d{4} \\d{4}", "PAIR");
    assertThat(scanner(pairs, rule(DetectorKind.CARD)).scan(card)).isEqualTo("PAIR PAIR");
    assertThat(scanner(rule(DetectorKind.CARD), pairs).scan(card)).isEqualTo("CARD");
  }

  @Test
  void laterRuleStillFindsWhatEarlierRulesLeft() {
    DetectorRule word = pattern("secret", "S");
    assertThat(scanner(word, rule(DetectorKind.CARD)).scan("secret 4111111111111111 secret"))
        .isEqualTo("S CARD S");
    assertThat(scanner(rule(DetectorKind.CARD), word).scan("secret 4111111111111111 secret"))
        .isEqualTo("S CARD S");
  }

  @Test
  void laterRuleMatchesOnlyOutsideEarlierMatches() {
    // The pattern takes "foo." of the address; the e-mail rule finds the rest.
    DetectorRule foo = pattern("foo\\.", "F");
    assertThat(scanner(foo, rule(DetectorKind.EMAIL)).scan("foo.bar@example.com"))
        .isEqualTo("FEMAIL");
  }

  @Test
  void longestReadingWins() {
    // 4111111111111111 and 4111111111111111110 are both Luhn-valid.
    assertThat(scanner(rule(DetectorKind.CARD)).scan("4111111111111111 110 x")).isEqualTo("CARD x");
    // A pattern matches as Java's regular expressions prefer: the first alternative.
    assertThat(scanner(pattern("ab|abc", "X")).scan("abcd")).isEqualTo("Xcd");
  }

  @Test
  void laterPatternSeesTheTextAroundItsGap() {
    DetectorRule key = pattern("id=", "K");
    assertThat(scanner(key, pattern("(?<=id=)\\w+", "V")).scan("id=abc")).isEqualTo("KV");
    // ^ still means the start of the value, not of the text left to the rule.
    assertThat(scanner(key, pattern("^abc", "V")).scan("id=abc")).isEqualTo("Kabc");
  }

  @Test
  void emptyPatternMatchesAreIgnored() {
    assertThat(scanner(pattern("x*", "X")).scan("abxxc")).isEqualTo("abXc");
    String text = "abc";
    assertThat(scanner(pattern("x*", "X")).scan(text)).isSameAs(text);
  }

  @Test
  void patternMatchesAroundSupplementaryCharacters() {
    assertThat(scanner(pattern("😀+", "E")).scan("a😀😀b😀")).isEqualTo("aEbE");
    assertThat(scanner(pattern("b.", "B")).scan("ab😀c")).isEqualTo("aBc");
  }

  // ---------------------------------------------------------------- strategies

  @Test
  void partialKeepsTheEndOfTheMatch() {
    ContentScanner scanner = scanner(rule(DetectorKind.CARD, new MaskStrategy.Partial(4)));
    assertThat(scanner.scan("pan 4111 1111 1111 1111!"))
        .isEqualTo("pan " + "*".repeat(15) + "1111!");
  }

  @Test
  void hashIsTheHashOfTheMatchedText() {
    ContentScanner scanner = scanner(rule(DetectorKind.EMAIL, new MaskStrategy.Hash()));
    String hash = MASKER.mask(new MaskStrategy.Hash(), "bob@example.com");
    assertThat(scanner.scan("<bob@example.com>")).isEqualTo("<" + hash + ">");
    assertThat(scanJson(scanner, "[\"bob\\u0040example.com\"]")).isEqualTo("[\"" + hash + "\"]");
  }

  @Test
  void nullifyMakesTheWholeValueNull() {
    ContentScanner scanner =
        scanner(rule(DetectorKind.EMAIL), rule(DetectorKind.CARD, new MaskStrategy.Nullify()));
    byte[] utf8 = "bob@example.com 4111111111111111".getBytes(StandardCharsets.UTF_8);
    assertThat(scanner.scan(utf8, 0, utf8.length)).isSameAs(ContentScanner.NULL_VALUE);
    assertThat(scanner.scan("x 4111111111111111")).isNull();
    assertThat(scanner.scan("bob@example.com")).isEqualTo("EMAIL");
  }

  // ---------------------------------------------------------------- nothing found

  @Test
  void nothingFoundGivesNullOrTheSameString() {
    ContentScanner scanner = allBuiltIn();
    for (String text : List.of("", "hello", "4111111111111112", "order 12345678 on 2024-01-05")) {
      byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
      assertThat(scanner.scan(utf8, 0, utf8.length)).isNull();
      assertThat(scanner.scan(text)).isSameAs(text);
      assertThat(scanner.scanJson(utf8, 0, utf8.length)).isNull();
    }
  }

  @Test
  void withoutRulesNothingIsFound() {
    ContentScanner scanner = scanner();
    assertThat(scanner.isEmpty()).isTrue();
    assertThat(allBuiltIn().isEmpty()).isFalse();
    String text = "4111111111111111";
    assertThat(scanner.scan(text)).isSameAs(text);
  }

  @Test
  void scansOnlyTheGivenRange() {
    byte[] utf8 = "x4111111111111111y".getBytes(StandardCharsets.UTF_8);
    byte[] masked = scanner(rule(DetectorKind.CARD)).scan(utf8, 1, 16);
    assertThat(new String(masked, StandardCharsets.UTF_8)).isEqualTo("CARD");
    assertThat(scanner(rule(DetectorKind.CARD)).scan(utf8, 0, utf8.length)).isNull();
  }

  @Test
  void malformedUtf8IsKeptAndNeverGluesATokenOn() {
    byte[] utf8 = {
      (byte) 0xC3,
      '4',
      '1',
      '1',
      '1',
      '-',
      '1',
      '1',
      '1',
      '1',
      '-',
      '1',
      '1',
      '1',
      '1',
      '-',
      '1',
      '1',
      '1',
      '1',
      (byte) 0xFF
    };
    byte[] masked = scanner(rule(DetectorKind.CARD)).scan(utf8, 0, utf8.length);
    assertThat(masked).containsExactly((byte) 0xC3, 'C', 'A', 'R', 'D', (byte) 0xFF);
    assertThat(scanner(pattern("1+", "X")).scan(utf8, 0, utf8.length))
        .containsExactly((byte) 0xC3, '4', 'X', '-', 'X', '-', 'X', '-', 'X', (byte) 0xFF);
  }

  @Test
  void findingNothingAllocatesNothing() {
    java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    assumeTrue(threads instanceof com.sun.management.ThreadMXBean);
    com.sun.management.ThreadMXBean allocations = (com.sun.management.ThreadMXBean) threads;
    assumeTrue(allocations.isThreadAllocatedMemorySupported());
    allocations.setThreadAllocatedMemoryEnabled(true);
    ContentScanner scanner = allBuiltIn();
    List<String> texts =
        List.of(
            "2024-01-05 10:11:12.123456+00",
            "order 4111111111111112 for ACME GmbH, +12 items",
            "(212) 555-01000 or 123-45-0000 or x@y",
            "{\"at\": \"2024-01-05\", \"n\": 12345678901234, \"s\": \"a\\nb 212 555\"}",
            "naïve café 日本語 😀 GB00 1234 5678 9012 34");
    byte[][] values = new byte[texts.size()][];
    for (int i = 0; i < values.length; i++) {
      values[i] = texts.get(i).getBytes(StandardCharsets.UTF_8);
    }
    int found = 0;
    for (int round = 0; round < 20_000; round++) {
      found += scanAll(scanner, values);
    }
    long before = allocations.getCurrentThreadAllocatedBytes();
    for (int round = 0; round < 1_000; round++) {
      found += scanAll(scanner, values);
    }
    long allocated = allocations.getCurrentThreadAllocatedBytes() - before;
    assertThat(found).isZero();
    // Some slack for the measuring itself; one allocation per value would be 5000 objects.
    assertThat(allocated).isLessThan(4096);
  }

  private static int scanAll(ContentScanner scanner, byte[][] values) {
    int found = 0;
    for (int i = 0; i < values.length; i++) {
      if (scanner.scan(values[i], 0, values[i].length) != null) {
        found++;
      }
      if (scanner.scanJson(values[i], 0, values[i].length) != null) {
        found++;
      }
    }
    return found;
  }

  // ---------------------------------------------------------------- JSON

  static Stream<Arguments> json() {
    return Stream.of(
        arguments("{\"pan\": 4111111111111111}", "{\"pan\": \"CARD\"}"),
        arguments("[4111111111111111,1]", "[\"CARD\",1]"),
        arguments("{\"n\": -4111111111111111.5e3}", "{\"n\": \"-CARD.5e3\"}"),
        arguments(
            "{\"note\": \"card 4111 1111 1111 1111, mail bob@example.com\"}",
            "{\"note\": \"card CARD, mail EMAIL\"}"),
        arguments(
            "{\"bob@example.com\": {\"ssn\": \"123-45-6789\"}}", "{\"EMAIL\": {\"ssn\": \"SSN\"}}"),
        // Escapes are read as what they stand for; the match replaces the escapes too.
        arguments("[\"line\\n4111111111111111\"]", "[\"line\\nCARD\"]"),
        arguments("[\"bob\\u0040example.com\"]", "[\"EMAIL\"]"),
        arguments("[\"\\u00e9 \\\"4111111111111111\\\"\"]", "[\"\\u00e9 \\\"CARD\\\"\"]"),
        arguments("[\"\\ud83d\\ude00 212-555-0100\"]", "[\"\\ud83d\\ude00 PHONE\"]"),
        arguments("{\"k\": \"日本 4111111111111111\"}", "{\"k\": \"日本 CARD\"}"),
        // A match never spans two JSON values.
        arguments("[\"4111 1111\", \"1111 1111\"]", null),
        arguments("{\"a\": 1234, \"b\": 5678, \"c\": 9012, \"d\": 3456}", null),
        arguments("{\"at\": \"2024-01-05\", \"ok\": true, \"n\": null}", null));
  }

  @ParameterizedTest
  @MethodSource
  void json(String json, String expected) {
    String masked = scanJson(allBuiltIn(), json);
    assertThat(masked).isEqualTo(expected);
    if (masked != null) {
      assertThat(JsonCheck.isValid(masked)).as(masked).isTrue();
    }
  }

  @Test
  void jsonNullifyGivesJsonNull() {
    ContentScanner scanner =
        scanner(rule(DetectorKind.CARD, new MaskStrategy.Nullify()), rule(DetectorKind.EMAIL));
    assertThat(scanJson(scanner, "{\"pan\": 4111111111111111, \"n\": 1}"))
        .isEqualTo("{\"pan\": null, \"n\": 1}");
    assertThat(scanJson(scanner, "{\"a\": \"x 4111111111111111\", \"b\": \"bob@example.com\"}"))
        .isEqualTo("{\"a\": null, \"b\": \"EMAIL\"}");
    assertThat(scanJson(scanner, "\"4111111111111111\"")).isEqualTo("null");
    // A key cannot be null.
    assertThat(scanJson(scanner, "{\"4111111111111111\" : 1}")).isEqualTo("{\"****\" : 1}");
  }

  @Test
  void jsonPartialNumberBecomesString() {
    ContentScanner scanner = scanner(rule(DetectorKind.CARD, new MaskStrategy.Partial(4)));
    assertThat(scanJson(scanner, "[4111111111111111]"))
        .isEqualTo("[\"" + "*".repeat(12) + "1111\"]");
  }

  @Test
  void jsonRangeIsRespected() {
    byte[] utf8 = "xx[4111111111111111]yy".getBytes(StandardCharsets.UTF_8);
    byte[] masked = allBuiltIn().scanJson(utf8, 2, utf8.length - 4);
    assertThat(new String(masked, StandardCharsets.UTF_8)).isEqualTo("[\"CARD\"]");
  }

  /** Just enough of a JSON parser to tell whether a text is valid JSON. */
  static final class JsonCheck {
    private final String text;
    private int pos;

    private JsonCheck(String text) {
      this.text = text;
    }

    static boolean isValid(String text) {
      JsonCheck check = new JsonCheck(text);
      try {
        check.value();
        check.space();
        return check.pos == text.length();
      } catch (RuntimeException e) {
        return false;
      }
    }

    private void value() {
      space();
      char c = text.charAt(pos);
      if (c == '{') {
        members('}', true);
      } else if (c == '[') {
        members(']', false);
      } else if (c == '"') {
        string();
      } else if (text.startsWith("true", pos) || text.startsWith("null", pos)) {
        pos += 4;
      } else if (text.startsWith("false", pos)) {
        pos += 5;
      } else {
        int start = pos;
        while (pos < text.length() && "+-.eE0123456789".indexOf(text.charAt(pos)) >= 0) {
          pos++;
        }
        if (!text.substring(start, pos).matches("-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?")) {
          throw new IllegalStateException("bad number at " + start);
        }
      }
    }

    private void members(char close, boolean object) {
      pos++;
      space();
      if (text.charAt(pos) == close) {
        pos++;
        return;
      }
      while (true) {
        if (object) {
          space();
          string();
          space();
          expect(':');
        }
        value();
        space();
        if (text.charAt(pos) == close) {
          pos++;
          return;
        }
        expect(',');
      }
    }

    private void string() {
      expect('"');
      while (text.charAt(pos) != '"') {
        char c = text.charAt(pos++);
        if (c < 0x20) {
          throw new IllegalStateException("control character in string");
        }
        if (c == '\\') {
          char escaped = text.charAt(pos++);
          if (escaped == 'u') {
            Integer.parseInt(text.substring(pos, pos + 4), 16);
            pos += 4;
          } else if ("\"\\/bfnrt".indexOf(escaped) < 0) {
            throw new IllegalStateException("bad escape");
          }
        }
      }
      pos++;
    }

    private void expect(char c) {
      if (text.charAt(pos++) != c) {
        throw new IllegalStateException("expected " + c + " at " + (pos - 1));
      }
    }

    private void space() {
      while (pos < text.length() && " \t\n\r".indexOf(text.charAt(pos)) >= 0) {
        pos++;
      }
    }
  }

  @Test
  void jsonCheckRejectsInvalidJson() {
    for (String bad : List.of("{\"a\": CARD}", "[1,]", "{\"a\" 1}", "[\"a]", "01", "nul")) {
      assertThat(JsonCheck.isValid(bad)).as(bad).isFalse();
    }
    assertThat(Arrays.asList("{}", "[1, -2.5e3, \"\\u00e9\", null]")).allMatch(JsonCheck::isValid);
  }
}
