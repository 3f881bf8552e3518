package io.portcullis.policy.rules;

import io.portcullis.policy.masking.ColumnRef;
import io.portcullis.policy.masking.ColumnRule;
import io.portcullis.policy.masking.DetectorKind;
import io.portcullis.policy.masking.DetectorRule;
import io.portcullis.policy.masking.MaskStrategy;
import io.portcullis.policy.masking.MaskingPolicy;
import io.portcullis.policy.sql.RiskSignal;
import io.portcullis.policy.sql.SqlLexer;
import io.portcullis.policy.sql.StatementKind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a policy file. Every problem is reported with its line and column, all at once, so a policy
 * author fixes them in one pass; a file with any problem is refused as a whole.
 */
public final class PolicyParser {

  private static final Set<String> TOP_KEYS = Set.of("default", "rules", "masking");
  private static final Set<String> RULE_KEYS =
      Set.of("id", "description", "when", "decision", "reason", "max-rows", "approval");
  private static final Set<String> WHEN_KEYS =
      Set.of(
          "subjects",
          "issuers",
          "groups",
          "agent",
          "targets",
          "client-addresses",
          "application-names",
          "time",
          "kinds",
          "tables",
          "tables-written",
          "columns",
          "functions",
          "settings",
          "signals",
          "longer-than");
  private static final Set<String> TIME_KEYS = Set.of("days", "from", "to", "zone");
  private static final Set<String> MASKING_KEYS = Set.of("columns", "detectors");
  private static final Set<String> STRATEGY_KEYS = Set.of("strategy", "keep", "text");
  private static final Set<String> COLUMN_RULE_KEYS =
      union(
          STRATEGY_KEYS,
          Set.of("id", "columns", "exempt-groups", "unknown-lineage", "deny-predicates-for"));
  private static final Set<String> DETECTOR_KEYS =
      union(STRATEGY_KEYS, Set.of("id", "kind", "pattern", "exempt-groups"));
  private static final int DEFAULT_PARTIAL_KEEP = 4;
  private static final Set<String> APPROVAL_KEYS =
      Set.of("mode", "timeout", "approvers", "required", "grant");

  private final String file;
  private final List<PolicyException.Problem> problems = new ArrayList<>();

  private PolicyParser(String file) {
    this.file = file;
  }

  /**
   * @param file the name used in error messages
   * @param text the file's content
   */
  public static Policy parse(String file, String text) throws PolicyException {
    return new PolicyParser(file).read(text);
  }

  private Policy read(String text) throws PolicyException {
    LoaderOptions options = new LoaderOptions();
    options.setMaxAliasesForCollections(10);
    options.setCodePointLimit(4 * 1024 * 1024);
    Node root;
    try {
      root = new Yaml(options).compose(new java.io.StringReader(text));
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      throw new PolicyException(
          List.of(
              new PolicyException.Problem(
                  file,
                  mark == null ? 1 : mark.getLine() + 1,
                  mark == null ? 1 : mark.getColumn() + 1,
                  "not valid YAML: " + e.getProblem())));
    } catch (RuntimeException e) {
      throw new PolicyException(
          List.of(new PolicyException.Problem(file, 1, 1, "not valid YAML: " + e.getMessage())));
    }
    if (root == null) {
      throw new PolicyException(
          List.of(new PolicyException.Problem(file, 1, 1, "the policy file is empty")));
    }
    Map<String, Node> top = mapping(root, "the policy", TOP_KEYS);
    Decision defaultDecision = Decision.DENY;
    if (top.containsKey("default")) {
      defaultDecision =
          oneOf(
                  top.get("default"),
                  "default",
                  Map.of("allow", Decision.ALLOW, "deny", Decision.DENY))
              .orElse(Decision.DENY);
    } else {
      problem(
          root, "the policy must say its default decision: `default: deny` or `default: allow`");
    }
    List<Rule> rules = new ArrayList<>();
    if (top.containsKey("rules")) {
      Map<String, Node> seenIds = new HashMap<>();
      Map<Conditions, Rule> seenConditions = new HashMap<>();
      for (Node ruleNode : sequence(top.get("rules"), "rules")) {
        Optional<Rule> rule = rule(ruleNode);
        if (rule.isEmpty()) {
          continue;
        }
        Rule r = rule.get();
        if (seenIds.containsKey(r.id())) {
          problem(ruleNode, "rule id '" + r.id() + "' is used twice");
        }
        seenIds.put(r.id(), ruleNode);
        Rule twin = seenConditions.get(r.when());
        if (twin != null && twin.decision() != r.decision()) {
          problem(
              ruleNode,
              "rule '"
                  + r.id()
                  + "' contradicts rule '"
                  + twin.id()
                  + "': same conditions, but "
                  + r.decision().policyName()
                  + " instead of "
                  + twin.decision().policyName());
        }
        seenConditions.putIfAbsent(r.when(), r);
        rules.add(r);
      }
    }
    MaskingPolicy masking =
        top.containsKey("masking") ? masking(top.get("masking")) : MaskingPolicy.NONE;
    if (!problems.isEmpty()) {
      throw new PolicyException(problems);
    }
    return new Policy(version(text), text, defaultDecision, rules, masking);
  }

  private Optional<Rule> rule(Node node) {
    int before = problems.size();
    if (!(node instanceof MappingNode)) {
      problem(node, "a rule must be a mapping of keys to values");
      return Optional.empty();
    }
    Map<String, Node> rule = mapping(node, "a rule", RULE_KEYS);
    String id = rule.containsKey("id") ? scalar(rule.get("id"), "id").orElse("") : "";
    if (!rule.containsKey("id")) {
      problem(node, "a rule needs an id");
    } else if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,99}")) {
      problem(rule.get("id"), "a rule id is letters, digits, '.', '_' and '-', at most 100");
    }
    Optional<Decision> decision = Optional.empty();
    if (rule.containsKey("decision")) {
      decision =
          oneOf(
              rule.get("decision"),
              "decision",
              Map.of("allow", Decision.ALLOW, "deny", Decision.DENY, "review", Decision.REVIEW));
    } else {
      problem(node, "rule '" + id + "' needs a decision: allow, deny or review");
    }
    Conditions when = rule.containsKey("when") ? conditions(rule.get("when")) : conditions(null);
    Optional<String> reason =
        rule.containsKey("reason") ? scalar(rule.get("reason"), "reason") : Optional.empty();
    OptionalLong maxRows = OptionalLong.empty();
    if (rule.containsKey("max-rows")) {
      OptionalInt value = positiveInt(rule.get("max-rows"), "max-rows");
      maxRows = value.isPresent() ? OptionalLong.of(value.getAsInt()) : OptionalLong.empty();
    }
    Optional<ApprovalTerms> approval =
        rule.containsKey("approval") ? approval(rule.get("approval")) : Optional.empty();
    if (decision.isPresent()) {
      Decision d = decision.get();
      if (d == Decision.REVIEW && !rule.containsKey("approval")) {
        problem(node, "rule '" + id + "' is a review rule and needs an approval section");
      }
      if (d != Decision.REVIEW && rule.containsKey("approval")) {
        problem(rule.get("approval"), "approval applies only to review rules");
      }
      if (d != Decision.ALLOW && rule.containsKey("max-rows")) {
        problem(rule.get("max-rows"), "max-rows applies only to allow rules");
      }
      if (d == Decision.ALLOW && rule.containsKey("reason")) {
        problem(rule.get("reason"), "reason applies only to deny and review rules");
      }
      if (d == Decision.ALLOW && (!when.signals().isEmpty() || when.longerThan().isPresent())) {
        problem(
            rule.get("when"),
            "signals and longer-than can only make a rule stricter: use them in deny or review"
                + " rules");
      }
    }
    if (problems.size() > before || decision.isEmpty()) {
      return Optional.empty();
    }
    String description =
        rule.containsKey("description")
            ? scalar(rule.get("description"), "description").orElse("")
            : "";
    return Optional.of(new Rule(id, description, when, decision.get(), reason, maxRows, approval));
  }

  private Conditions conditions(Node node) {
    Map<String, Node> when = node == null ? Map.of() : mapping(node, "when", WHEN_KEYS);
    return new Conditions(
        strings(when.get("subjects"), "subjects", Function.identity()),
        strings(when.get("issuers"), "issuers", Function.identity()),
        strings(when.get("groups"), "groups", Function.identity()),
        when.containsKey("agent") ? bool(when.get("agent"), "agent") : Optional.empty(),
        strings(when.get("targets"), "targets", Function.identity()),
        new ArrayList<>(
            strings(when.get("client-addresses"), "client-addresses", AddressRange::parse)),
        strings(when.get("application-names"), "application-names", Function.identity()),
        when.containsKey("time") ? time(when.get("time")) : Optional.empty(),
        enums(when.get("kinds"), "kinds", StatementKind.values(), StatementKind::policyName),
        strings(when.get("tables"), "tables", PolicyParser::relationName),
        strings(when.get("tables-written"), "tables-written", PolicyParser::relationName),
        strings(when.get("columns"), "columns", PolicyParser::name),
        strings(when.get("functions"), "functions", PolicyParser::relationName),
        strings(when.get("settings"), "settings", s -> s.toLowerCase(Locale.ROOT)),
        enums(when.get("signals"), "signals", RiskSignal.values(), RiskSignal::policyName),
        when.containsKey("longer-than")
            ? positiveInt(when.get("longer-than"), "longer-than")
            : OptionalInt.empty());
  }

  private MaskingPolicy masking(Node node) {
    Map<String, Node> masking = mapping(node, "masking", MASKING_KEYS);
    Set<String> ids = new HashSet<>();
    List<ColumnRule> columns = new ArrayList<>();
    if (masking.containsKey("columns")) {
      for (Node ruleNode : sequence(masking.get("columns"), "masking.columns")) {
        columnRule(ruleNode, ids).ifPresent(columns::add);
      }
    }
    List<DetectorRule> detectors = new ArrayList<>();
    if (masking.containsKey("detectors")) {
      for (Node ruleNode : sequence(masking.get("detectors"), "masking.detectors")) {
        detector(ruleNode, ids).ifPresent(detectors::add);
      }
    }
    return new MaskingPolicy(columns, detectors);
  }

  private Optional<ColumnRule> columnRule(Node node, Set<String> ids) {
    int before = problems.size();
    Map<String, Node> rule = mapping(node, "a masking column rule", COLUMN_RULE_KEYS);
    String id = maskingId(node, rule, ids);
    Set<ColumnRef> columns = strings(rule.get("columns"), "columns", PolicyParser::columnRef);
    if (columns.isEmpty()) {
      problem(node, "masking rule '" + id + "' needs columns: schema.table.column or table.column");
    }
    Optional<MaskStrategy> strategy = strategy(node, rule);
    boolean maskUnknown =
        !rule.containsKey("unknown-lineage")
            || oneOf(
                    rule.get("unknown-lineage"),
                    "unknown-lineage",
                    Map.of("mask", true, "clear", false))
                .orElse(true);
    if (problems.size() > before || strategy.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new ColumnRule(
            id,
            new ArrayList<>(columns),
            strategy.get(),
            strings(rule.get("exempt-groups"), "exempt-groups", Function.identity()),
            maskUnknown,
            strings(rule.get("deny-predicates-for"), "deny-predicates-for", Function.identity())));
  }

  private Optional<DetectorRule> detector(Node node, Set<String> ids) {
    int before = problems.size();
    Map<String, Node> rule = mapping(node, "a masking detector", DETECTOR_KEYS);
    String id = maskingId(node, rule, ids);
    Optional<DetectorKind> kind = Optional.empty();
    if (rule.containsKey("kind")) {
      Map<String, DetectorKind> kinds = new HashMap<>();
      for (DetectorKind k : DetectorKind.values()) {
        kinds.put(k.policyName(), k);
      }
      kind = oneOf(rule.get("kind"), "kind", kinds);
    } else {
      problem(node, "detector '" + id + "' needs a kind: card, ssn, iban, email, phone or pattern");
    }
    Optional<Pattern> pattern = Optional.empty();
    if (rule.containsKey("pattern")) {
      Optional<String> text = scalar(rule.get("pattern"), "pattern");
      try {
        pattern = text.map(Pattern::compile);
      } catch (PatternSyntaxException e) {
        problem(
            rule.get("pattern"),
            "pattern is not a valid regular expression: " + e.getDescription());
      }
    }
    if (kind.isPresent() && (kind.get() == DetectorKind.PATTERN) != rule.containsKey("pattern")) {
      problem(node, "detector '" + id + "': a pattern is needed by, and only by, kind: pattern");
    }
    Optional<MaskStrategy> strategy = strategy(node, rule);
    if (problems.size() > before || kind.isEmpty() || strategy.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new DetectorRule(
            id,
            kind.get(),
            pattern,
            strategy.get(),
            strings(rule.get("exempt-groups"), "exempt-groups", Function.identity())));
  }

  private String maskingId(Node node, Map<String, Node> rule, Set<String> ids) {
    String id = rule.containsKey("id") ? scalar(rule.get("id"), "id").orElse("") : "";
    if (!rule.containsKey("id")) {
      problem(node, "a masking rule needs an id");
    } else if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,99}")) {
      problem(
          rule.get("id"), "a masking rule id is letters, digits, '.', '_' and '-', at most 100");
    } else if (!ids.add(id)) {
      problem(rule.get("id"), "masking rule id '" + id + "' is used twice");
    }
    return id;
  }

  private Optional<MaskStrategy> strategy(Node node, Map<String, Node> rule) {
    if (!rule.containsKey("strategy")) {
      problem(node, "a masking rule needs a strategy: redact, partial, hash or null");
      return Optional.empty();
    }
    Optional<String> name =
        oneOf(
            rule.get("strategy"),
            "strategy",
            Map.of("redact", "redact", "partial", "partial", "hash", "hash", "null", "null"));
    if (name.isEmpty()) {
      return Optional.empty();
    }
    if (rule.containsKey("keep") && !name.get().equals("partial")) {
      problem(rule.get("keep"), "keep applies only to strategy: partial");
    }
    if (rule.containsKey("text") && !name.get().equals("redact")) {
      problem(rule.get("text"), "text applies only to strategy: redact");
    }
    switch (name.get()) {
      case "redact":
        String text =
            rule.containsKey("text")
                ? scalar(rule.get("text"), "text").orElse(MaskStrategy.Redact.DEFAULT_TEXT)
                : MaskStrategy.Redact.DEFAULT_TEXT;
        if (!text.matches(MaskStrategy.Redact.ALLOWED_TEXT)) {
          problem(
              rule.get("text"),
              "text is 1 to 64 letters, digits and * # _ . : - (so it stays valid inside JSON,"
                  + " arrays and COPY rows)");
          return Optional.empty();
        }
        return Optional.of(new MaskStrategy.Redact(text));
      case "partial":
        OptionalInt keep =
            rule.containsKey("keep")
                ? positiveInt(rule.get("keep"), "keep")
                : OptionalInt.of(DEFAULT_PARTIAL_KEEP);
        return keep.isPresent()
            ? Optional.of(new MaskStrategy.Partial(keep.getAsInt()))
            : Optional.empty();
      case "hash":
        return Optional.of(new MaskStrategy.Hash());
      default:
        return Optional.of(new MaskStrategy.Nullify());
    }
  }

  private static ColumnRef columnRef(String text) {
    List<String> parts = nameParts(text);
    if (parts.size() < 2) {
      throw new IllegalArgumentException(
          "'" + text + "' must name a column as schema.table.column or table.column");
    }
    return parts.size() == 3
        ? new ColumnRef(Optional.of(parts.get(0)), parts.get(1), parts.get(2))
        : new ColumnRef(Optional.empty(), parts.get(0), parts.get(1));
  }

  private static <T> Set<T> union(Set<T> a, Set<T> b) {
    Set<T> all = new HashSet<>(a);
    all.addAll(b);
    return Set.copyOf(all);
  }

  private Optional<TimeWindow> time(Node node) {
    Map<String, Node> time = mapping(node, "time", TIME_KEYS);
    for (String key : TIME_KEYS) {
      if (!time.containsKey(key)) {
        problem(node, "time needs days, from, to and zone");
        return Optional.empty();
      }
    }
    int before = problems.size();
    Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
    Node daysNode = time.get("days");
    for (Node day : daysNode instanceof SequenceNode list ? list.getValue() : List.of(daysNode)) {
      Optional<String> text = scalar(day, "each entry of days");
      Optional<Set<DayOfWeek>> parsed = text.flatMap(PolicyParser::days);
      if (text.isPresent() && parsed.isEmpty()) {
        problem(day, "unknown day '" + text.get() + "'; use mon, tue, … or ranges like mon-fri");
      } else if (parsed.isPresent()) {
        days.addAll(parsed.get());
      }
    }
    Optional<LocalTime> from = timeOfDay(time.get("from"), "from");
    Optional<LocalTime> to = timeOfDay(time.get("to"), "to");
    Optional<ZoneId> zone = Optional.empty();
    Optional<String> zoneName = scalar(time.get("zone"), "zone");
    try {
      zone = zoneName.map(ZoneId::of);
    } catch (DateTimeException e) {
      problem(time.get("zone"), "unknown time zone; use a region such as Europe/London");
    }
    if (problems.size() > before || from.isEmpty() || to.isEmpty() || zone.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new TimeWindow(days, from.get(), to.get(), zone.get()));
  }

  private Optional<LocalTime> timeOfDay(Node node, String what) {
    Optional<String> text = scalar(node, what);
    try {
      return text.map(LocalTime::parse);
    } catch (DateTimeParseException e) {
      problem(node, what + " must be a time of day such as 08:00 or 17:30");
      return Optional.empty();
    }
  }

  private static Optional<Set<DayOfWeek>> days(String text) {
    String[] range = text.toLowerCase(Locale.ROOT).split("-", 2);
    Optional<DayOfWeek> first = day(range[0]);
    Optional<DayOfWeek> last = range.length == 2 ? day(range[1]) : first;
    if (first.isEmpty() || last.isEmpty()) {
      return Optional.empty();
    }
    Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
    for (DayOfWeek d = first.get(); ; d = d.plus(1)) {
      days.add(d);
      if (d == last.get()) {
        return Optional.of(days);
      }
    }
  }

  private static Optional<DayOfWeek> day(String text) {
    return Arrays.stream(DayOfWeek.values())
        .filter(d -> d.name().toLowerCase(Locale.ROOT).startsWith(text) && text.length() >= 3)
        .findFirst();
  }

  private Optional<ApprovalTerms> approval(Node node) {
    Map<String, Node> approval = mapping(node, "approval", APPROVAL_KEYS);
    ApprovalTerms.Mode mode =
        approval.containsKey("mode")
            ? oneOf(
                    approval.get("mode"),
                    "mode",
                    Map.of("wait", ApprovalTerms.Mode.WAIT, "retry", ApprovalTerms.Mode.RETRY))
                .orElse(ApprovalTerms.Mode.WAIT)
            : ApprovalTerms.Mode.WAIT;
    Duration timeout =
        approval.containsKey("timeout")
            ? duration(approval.get("timeout"), "timeout").orElse(Duration.ofMinutes(10))
            : Duration.ofMinutes(10);
    Set<String> approvers = strings(approval.get("approvers"), "approvers", Function.identity());
    if (approvers.isEmpty()) {
      problem(node, "approval needs approvers: the groups whose members may approve");
    }
    int required =
        approval.containsKey("required")
            ? positiveInt(approval.get("required"), "required").orElse(1)
            : 1;
    Optional<Duration> grant =
        approval.containsKey("grant") ? duration(approval.get("grant"), "grant") : Optional.empty();
    return Optional.of(new ApprovalTerms(mode, timeout, approvers, required, grant));
  }

  // ---------------------------------------------------------------- node helpers

  private Map<String, Node> mapping(Node node, String what, Set<String> allowed) {
    if (!(node instanceof MappingNode mapping)) {
      problem(node, what + " must be a mapping of keys to values");
      return Map.of();
    }
    Map<String, Node> entries = new LinkedHashMap<>();
    for (NodeTuple tuple : mapping.getValue()) {
      Node keyNode = tuple.getKeyNode();
      String key = keyNode instanceof ScalarNode scalar ? scalar.getValue() : "";
      if (entries.containsKey(key)) {
        problem(keyNode, "duplicate key '" + key + "' in " + what);
        continue;
      }
      if (!allowed.contains(key)) {
        problem(
            keyNode,
            "unknown key '"
                + key
                + "' in "
                + what
                + "; expected one of: "
                + allowed.stream().sorted().collect(Collectors.joining(", ")));
        continue;
      }
      entries.put(key, tuple.getValueNode());
    }
    return entries;
  }

  private List<Node> sequence(Node node, String what) {
    if (!(node instanceof SequenceNode sequence)) {
      problem(node, what + " must be a list");
      return List.of();
    }
    return sequence.getValue();
  }

  private Optional<String> scalar(Node node, String what) {
    if (!(node instanceof ScalarNode scalar)) {
      problem(node, what + " must be a single value, not a list or mapping");
      return Optional.empty();
    }
    return Optional.of(scalar.getValue());
  }

  private <T> Set<T> strings(Node node, String what, Function<String, T> convert) {
    if (node == null) {
      return Set.of();
    }
    List<Node> items = node instanceof SequenceNode sequence ? sequence.getValue() : List.of(node);
    Set<T> values = new LinkedHashSet<>();
    for (Node item : items) {
      Optional<String> text = scalar(item, "each entry of " + what);
      if (text.isEmpty()) {
        continue;
      }
      if (text.get().isBlank()) {
        problem(item, what + " must not contain an empty entry");
        continue;
      }
      try {
        values.add(convert.apply(text.get()));
      } catch (IllegalArgumentException e) {
        problem(item, what + ": " + e.getMessage());
      }
    }
    return values;
  }

  private <E extends Enum<E>> Set<E> enums(
      Node node, String what, E[] values, Function<E, String> name) {
    Map<String, E> byName = new LinkedHashMap<>();
    for (E value : values) {
      byName.put(name.apply(value), value);
    }
    return strings(
        node,
        what,
        text -> {
          E value = byName.get(text.toLowerCase(Locale.ROOT));
          if (value == null) {
            throw new IllegalArgumentException(
                "unknown value '"
                    + text
                    + "'; expected one of: "
                    + String.join(", ", byName.keySet()));
          }
          return value;
        });
  }

  private <T> Optional<T> oneOf(Node node, String what, Map<String, T> choices) {
    Optional<String> text = scalar(node, what);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    T value = choices.get(text.get().toLowerCase(Locale.ROOT));
    if (value == null) {
      problem(
          node,
          what
              + " must be one of: "
              + choices.keySet().stream().sorted().collect(Collectors.joining(", "))
              + " (not '"
              + text.get()
              + "')");
    }
    return Optional.ofNullable(value);
  }

  private Optional<Boolean> bool(Node node, String what) {
    return oneOf(node, what, Map.of("true", true, "false", false));
  }

  private OptionalInt positiveInt(Node node, String what) {
    Optional<String> text = scalar(node, what);
    try {
      int value = Integer.parseInt(text.orElse(""));
      if (value > 0) {
        return OptionalInt.of(value);
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    if (text.isPresent()) {
      problem(node, what + " must be a whole number above zero");
    }
    return OptionalInt.empty();
  }

  private Optional<Duration> duration(Node node, String what) {
    Optional<String> text = scalar(node, what);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(\\d{1,6})\\s*(s|m|h|d)").matcher(text.get().strip());
    if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
      problem(node, what + " must be a duration such as 30s, 10m, 2h or 1d");
      return Optional.empty();
    }
    long amount = Long.parseLong(m.group(1));
    return Optional.of(
        switch (m.group(2)) {
          case "s" -> Duration.ofSeconds(amount);
          case "m" -> Duration.ofMinutes(amount);
          case "h" -> Duration.ofHours(amount);
          default -> Duration.ofDays(amount);
        });
  }

  /**
   * A table, column or function name as policy compares it: unquoted parts folded to lower case as
   * PostgreSQL folds unquoted identifiers, {@code "Quoted"} parts kept as written.
   */
  /**
   * A table or function name as statements are analysed: {@code schema.name}, a database prefix
   * dropped (PostgreSQL only accepts the current database there).
   */
  static String relationName(String text) {
    List<String> parts = nameParts(text);
    return String.join(".", parts.subList(Math.max(0, parts.size() - 2), parts.size()));
  }

  static String name(String text) {
    return String.join(".", nameParts(text));
  }

  private static List<String> nameParts(String text) {
    List<String> parts = new ArrayList<>();
    String rest = text.strip();
    while (true) {
      String part;
      if (rest.startsWith("\"")) {
        StringBuilder quoted = new StringBuilder();
        int i = 1;
        while (true) {
          int quote = rest.indexOf('"', i);
          if (quote < 0) {
            throw new IllegalArgumentException("'" + text + "' has an unterminated quote");
          }
          quoted.append(rest, i, quote);
          if (quote + 1 < rest.length() && rest.charAt(quote + 1) == '"') {
            quoted.append('"');
            i = quote + 2;
          } else {
            rest = rest.substring(quote + 1);
            break;
          }
        }
        part = quoted.toString();
      } else {
        int dot = rest.indexOf('.');
        part = SqlLexer.downcase(dot < 0 ? rest : rest.substring(0, dot));
        rest = dot < 0 ? "" : rest.substring(dot);
      }
      if (part.isEmpty()) {
        throw new IllegalArgumentException("'" + text + "' is not a name");
      }
      parts.add(SqlLexer.truncate(part));
      if (rest.isEmpty()) {
        break;
      }
      if (!rest.startsWith(".") || rest.length() == 1) {
        throw new IllegalArgumentException("'" + text + "' is not a name");
      }
      rest = rest.substring(1);
    }
    if (parts.size() > 3) {
      throw new IllegalArgumentException("'" + text + "' has more than three parts");
    }
    return parts;
  }

  private void problem(Node node, String message) {
    Mark mark = node == null ? null : node.getStartMark();
    problems.add(
        new PolicyException.Problem(
            file,
            mark == null ? 1 : mark.getLine() + 1,
            mark == null ? 1 : mark.getColumn() + 1,
            message));
  }

  private static String version(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return "sha256:" + java.util.HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}
