package io.portcullis.policy.rules;

import static org.junit.jupiter.api.Assertions.fail;

import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.StatementAnalysis;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The shipped bank policy against a table of statements and the decisions a bank's security team
 * expects, in {@code decisions/bank-example.tsv}: one case a line, tab-separated {@code who},
 * {@code allow|deny|review}, a rule id that must be among the deciding rules ({@code -} when the
 * default decides, empty for no check) and the SQL. In the SQL, {@code {{N*text}}} stands for
 * {@code text} repeated N times and {@code {{nl}}} for a newline.
 *
 * <p>Each line is a test of its own, and all failing lines are listed together after the run. One
 * analyzer judges the lines in order, as one serves a gateway, so a line can prime its cache for
 * the next.
 */
class PolicyDecisionTableTest {

  private static final Path POLICY = Path.of("..", "deploy", "policy", "bank-example.yaml");
  private static final String TABLE = "/decisions/bank-example.tsv";
  private static final Pattern MACRO = Pattern.compile("\\{\\{(?:nl|(\\d+)\\*([^}]*))}}");

  private static final SqlAnalyzer ANALYZER = new SqlAnalyzer();
  private static final Map<Integer, String> FAILURES = new ConcurrentSkipListMap<>();
  private static Policy policy;

  /** One line of the table. */
  record Case(int line, String group, String who, Decision expected, String ruleId, String sql) {
    @Override
    public String toString() {
      String shown = sql.length() > 100 ? sql.substring(0, 100) + "… (" + sql.length() + ")" : sql;
      return "line " + line + ": " + who + " " + expected.policyName() + " " + shown;
    }
  }

  @BeforeAll
  static void loadPolicy() throws IOException, PolicyException {
    policy = PolicyParser.parse(POLICY.toString(), Files.readString(POLICY));
  }

  @AfterAll
  static void reportFailures() {
    if (!FAILURES.isEmpty()) {
      System.err.println(
          FAILURES.size()
              + " decision table line(s) failed:\n"
              + String.join("\n", FAILURES.values()));
    }
  }

  static List<Case> cases() throws IOException {
    List<Case> cases = new ArrayList<>();
    try (InputStream in = PolicyDecisionTableTest.class.getResourceAsStream(TABLE)) {
      if (in == null) {
        throw new IOException(TABLE + " is not on the test class path");
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String group = "";
      String text;
      int line = 0;
      while ((text = reader.readLine()) != null) {
        line++;
        if (text.isBlank()) {
          continue;
        }
        if (text.startsWith("#")) {
          group = text.substring(1).strip();
          continue;
        }
        String[] columns = text.split("\t", 4);
        if (columns.length != 4) {
          throw new IOException("line " + line + ": expected 4 tab-separated columns: " + text);
        }
        cases.add(
            new Case(
                line,
                group,
                columns[0].strip(),
                Decision.valueOf(columns[1].strip().toUpperCase(Locale.ROOT)),
                columns[2].strip(),
                expand(columns[3])));
      }
    }
    return cases;
  }

  private static String expand(String sql) {
    Matcher macro = MACRO.matcher(sql);
    StringBuilder expanded = new StringBuilder();
    while (macro.find()) {
      String replacement =
          macro.group(1) == null ? "\n" : macro.group(2).repeat(Integer.parseInt(macro.group(1)));
      macro.appendReplacement(expanded, Matcher.quoteReplacement(replacement));
    }
    macro.appendTail(expanded);
    return expanded.toString();
  }

  private static StatementContext context(String who) throws IOException {
    Identity identity =
        switch (who) {
          case "agent" -> new Identity("payments-bot", "https://idp", Set.of("agents"), true);
          case "analyst" -> new Identity("alice", "https://idp", Set.of("analysts"), false);
          case "outsider" -> new Identity("mallory", "https://idp", Set.of(), false);
          case "dba" -> new Identity("dora", "https://idp", Set.of("dba"), false);
          default -> throw new IllegalArgumentException("unknown who: " + who);
        };
    String address = who.equals("dba") ? "10.1.2.3" : "192.168.1.5";
    return new StatementContext(
        identity, "main", InetAddress.getByName(address), "psql", Instant.now());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decision(Case c) throws IOException {
    List<StatementAnalysis> analyses = ANALYZER.analyze(c.sql(), true);
    Verdict verdict = policy.evaluateAll(context(c.who()), analyses);
    boolean ruleOk =
        switch (c.ruleId()) {
          case "" -> true;
          case "-" -> verdict.ruleIds().isEmpty();
          default -> verdict.ruleIds().contains(c.ruleId());
        };
    if (verdict.decision() != c.expected() || !ruleOk) {
      String failure =
          String.format(
              "line %d [%s] who=%s sql=%s%n    expected %s%s, actual %s by %s: %s%n    saw %s",
              c.line(),
              c.group(),
              c.who(),
              c.sql().length() > 200 ? c.sql().substring(0, 200) + "…" : c.sql(),
              c.expected().policyName(),
              c.ruleId().isEmpty() ? "" : " (" + c.ruleId() + ")",
              verdict.decision().policyName(),
              verdict.ruleIds().isEmpty() ? "the default" : verdict.ruleIds(),
              verdict.reason(),
              analyses.stream()
                  .map(
                      a ->
                          "kinds "
                              + a.kinds()
                              + " read "
                              + a.tablesRead()
                              + " written "
                              + a.tablesWritten()
                              + " functions "
                              + a.functions()
                              + " setting "
                              + a.setting().orElse("-")
                              + " signals "
                              + a.signals())
                  .toList());
      FAILURES.put(c.line(), failure);
      fail(failure);
    }
  }
}
