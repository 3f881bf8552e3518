package io.portcullis.policy.rules;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.sql.RiskSignal;
import io.portcullis.policy.sql.StatementKind;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyParserTest {

  private static final String FILE = "policy.yaml";

  private static Policy parse(String text) throws PolicyException {
    return PolicyParser.parse(FILE, text);
  }

  /** The problems of a policy that must be refused, as {@code file:line:column: message}. */
  private static List<String> problems(String text) {
    try {
      PolicyParser.parse(FILE, text);
    } catch (PolicyException e) {
      return e.problems().stream().map(PolicyException.Problem::toString).toList();
    }
    throw new AssertionError("the policy was accepted:\n" + text);
  }

  private static Rule onlyRule(String text) throws PolicyException {
    List<Rule> rules = parse(text).rules();
    assertThat(rules).hasSize(1);
    return rules.get(0);
  }

  // ---------------------------------------------------------------- good input

  @Test
  void bankExampleParses() throws Exception {
    Policy policy =
        PolicyParser.parse(
            "bank-example.yaml",
            Files.readString(Path.of("..", "deploy", "policy", "bank-example.yaml")));
    assertThat(policy.defaultDecision()).isEqualTo(Decision.DENY);
    assertThat(policy.rules())
        .extracting(Rule::id)
        .contains("no-ddl", "agents-read", "agents-pii-needs-approval", "dba-maintenance")
        .doesNotHaveDuplicates();
    Rule pii =
        policy.rules().stream()
            .filter(r -> r.id().equals("agents-pii-needs-approval"))
            .findFirst()
            .orElseThrow();
    assertThat(pii.decision()).isEqualTo(Decision.REVIEW);
    assertThat(pii.when().tables()).containsExactlyInAnyOrder("bank.customers", "bank.cards");
    assertThat(pii.approval())
        .contains(
            new ApprovalTerms(
                ApprovalTerms.Mode.WAIT,
                Duration.ofMinutes(10),
                Set.of("security-analysts"),
                1,
                Optional.empty()));
  }

  @Test
  void versionIsTheSha256OfTheText() throws Exception {
    String text = "default: deny\n";
    String version = parse(text).version();
    assertThat(version).matches("sha256:[0-9a-f]{64}");
    byte[] digest =
        MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    assertThat(version).isEqualTo("sha256:" + HexFormat.of().formatHex(digest));
    assertThat(parse(text).version()).isEqualTo(version);
  }

  @Test
  void versionChangesWhenOneByteChanges() throws Exception {
    assertThat(parse("default: deny\n# a\n").version())
        .isNotEqualTo(parse("default: deny\n# b\n").version())
        .isNotEqualTo(parse("default: deny\n# a \n").version());
  }

  @Test
  void defaultAllowIsRead() throws Exception {
    Policy policy = parse("default: Allow\nrules: []\n");
    assertThat(policy.defaultDecision()).isEqualTo(Decision.ALLOW);
    assertThat(policy.rules()).isEmpty();
  }

  @Test
  void durationsAreSecondsMinutesHoursOrDays() throws Exception {
    Policy policy =
        parse(
            """
            default: deny
            rules:
              - id: seconds-and-days
                decision: review
                when: {agent: true}
                approval: {timeout: 30s, grant: 1d, approvers: [dba], mode: retry, required: 2}
              - id: minutes-and-hours
                decision: review
                when: {agent: false}
                approval: {timeout: 10m, grant: 2h, approvers: dba}
            """);
    assertThat(policy.rules())
        .extracting(r -> r.approval().orElseThrow())
        .containsExactly(
            new ApprovalTerms(
                ApprovalTerms.Mode.RETRY,
                Duration.ofSeconds(30),
                Set.of("dba"),
                2,
                Optional.of(Duration.ofDays(1))),
            new ApprovalTerms(
                ApprovalTerms.Mode.WAIT,
                Duration.ofMinutes(10),
                Set.of("dba"),
                1,
                Optional.of(Duration.ofHours(2))));
  }

  @Test
  void approvalDefaultsToWaitingTenMinutesForOneApprover() throws Exception {
    Rule rule =
        onlyRule(
            """
            default: deny
            rules:
              - id: a
                decision: review
                approval:
                  approvers: [dba]
            """);
    assertThat(rule.approval())
        .contains(
            new ApprovalTerms(
                ApprovalTerms.Mode.WAIT,
                Duration.ofMinutes(10),
                Set.of("dba"),
                1,
                Optional.empty()));
  }

  @Test
  void dayRangesCoverEveryDayBetween() throws Exception {
    Rule rule =
        onlyRule(
            """
            default: deny
            rules:
              - id: office-hours
                decision: allow
                when:
                  time:
                    days: [mon-fri, Sunday]
                    from: "08:00"
                    to: 17:30
                    zone: Europe/London
            """);
    assertThat(rule.when().time())
        .contains(
            new TimeWindow(
                Set.of(
                    DayOfWeek.MONDAY,
                    DayOfWeek.TUESDAY,
                    DayOfWeek.WEDNESDAY,
                    DayOfWeek.THURSDAY,
                    DayOfWeek.FRIDAY,
                    DayOfWeek.SUNDAY),
                LocalTime.of(8, 0),
                LocalTime.of(17, 30),
                ZoneId.of("Europe/London")));
  }

  @Test
  void dayRangeMayRunOverTheWeekend() throws Exception {
    Rule rule =
        onlyRule(
            """
            default: deny
            rules:
              - id: weekend-nights
                decision: deny
                when:
                  time: {days: fri-mon, from: "22:00", to: "06:00", zone: UTC}
            """);
    assertThat(rule.when().time().orElseThrow().days())
        .containsExactlyInAnyOrder(
            DayOfWeek.FRIDAY, DayOfWeek.SATURDAY, DayOfWeek.SUNDAY, DayOfWeek.MONDAY);
  }

  @Test
  void namesAreFoldedUnlessQuoted() throws Exception {
    Rule rule =
        onlyRule(
            """
            default: deny
            rules:
              - id: a
                decision: deny
                when:
                  tables: [BANK.Customers, '"Mixed"', bank."Cards"]
                  columns: [Customers.SSN]
                  functions: [PG_READ_FILE]
                  settings: [Search_Path]
            """);
    assertThat(rule.when().tables())
        .containsExactlyInAnyOrder("bank.customers", "Mixed", "bank.Cards");
    assertThat(rule.when().columns()).containsExactly("customers.ssn");
    assertThat(rule.when().functions()).containsExactly("pg_read_file");
    assertThat(rule.when().settings()).containsExactly("search_path");
  }

  @Test
  void singleValueStandsForAListOfOne() throws Exception {
    Rule rule =
        onlyRule(
            """
            default: deny
            rules:
              - id: a
                decision: deny
                when:
                  kinds: copy-out
                  signals: server-side-io
                  client-addresses: 10.0.0.0/8
                  longer-than: 1000
            """);
    assertThat(rule.when().kinds()).containsExactly(StatementKind.COPY_OUT);
    assertThat(rule.when().signals()).containsExactly(RiskSignal.SERVER_SIDE_IO);
    assertThat(rule.when().clientAddresses())
        .extracting(AddressRange::text)
        .containsExactly("10.0.0.0/8");
    assertThat(rule.when().longerThan()).hasValue(1000);
  }

  @Test
  void allowRuleKeepsItsRowLimit() throws Exception {
    Rule rule =
        onlyRule(
            """
            default: deny
            rules:
              - id: a
                description: reads
                decision: allow
                when: {kinds: [select], agent: true}
                max-rows: 500
            """);
    assertThat(rule.maxRows()).isEqualTo(OptionalLong.of(500));
    assertThat(rule.description()).isEqualTo("reads");
    assertThat(rule.when().agent()).contains(true);
  }

  // ---------------------------------------------------------------- unknown keys

  @Test
  void unknownTopLevelKeyIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rule: []
                """))
        .containsExactly(
            "policy.yaml:2:1: unknown key 'rule' in the policy; expected one of: default, masking, rules");
  }

  @Test
  void unknownRuleKeyListsTheExpectedKeys() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    tabels: [accounts]
                """))
        .containsExactly(
            "policy.yaml:5:5: unknown key 'tabels' in a rule; expected one of: approval, decision,"
                + " description, id, max-rows, reason, when");
  }

  @Test
  void unknownWhenKeyListsTheExpectedKeys() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    when:
                      tabels: [accounts]
                """))
        .containsExactly(
            "policy.yaml:6:7: unknown key 'tabels' in when; expected one of: agent,"
                + " application-names, client-addresses, columns, functions, groups, issuers,"
                + " kinds, longer-than, settings, signals, subjects, tables, tables-written,"
                + " targets, time");
  }

  // ---------------------------------------------------------------- wrong types

  @Test
  void listWhereASingleValueIsExpectedIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    reason: [too, many]
                """))
        .containsExactly("policy.yaml:5:13: reason must be a single value, not a list or mapping");
  }

  @Test
  void mappingWhereAListIsExpectedIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  id: a
                """))
        .containsExactly("policy.yaml:3:3: rules must be a list");
  }

  @Test
  void textForMaxRowsIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: allow
                    max-rows: lots
                  - id: b
                    decision: allow
                    when: {agent: true}
                    max-rows: 0
                """))
        .containsExactly(
            "policy.yaml:5:15: max-rows must be a whole number above zero",
            "policy.yaml:9:15: max-rows must be a whole number above zero");
  }

  @Test
  void agentMustBeTrueOrFalse() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    when:
                      agent: maybe
                """))
        .containsExactly("policy.yaml:6:14: agent must be one of: false, true (not 'maybe')");
  }

  @Test
  void unknownKindListsTheKinds() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    when:
                      kinds: [select, selects]
                """))
        .containsExactly(
            "policy.yaml:6:23: kinds: unknown value 'selects'; expected one of: select, insert,"
                + " update, delete, merge, truncate, ddl, copy-in, copy-out, call, do, set, show,"
                + " transaction, cursor, explain, notify, session, maintenance, lock,"
                + " function-call, unparsed");
  }

  @Test
  void unknownSignalListsTheSignals() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    when:
                      signals: [no-wheres]
                """))
        .containsExactly(
            "policy.yaml:6:17: signals: unknown value 'no-wheres'; expected one of: no-where,"
                + " multiple-statements, writes-in-read, server-side-io");
  }

  @Test
  void badClientAddressesAreReportedEachAtItsEntry() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    when:
                      client-addresses:
                        - 10.0.0.0/33
                        - 10.0.0.0/x
                        - db.example.com
                        - ""
                """))
        .containsExactly(
            "policy.yaml:7:11: client-addresses: prefix length 33 is out of range for 10.0.0.0",
            "policy.yaml:8:11: client-addresses: not a prefix length: x",
            "policy.yaml:9:11: client-addresses: not an IP address: db.example.com",
            "policy.yaml:10:11: client-addresses must not contain an empty entry");
  }

  @Test
  void badDurationIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: review
                    approval:
                      approvers: [dba]
                      timeout: 10 minutes
                      grant: 0s
                """))
        .containsExactly(
            "policy.yaml:7:16: timeout must be a duration such as 30s, 10m, 2h or 1d",
            "policy.yaml:8:14: grant must be a duration such as 30s, 10m, 2h or 1d");
  }

  // ---------------------------------------------------------------- time windows

  @Test
  void unknownDayIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    when:
                      time:
                        days: mon-fry
                        from: "08:00"
                        to: "17:00"
                        zone: UTC
                """))
        .containsExactly(
            "policy.yaml:7:15: unknown day 'mon-fry'; use mon, tue, … or ranges like mon-fri");
  }

  @Test
  void unknownDayInAListIsReportedAtTheDay() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    when:
                      time:
                        days: [mon, funday]
                        from: "08:00"
                        to: "17:00"
                        zone: Mars/Olympus
                """))
        .containsExactly(
            "policy.yaml:7:21: unknown day 'funday'; use mon, tue, … or ranges like mon-fri",
            "policy.yaml:10:15: unknown time zone; use a region such as Europe/London");
  }

  @Test
  void badTimeOfDayIsReportedAtTheTime() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    when:
                      time:
                        days: mon-fri
                        from: "08:00"
                        to: "25:00"
                        zone: Mars/Olympus
                """))
        .containsExactly(
            "policy.yaml:9:13: to must be a time of day such as 08:00 or 17:30",
            "policy.yaml:10:15: unknown time zone; use a region such as Europe/London");
  }

  @Test
  void unknownTimeZoneIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    when:
                      time:
                        days: mon-fri
                        from: "08:00"
                        to: "17:00"
                        zone: Mars/Olympus
                """))
        .containsExactly(
            "policy.yaml:10:15: unknown time zone; use a region such as Europe/London");
  }

  @Test
  void incompleteTimeWindowIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    when:
                      time: {days: mon-fri, from: "08:00"}
                """))
        .containsExactly("policy.yaml:6:13: time needs days, from, to and zone");
  }

  // ---------------------------------------------------------------- default and rules

  @Test
  void missingDefaultIsReported() {
    assertThat(problems("rules: []\n"))
        .containsExactly(
            "policy.yaml:1:1: the policy must say its default decision: `default: deny` or"
                + " `default: allow`");
  }

  @Test
  void defaultReviewIsRefused() {
    assertThat(problems("default: review\n"))
        .containsExactly("policy.yaml:1:10: default must be one of: allow, deny (not 'review')");
  }

  @Test
  void ruleWithoutIdIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - decision: deny
                    reason: no
                """))
        .containsExactly("policy.yaml:3:5: a rule needs an id");
  }

  @Test
  void badRuleIdIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: no spaces please
                    decision: deny
                """))
        .containsExactly(
            "policy.yaml:3:9: a rule id is letters, digits, '.', '_' and '-', at most 100");
  }

  @Test
  void duplicateRuleIdsAreReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                  - id: a
                    decision: deny
                    when: {agent: true}
                """))
        .containsExactly("policy.yaml:5:5: rule id 'a' is used twice");
  }

  @Test
  void ruleWithoutDecisionIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    when: {agent: true}
                """))
        .containsExactly("policy.yaml:3:5: rule 'a' needs a decision: allow, deny or review");
  }

  @Test
  void unknownDecisionIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: permit
                """))
        .containsExactly(
            "policy.yaml:4:15: decision must be one of: allow, deny, review (not 'permit')");
  }

  @Test
  void reviewWithoutApprovalIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: review
                    reason: needs a look
                """))
        .containsExactly(
            "policy.yaml:3:5: rule 'a' is a review rule and needs an approval section");
  }

  @Test
  void approvalWithoutApproversIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: review
                    approval:
                      timeout: 10m
                """))
        .containsExactly(
            "policy.yaml:6:7: approval needs approvers: the groups whose members may approve");
  }

  @Test
  void approvalOnAnAllowRuleIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: allow
                    approval:
                      approvers: [dba]
                """))
        .containsExactly("policy.yaml:6:7: approval applies only to review rules");
  }

  @Test
  void maxRowsOnADenyRuleIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    max-rows: 10
                """))
        .containsExactly("policy.yaml:5:15: max-rows applies only to allow rules");
  }

  @Test
  void reasonOnAnAllowRuleIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: allow
                    reason: because
                """))
        .containsExactly("policy.yaml:5:13: reason applies only to deny and review rules");
  }

  @Test
  void signalsInAnAllowRuleAreReportedAtItsWhen() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: allow
                    when:
                      kinds: [update]
                      signals: [no-where]
                """))
        .containsExactly(
            "policy.yaml:6:7: signals and longer-than can only make a rule stricter: use them in"
                + " deny or review rules");
  }

  @Test
  void longerThanInAnAllowRuleIsReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: allow
                    when: {longer-than: 100}
                """))
        .containsExactly(
            "policy.yaml:5:11: signals and longer-than can only make a rule stricter: use them in"
                + " deny or review rules");
  }

  @Test
  void contradictoryRulesAreReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: reads
                    decision: allow
                    when: {tables: [bank.accounts, audit], agent: true}
                  - id: no-reads
                    decision: deny
                    when: {agent: true, tables: [AUDIT, Bank.Accounts]}
                """))
        .containsExactly(
            "policy.yaml:6:5: rule 'no-reads' contradicts rule 'reads': same conditions, but deny"
                + " instead of allow");
  }

  @Test
  void sameConditionsWithTheSameDecisionAreNotAContradiction() throws Exception {
    assertThat(
            parse(
                    """
                    default: deny
                    rules:
                      - id: a
                        decision: deny
                        when: {kinds: [ddl]}
                      - id: b
                        decision: deny
                        when: {kinds: [ddl]}
                    """)
                .rules())
        .hasSize(2);
  }

  // ---------------------------------------------------------------- the file as a whole

  @Test
  void tabIndentationIsReportedWhereItIs() {
    assertThat(problems("default: deny\nrules:\n\t- id: a\n"))
        .containsExactly(
            "policy.yaml:3:1: not valid YAML: found character '\\t(TAB)' that cannot start any"
                + " token. (Do not use \\t(TAB) for indentation)");
  }

  @Test
  void unclosedBracketIsReportedWhereTheFileEnds() {
    assertThat(problems("default: deny\nrules: [\n  {id: a, decision: allow}\n"))
        .containsExactly(
            "policy.yaml:4:1: not valid YAML: expected ',' or ']', but got <stream end>");
  }

  @Test
  void duplicateTopLevelKeysAreReported() {
    assertThat(
            problems(
                """
                default: deny
                default: allow
                """))
        .singleElement()
        .asString()
        .startsWith("policy.yaml:2:1: ")
        .contains("duplicate")
        .contains("default");
  }

  @Test
  void duplicateKeysInARuleAreReported() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: allow
                    decision: deny
                """))
        .singleElement()
        .asString()
        .startsWith("policy.yaml:5:5: ")
        .contains("duplicate")
        .contains("decision");
  }

  @Test
  void emptyFileIsReported() {
    assertThat(problems("")).containsExactly("policy.yaml:1:1: the policy file is empty");
    assertThat(problems("# nothing but a comment\n"))
        .containsExactly("policy.yaml:1:1: the policy file is empty");
  }

  @Test
  void fileThatIsNotAMappingIsReported() {
    assertThat(problems("- default: deny\n"))
        .containsExactly(
            "policy.yaml:1:1: the policy must be a mapping of keys to values",
            "policy.yaml:1:1: the policy must say its default decision: `default: deny` or"
                + " `default: allow`");
  }

  @Test
  void everyProblemOfAFileIsReportedAtOnce() {
    PolicyException refused = null;
    try {
      parse(
          """
          default: maybe
          rules:
            - id: a
              decision: allow
              reason: because
            - id: b
              decision: deny
              when:
                kinds: [selectt]
            - decision: review
          """);
    } catch (PolicyException e) {
      refused = e;
    }
    assertThat(refused).isNotNull();
    assertThat(refused.problems())
        .extracting(PolicyException.Problem::toString)
        .containsExactly(
            "policy.yaml:1:10: default must be one of: allow, deny (not 'maybe')",
            "policy.yaml:5:13: reason applies only to deny and review rules",
            "policy.yaml:9:15: kinds: unknown value 'selectt'; expected one of: select, insert,"
                + " update, delete, merge, truncate, ddl, copy-in, copy-out, call, do, set, show,"
                + " transaction, cursor, explain, notify, session, maintenance, lock,"
                + " function-call, unparsed",
            "policy.yaml:10:5: a rule needs an id",
            "policy.yaml:10:5: rule '' is a review rule and needs an approval section");
    assertThat(refused.getMessage())
        .isEqualTo(
            String.join(
                "\n", refused.problems().stream().map(PolicyException.Problem::toString).toList()));
  }

  // ---------------------------------------------------------------- names as PostgreSQL reads them

  @Test
  void nonAsciiLettersInNamesAreNotFolded() throws Exception {
    Rule rule =
        onlyRule(
            """
            default: deny
            rules:
              - id: a
                decision: deny
                when:
                  tables: [ÄBC]
            """);
    assertThat(rule.when().tables()).containsExactly("Äbc");
  }

  @Test
  void longNamesAreTruncatedAsPostgresTruncatesThem() throws Exception {
    Rule rule =
        onlyRule(
            """
            default: deny
            rules:
              - id: a
                decision: deny
                when:
                  tables: [%s]
            """
                .formatted("t".repeat(70)));
    assertThat(rule.when().tables()).containsExactly("t".repeat(63));
  }

  @Test
  void abbreviatedAddressIsRefused() {
    assertThat(
            problems(
                """
                default: deny
                rules:
                  - id: a
                    decision: deny
                    when:
                      client-addresses: [10.1]
                """))
        .singleElement()
        .asString()
        .startsWith("policy.yaml:6:26: client-addresses: ");
  }

  @Test
  void aDatabasePrefixIsDroppedFromTableNamesAsStatementsDropIt() {
    assertThat(PolicyParser.relationName("ledger.bank.customers")).isEqualTo("bank.customers");
    assertThat(PolicyParser.relationName("\"a.b\".customers")).isEqualTo("a.b.customers");
    assertThat(PolicyParser.name("bank.customers.ssn")).isEqualTo("bank.customers.ssn");
  }
}
