package io.portcullis.node.masking;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tells which base-table columns each output column of a statement is computed from, by reading the
 * plan PostgreSQL prints for {@code EXPLAIN (VERBOSE, FORMAT JSON)}: every plan node lists its
 * output expressions deparsed, and every scan names the relation behind its alias.
 *
 * <p>The lineage errs towards too much: where the plan does not show which output of a sub-query,
 * CTE or set operation a reference reads, it takes all of them; anything it cannot trace makes the
 * column {@linkplain ColumnLineage#complete() incomplete}. Functions are opaque: a value returned
 * by a user-defined function that reads tables itself is traced to the function's arguments only.
 */
public final class PlanLineage {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String EXPLAIN = "EXPLAIN (VERBOSE, FORMAT JSON) ";
  private static final String STATEMENT = "portcullis_lineage";

  /**
   * Nodes whose output PostgreSQL does not print: theirs is their members', position by position.
   */
  private static final Set<String> SET_NODES = Set.of("Append", "Merge Append", "Recursive Union");

  private static final Pattern INIT_PLAN = Pattern.compile("InitPlan (\\d+) \\(returns (.*)\\)");
  private static final Pattern PARAMETER = Pattern.compile("\\$(\\d+)");

  /** Row-identity columns a ModifyTable's input carries besides the new values. */
  private static final Pattern ROW_IDENTITY =
      Pattern.compile("(?:(?:\"(?:[^\"]|\"\")*\"|[a-z_][a-z0-9_$]*)\\.)?(?:ctid|tableoid)");

  /**
   * Lower-case words PostgreSQL prints that are not identifiers: boolean constants, and the "or" of
   * "(alternatives: SubPlan 1 or hashed SubPlan 2)". Being reserved, as names they are quoted.
   */
  private static final Set<String> LOWER_CASE_KEYWORDS = Set.of("true", "false", "or");

  /** Words that continue a type name after {@code ::}, as {@code format_type} prints them. */
  private static final Set<String> TYPE_WORDS =
      Set.of(
          "varying",
          "precision",
          "with",
          "without",
          "time",
          "zone",
          "year",
          "month",
          "day",
          "hour",
          "minute",
          "second",
          "to");

  private PlanLineage() {}

  /**
   * The lineage of each entry of the top plan node's output list, in order. For {@code INSERT},
   * {@code UPDATE} and {@code DELETE} with {@code RETURNING} that is the returning list. Columns
   * the planner adds for sorting or row locking come after the statement's result columns, so the
   * caller takes as many entries as the statement has result columns.
   *
   * <p>A statement a rule rewrote to nothing has no plan and no columns. One that rules rewrote
   * into several is traced through the first plan that returns rows, and marked incomplete.
   *
   * @param explainJson the text PostgreSQL returns for {@code EXPLAIN (VERBOSE, FORMAT JSON)}
   * @throws IllegalArgumentException if the text is not EXPLAIN JSON output at all
   */
  public static List<ColumnLineage> fromPlan(String explainJson) {
    JsonNode root;
    try {
      root = JSON.readTree(explainJson);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "not EXPLAIN (FORMAT JSON) output: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isArray()) {
      throw notExplain();
    }
    List<JsonNode> plans = new ArrayList<>();
    for (JsonNode query : root) {
      if (!query.path("Plan").isObject()) {
        throw notExplain();
      }
      plans.add(query.get("Plan"));
    }
    if (plans.isEmpty()) {
      return List.of();
    }
    if (plans.size() == 1) {
      Node top = Node.read(plans.get(0), null);
      return new Resolver(top).outputs(top);
    }
    // Rules rewrote the statement into several; the one that returns rows is likely, not certain.
    JsonNode returning =
        plans.stream()
            .filter(plan -> !plan.path("Output").isEmpty())
            .findFirst()
            .orElse(plans.get(0));
    Node top = Node.read(returning, null);
    return new Resolver(top)
        .outputs(top).stream().map(column -> Lineage.of(column).incomplete().build()).toList();
  }

  private static IllegalArgumentException notExplain() {
    return new IllegalArgumentException(
        "not EXPLAIN (FORMAT JSON) output: expected an array of objects with a \"Plan\"");
  }

  /**
   * Plans {@code sql} on {@code connection} with {@code EXPLAIN}, which does not execute it, and
   * returns {@link #fromPlan} of the plan. A statement with bind parameters {@code $1..$n} is
   * prepared as {@code portcullis_lineage} and its generic plan explained, so that no parameter
   * value folds away a branch of an expression; the prepared statement is deallocated and {@code
   * plan_cache_mode} restored afterwards.
   *
   * @param sql exactly one statement, as the client sent it: several separated by semicolons would
   *     all be run
   * @param parameterCount how many bind parameters the statement has
   */
  public static List<ColumnLineage> explain(Connection connection, String sql, int parameterCount)
      throws SQLException {
    if (parameterCount < 0) {
      throw new IllegalArgumentException("negative parameter count: " + parameterCount);
    }
    try (Statement statement = connection.createStatement()) {
      statement.setEscapeProcessing(false);
      if (parameterCount == 0) {
        return fromPlan(text(statement, EXPLAIN + sql));
      }
      String planCacheMode;
      boolean leftOver;
      try (ResultSet row =
          statement.executeQuery(
              "SELECT current_setting('plan_cache_mode'), EXISTS (SELECT FROM"
                  + " pg_prepared_statements WHERE name = '"
                  + STATEMENT
                  + "')")) {
        row.next();
        planCacheMode = row.getString(1);
        leftOver = row.getBoolean(2);
      }
      if (leftOver) {
        // Left by a call whose transaction failed before it could deallocate.
        statement.execute("DEALLOCATE " + STATEMENT);
      }
      statement.execute("SET plan_cache_mode = force_generic_plan");
      return runThen(
          () -> {
            statement.execute("PREPARE " + STATEMENT + " AS " + sql);
            String nulls = String.join(", ", Collections.nCopies(parameterCount, "NULL"));
            return runThen(
                () ->
                    fromPlan(text(statement, EXPLAIN + "EXECUTE " + STATEMENT + "(" + nulls + ")")),
                () -> statement.execute("DEALLOCATE " + STATEMENT));
          },
          () ->
              statement.execute(
                  "SET plan_cache_mode = '" + planCacheMode.replace("'", "''") + "'"));
    }
  }

  private static String text(Statement statement, String query) throws SQLException {
    try (ResultSet rows = statement.executeQuery(query)) {
      if (!rows.next()) {
        throw new SQLException("EXPLAIN returned no plan");
      }
      return rows.getString(1);
    }
  }

  private interface SqlCall<T> {
    T call() throws SQLException;
  }

  private interface SqlAction {
    void run() throws SQLException;
  }

  /**
   * Runs {@code body}, then {@code cleanup} whatever happened; a failing cleanup (in a transaction
   * the body aborted, it always fails) does not hide the body's own failure.
   */
  private static <T> T runThen(SqlCall<T> body, SqlAction cleanup) throws SQLException {
    T result;
    try {
      result = body.call();
    } catch (SQLException | RuntimeException failure) {
      try {
        cleanup.run();
      } catch (SQLException suppressed) {
        failure.addSuppressed(suppressed);
      }
      throw failure;
    }
    cleanup.run();
    return result;
  }

  /** One node of the plan tree, with its parent, as PostgreSQL printed it. */
  private static final class Node {
    final JsonNode json;
    final Node parent;
    final List<Node> children = new ArrayList<>();

    private Node(JsonNode json, Node parent) {
      this.json = json;
      this.parent = parent;
    }

    static Node read(JsonNode json, Node parent) {
      Node node = new Node(json, parent);
      for (JsonNode child : json.path("Plans")) {
        if (child.isObject()) {
          node.children.add(read(child, node));
        }
      }
      return node;
    }

    String field(String name) {
      JsonNode value = json.get(name);
      return value != null && value.isTextual() ? value.asText() : null;
    }

    String type() {
      return String.valueOf(field("Node Type"));
    }

    /** Whether this is an init-plan, sub-plan or CTE, referred to by name rather than as input. */
    boolean isSubplan() {
      String relationship = field("Parent Relationship");
      return "InitPlan".equals(relationship) || "SubPlan".equals(relationship);
    }

    boolean isBaseRelation() {
      return field("Relation Name") != null && field("Schema") != null;
    }

    /** The output expressions, null for an entry that is not text; empty when none is printed. */
    List<String> output() {
      List<String> output = new ArrayList<>();
      for (JsonNode entry : json.path("Output")) {
        output.add(entry.isTextual() ? entry.asText() : null);
      }
      return output;
    }

    List<Node> inputs() {
      return children.stream().filter(child -> !child.isSubplan()).toList();
    }

    void collect(List<Node> into) {
      into.add(this);
      children.forEach(child -> child.collect(into));
    }
  }

  /** A lineage being accumulated. */
  private static final class Lineage {
    private final Set<SourceColumn> columns = new LinkedHashSet<>();
    private final Set<SourceTable> wholeRows = new LinkedHashSet<>();
    private boolean complete = true;

    static Lineage of(ColumnLineage lineage) {
      return new Lineage().add(lineage);
    }

    static ColumnLineage union(Collection<ColumnLineage> all) {
      Lineage union = new Lineage();
      all.forEach(union::add);
      return union.build();
    }

    Lineage add(ColumnLineage lineage) {
      columns.addAll(lineage.columns());
      wholeRows.addAll(lineage.wholeRows());
      complete &= lineage.complete();
      return this;
    }

    Lineage incomplete() {
      complete = false;
      return this;
    }

    ColumnLineage build() {
      return new ColumnLineage(columns, wholeRows, complete);
    }
  }

  /** A position in an init-plan's output, which a {@code $n} parameter carries. */
  private record InitPlanOutput(Node plan, int index) {}

  /** Resolves the outputs of the nodes of one plan tree, each at most once. */
  private static final class Resolver {
    private final Map<String, List<Node>> aliases = new HashMap<>();
    private final Map<String, Node> subplans = new HashMap<>();
    private final Map<String, InitPlanOutput> initPlanParameters = new HashMap<>();

    /** The alias unqualified names refer to, when the plan has only one: then none is printed. */
    private final String onlyAlias;

    private final Map<Node, List<ColumnLineage>> outputs = new IdentityHashMap<>();
    private final Map<Node, Map<String, ColumnLineage>> inputTexts = new IdentityHashMap<>();
    private final Set<Node> resolving = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<Node> expanding = Collections.newSetFromMap(new IdentityHashMap<>());

    /** For each recursive union being resolved, what its work table holds so far. */
    private final Map<Node, ColumnLineage> workTables = new IdentityHashMap<>();

    Resolver(Node top) {
      List<Node> all = new ArrayList<>();
      top.collect(all);
      for (Node node : all) {
        String alias = node.field("Alias");
        if (alias != null) {
          aliases.computeIfAbsent(alias, key -> new ArrayList<>()).add(node);
        }
        String name = node.field("Subplan Name");
        if (name != null && node.isSubplan()) {
          Matcher initPlan = INIT_PLAN.matcher(name);
          if (initPlan.matches()) {
            subplans.put("InitPlan " + initPlan.group(1), node);
            Matcher parameter = PARAMETER.matcher(initPlan.group(2));
            for (int index = 0; parameter.find(); index++) {
              initPlanParameters.put(parameter.group(), new InitPlanOutput(node, index));
            }
          } else {
            subplans.put(name, node);
          }
        }
      }
      onlyAlias = aliases.size() == 1 ? aliases.keySet().iterator().next() : null;
    }

    /** The lineage of each output of {@code node}. */
    List<ColumnLineage> outputs(Node node) {
      List<ColumnLineage> known = outputs.get(node);
      if (known != null) {
        return known;
      }
      if (!resolving.add(node)) {
        return List.of(ColumnLineage.UNKNOWN);
      }
      try {
        List<ColumnLineage> resolved;
        if (node.type().equals("Recursive Union")) {
          resolved = recursiveUnion(node);
        } else if (SET_NODES.contains(node.type())) {
          resolved = memberwise(node);
        } else {
          resolved = new ArrayList<>();
          for (String expression : node.output()) {
            resolved.add(
                expression == null || expression.isBlank()
                    ? ColumnLineage.UNKNOWN
                    : expression(node, expression));
          }
          if (node.type().equals("ModifyTable")) {
            resolved = withNewValues(node, resolved);
          }
        }
        outputs.put(node, resolved);
        return resolved;
      } finally {
        resolving.remove(node);
      }
    }

    /** The output expressions {@code node}'s parent sees: for a set node, its first member's. */
    private List<String> texts(Node node) {
      if (SET_NODES.contains(node.type())) {
        List<Node> members = node.inputs();
        return members.isEmpty() ? List.of() : texts(members.get(0));
      }
      return node.output();
    }

    private static ColumnLineage at(List<ColumnLineage> lineage, int index) {
      return index >= 0 && index < lineage.size() ? lineage.get(index) : ColumnLineage.UNKNOWN;
    }

    private List<ColumnLineage> memberwise(Node node) {
      List<List<ColumnLineage>> members = node.inputs().stream().map(this::outputs).toList();
      int width = members.stream().mapToInt(List::size).max().orElse(0);
      List<ColumnLineage> result = new ArrayList<>();
      for (int index = 0; index < width; index++) {
        Lineage column = new Lineage();
        for (List<ColumnLineage> member : members) {
          column.add(at(member, index));
        }
        result.add(column.build());
      }
      return result;
    }

    /**
     * A recursive union's output feeds its own work table: resolved again with what the work table
     * was found to hold until that no longer grows.
     */
    private List<ColumnLineage> recursiveUnion(Node node) {
      List<Node> below = new ArrayList<>();
      node.children.forEach(child -> child.collect(below));
      ColumnLineage workTable = new ColumnLineage(Set.of(), Set.of(), true);
      // Each round adds at least one of the finitely many columns named in the subtree, or stops.
      for (int round = 0; round < 100; round++) {
        workTables.put(node, workTable);
        below.forEach(
            descendant -> {
              outputs.remove(descendant);
              inputTexts.remove(descendant);
            });
        List<ColumnLineage> result = memberwise(node);
        ColumnLineage grown = Lineage.of(workTable).add(Lineage.union(result)).build();
        if (grown.equals(workTable)) {
          return result;
        }
        workTable = grown;
      }
      return Collections.nCopies(memberwise(node).size(), ColumnLineage.UNKNOWN);
    }

    /**
     * For INSERT and UPDATE, a returned column of the target holds a new value, computed by the
     * input plan; which input output feeds which column the plan does not say, so all of them.
     */
    private List<ColumnLineage> withNewValues(Node node, List<ColumnLineage> returning) {
      String operation = node.field("Operation");
      if (!node.isBaseRelation() || !("Insert".equals(operation) || "Update".equals(operation))) {
        return returning;
      }
      SourceTable target = new SourceTable(node.field("Schema"), node.field("Relation Name"));
      Lineage newValues = new Lineage();
      for (Node input : node.inputs()) {
        List<String> texts = texts(input);
        List<ColumnLineage> lineage = outputs(input);
        for (int index = 0; index < texts.size(); index++) {
          String text = texts.get(index);
          if (text == null || !ROW_IDENTITY.matcher(text).matches()) {
            newValues.add(at(lineage, index));
          }
        }
      }
      // ON CONFLICT DO UPDATE's SET list is not printed at all.
      if ("UPDATE".equals(node.field("Conflict Resolution"))) {
        newValues.incomplete();
      }
      ColumnLineage added = newValues.build();
      return returning.stream()
          .map(column -> reads(column, target) ? Lineage.of(column).add(added).build() : column)
          .toList();
    }

    private static boolean reads(ColumnLineage lineage, SourceTable table) {
      return lineage.wholeRows().contains(table)
          || lineage.columns().stream()
              .anyMatch(
                  column ->
                      column.schema().equals(table.schema())
                          && column.table().equals(table.table()));
    }

    /**
     * The outputs of {@code node}'s inputs by the text its own expressions use for them, longest
     * first so that a longer expression wins over one it starts with.
     */
    private Map<String, ColumnLineage> inputTexts(Node node) {
      Map<String, ColumnLineage> known = inputTexts.get(node);
      if (known != null) {
        return known;
      }
      Map<String, ColumnLineage> texts = new HashMap<>();
      for (Node input : node.inputs()) {
        List<String> expressions = texts(input);
        List<ColumnLineage> lineage = outputs(input);
        for (int index = 0; index < expressions.size(); index++) {
          if (expressions.get(index) != null && !expressions.get(index).isEmpty()) {
            texts.merge(
                expressions.get(index), at(lineage, index), (a, b) -> Lineage.of(a).add(b).build());
          }
        }
      }
      Map<String, ColumnLineage> longestFirst = new LinkedHashMap<>();
      texts.entrySet().stream()
          .sorted((a, b) -> b.getKey().length() - a.getKey().length())
          .forEach(entry -> longestFirst.put(entry.getKey(), entry.getValue()));
      inputTexts.put(node, longestFirst);
      return longestFirst;
    }

    /** The lineage of an expression PostgreSQL deparsed in the context of {@code node}. */
    ColumnLineage expression(Node node, String text) {
      return new Scanner(node, text, false).scan();
    }

    /**
     * The lineage of {@code alias.column} ({@code column} {@code *} for the whole row), where the
     * alias is named by the scan that reads it.
     */
    ColumnLineage reference(String alias, String column) {
      List<Node> scans = aliases.get(alias);
      if (scans == null) {
        return appendChildren(alias, column);
      }
      Lineage lineage = new Lineage();
      for (Node scan : scans) {
        lineage.add(scanned(scan, column));
      }
      return lineage.build();
    }

    /**
     * Above the scans of a partitioned or inheritance parent {@code p}, PostgreSQL names the
     * parent, which no node does; its children are {@code p_1}, {@code p_2}, ... Unrelated aliases
     * of that shape are taken too, which can only add.
     */
    private ColumnLineage appendChildren(String alias, String column) {
      Pattern child = Pattern.compile(Pattern.quote(alias) + "_\\d+");
      List<ColumnLineage> found = new ArrayList<>();
      aliases.forEach(
          (name, scans) -> {
            if (child.matcher(name).matches()) {
              scans.forEach(scan -> found.add(scanned(scan, column)));
            }
          });
      return found.isEmpty() ? ColumnLineage.UNKNOWN : Lineage.union(found);
    }

    private ColumnLineage scanned(Node scan, String column) {
      if (scan.isBaseRelation()) {
        String schema = scan.field("Schema");
        String table = scan.field("Relation Name");
        return column.equals("*")
            ? new ColumnLineage(Set.of(), Set.of(new SourceTable(schema, table)), true)
            : new ColumnLineage(Set.of(new SourceColumn(schema, table, column)), Set.of(), true);
      }
      if (!expanding.add(scan)) {
        return ColumnLineage.UNKNOWN;
      }
      try {
        return switch (scan.type()) {
          case "Subquery Scan" -> allOutputs(scan.inputs());
          case "CTE Scan" -> allOutputs(cte(scan));
          case "WorkTable Scan" -> workTable(scan);
          case "Function Scan" -> call(scan, "Function Call");
          case "Table Function Scan" -> call(scan, "Table Function Call");
          case "Values Scan" -> values(scan);
          default -> ColumnLineage.UNKNOWN;
        };
      } finally {
        expanding.remove(scan);
      }
    }

    private ColumnLineage allOutputs(List<Node> plans) {
      if (plans.isEmpty()) {
        return ColumnLineage.UNKNOWN;
      }
      Lineage lineage = new Lineage();
      plans.forEach(plan -> lineage.add(Lineage.union(outputs(plan))));
      return lineage.build();
    }

    /** The CTE plan a CTE scan reads: attached to the nearest node of its query level up. */
    private List<Node> cte(Node scan) {
      String name = "CTE " + scan.field("CTE Name");
      for (Node level = scan; level != null; level = level.parent) {
        for (Node child : level.children) {
          if (child.isSubplan() && name.equals(child.field("Subplan Name"))) {
            return List.of(child);
          }
        }
      }
      return List.of();
    }

    private ColumnLineage workTable(Node scan) {
      Node union = scan.parent;
      while (union != null && !union.type().equals("Recursive Union")) {
        union = union.parent;
      }
      if (union == null) {
        return ColumnLineage.UNKNOWN;
      }
      if (!workTables.containsKey(union)) {
        outputs(union);
      }
      return workTables.getOrDefault(union, ColumnLineage.UNKNOWN);
    }

    /**
     * A function scan's columns come from the function's arguments. Unqualified names in the call
     * are never column references: a lone function scan cannot read its own columns, and names are
     * qualified as soon as there is anything else to read.
     */
    private ColumnLineage call(Node scan, String field) {
      String call = scan.field(field);
      return call == null ? ColumnLineage.UNKNOWN : new Scanner(scan, call, true).scan();
    }

    /**
     * VALUES lists are not printed. Besides init-plans attached to the scan, a LATERAL VALUES list
     * reads what the outer side of each nested loop it is the inner side of provides; one inside a
     * correlated sub-plan reads the enclosing query, which is not traced.
     */
    private ColumnLineage values(Node scan) {
      Lineage lineage = new Lineage();
      for (Node child : scan.children) {
        if (child.isSubplan()) {
          lineage.add(Lineage.union(outputs(child)));
        }
      }
      for (Node below = scan, above = scan.parent;
          above != null;
          below = above, above = above.parent) {
        String relationship = below.field("Parent Relationship");
        if ("SubPlan".equals(relationship)) {
          return lineage.incomplete().build();
        }
        if (above.type().equals("Nested Loop") && "Inner".equals(relationship)) {
          for (Node outer : above.inputs()) {
            if ("Outer".equals(outer.field("Parent Relationship"))) {
              lineage.add(Lineage.union(outputs(outer)));
            }
          }
        }
      }
      return lineage.build();
    }

    /** The lineage of a parameter, {@code $n}. */
    private ColumnLineage parameter(String parameter) {
      InitPlanOutput source = initPlanParameters.get(parameter);
      // Anything else is a bind parameter: a value from the client, not from a table.
      return source == null
          ? new ColumnLineage(Set.of(), Set.of(), true)
          : at(outputs(source.plan()), source.index());
    }

    /**
     * The lineage of a sub-plan's value: all of its outputs, or the one {@code column} (counted
     * from 1) names.
     */
    private ColumnLineage subplan(String name, String column) {
      Node plan = subplans.get(name);
      if (plan == null) {
        return ColumnLineage.UNKNOWN;
      }
      if (column == null) {
        return Lineage.union(outputs(plan));
      }
      return column.length() > 9
          ? ColumnLineage.UNKNOWN
          : at(outputs(plan), Integer.parseInt(column) - 1);
    }

    /**
     * Reads one deparsed expression left to right: string literals, type names after {@code ::},
     * keywords (PostgreSQL quotes any identifier that is not lower case, so unquoted words with
     * capitals are keywords) and function names are skipped; column references, {@code $n}
     * parameters, sub-plan references and texts of the inputs' outputs are resolved.
     */
    private final class Scanner {
      private final String text;
      private final boolean qualifiedOnly;
      private final Map<String, ColumnLineage> inputs;
      private final Lineage found = new Lineage();
      private int at;

      Scanner(Node node, String text, boolean qualifiedOnly) {
        this.text = text;
        this.qualifiedOnly = qualifiedOnly;
        this.inputs = inputTexts(node);
      }

      ColumnLineage scan() {
        while (at < text.length()) {
          char c = text.charAt(at);
          if (startsToken(at) && input()) {
            continue;
          }
          if (c == '\'') {
            string(at + 1, false);
          } else if (c == 'E' && peek(at + 1) == '\'' && startsToken(at)) {
            string(at + 2, true);
          } else if (c == '$' && Character.isDigit(peek(at + 1))) {
            int end = digits(at + 1);
            found.add(parameter(text.substring(at, end)));
            at = end;
          } else if (c == ':' && peek(at + 1) == ':') {
            at = type(at + 2);
          } else if (Character.isDigit(c)) {
            at++;
            while (at < text.length() && (identifierPart(peek(at)) || peek(at) == '.')) {
              at++;
            }
          } else if (identifierStart(c) || c == '"') {
            name();
          } else {
            at++;
          }
        }
        return found.build();
      }

      /** An output of an input node, as PostgreSQL prints a reference to it. */
      private boolean input() {
        for (Map.Entry<String, ColumnLineage> entry : inputs.entrySet()) {
          String expression = entry.getKey();
          int end = at + expression.length();
          if (text.startsWith(expression, at) && endsToken(expression, end)) {
            found.add(entry.getValue());
            at = end;
            return true;
          }
        }
        return false;
      }

      private boolean startsToken(int index) {
        if (index == 0) {
          return true;
        }
        char before = text.charAt(index - 1);
        return !identifierPart(before) && before != '"' && before != '.' && before != '$';
      }

      private boolean endsToken(String expression, int end) {
        char last = expression.charAt(expression.length() - 1);
        if (end >= text.length() || !(identifierPart(last) || last == '"')) {
          return true;
        }
        char after = text.charAt(end);
        return !identifierPart(after) && after != '"' && after != '.' && after != '(';
      }

      private char peek(int index) {
        return index < text.length() ? text.charAt(index) : '\0';
      }

      private int digits(int from) {
        int end = from;
        while (Character.isDigit(peek(end))) {
          end++;
        }
        return end;
      }

      private int spaces(int from) {
        int end = from;
        while (peek(end) == ' ') {
          end++;
        }
        return end;
      }

      /** Skips a string literal whose text starts at {@code from}. */
      private void string(int from, boolean backslashEscapes) {
        for (int i = from; i < text.length(); i++) {
          char c = text.charAt(i);
          if (backslashEscapes && c == '\\') {
            i++;
          } else if (c == '\'') {
            if (peek(i + 1) != '\'') {
              at = i + 1;
              return;
            }
            i++;
          }
        }
        found.incomplete();
        at = text.length();
      }

      /** One identifier, unquoted as PostgreSQL would; null if there is none at {@code from}. */
      private Identifier identifier(int from) {
        if (peek(from) == '"') {
          StringBuilder name = new StringBuilder();
          for (int i = from + 1; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"') {
              if (peek(i + 1) != '"') {
                return new Identifier(name.toString(), true, i + 1);
              }
              i++;
            }
            name.append(c);
          }
          return null;
        }
        if (!identifierStart(peek(from))) {
          return null;
        }
        int end = from + 1;
        while (identifierPart(peek(end))) {
          end++;
        }
        return new Identifier(text.substring(from, end), false, end);
      }

      /** Skips a possibly schema-qualified name; returns where it ends. */
      private int qualifiedName(int from) {
        Identifier part = identifier(from);
        if (part == null) {
          return from;
        }
        int end = part.end();
        while (peek(end) == '.' && (part = identifier(end + 1)) != null) {
          end = part.end();
        }
        return end;
      }

      /** Skips a type name as {@code format_type} prints it; returns where it ends. */
      private int type(int from) {
        int end = qualifiedName(from);
        while (true) {
          if (peek(end) == '(' || peek(end) == '[') {
            char close = peek(end) == '(' ? ')' : ']';
            int closing = text.indexOf(close, end);
            if (closing < 0) {
              found.incomplete();
              return text.length();
            }
            end = closing + 1;
          } else if (peek(end) == ' ') {
            Identifier word = identifier(end + 1);
            if (word == null || word.quoted() || !TYPE_WORDS.contains(word.name())) {
              return end;
            }
            end = word.end();
          } else {
            return end;
          }
        }
      }

      private void name() {
        int start = at;
        Identifier first = identifier(start);
        if (first == null) {
          found.incomplete();
          at = text.length();
          return;
        }
        List<String> parts = new ArrayList<>(List.of(first.name()));
        int end = first.end();
        boolean operator = false;
        while (peek(end) == '.') {
          if (peek(end + 1) == '*') {
            parts.add("*");
            end += 2;
            break;
          }
          Identifier next = identifier(end + 1);
          if (next == null) {
            // OPERATOR(pg_catalog.+)
            operator = true;
            break;
          }
          parts.add(next.name());
          end = next.end();
        }
        at = end;
        int after = spaces(end);
        if (start > 0 && text.charAt(start - 1) == '.') {
          return; // a field of a composite value: (expression).field
        }
        if (!first.quoted() && parts.size() == 1 && keyword(first.name(), after)) {
          return;
        }
        if (operator || peek(after) == '(' || text.startsWith("=>", after)) {
          return; // a function or a named argument
        }
        if (parts.size() == 1) {
          if (!qualifiedOnly) {
            found.add(unqualified(parts.get(0)));
          }
        } else if (parts.size() == 2) {
          found.add(reference(parts.get(0), parts.get(1)));
        } else {
          found.incomplete();
        }
      }

      /** Handles an unquoted word that is not a name; false if it may be one. */
      private boolean keyword(String word, int after) {
        switch (word) {
          case "SubPlan", "InitPlan" -> {
            int end = digits(after);
            if (end == after) {
              return false;
            }
            String name = word + " " + text.substring(after, end);
            // PostgreSQL 17 prints an init-plan's output as (InitPlan 1).col1.
            if (text.startsWith(").col", end) && Character.isDigit(peek(end + 5))) {
              int columnEnd = digits(end + 5);
              found.add(subplan(name, text.substring(end + 5, columnEnd)));
              at = columnEnd;
            } else {
              found.add(subplan(name, null));
              at = end;
            }
            return true;
          }
          case "hashed" -> {
            return text.startsWith("SubPlan ", after);
          }
          case "alternatives" -> {
            return peek(after) == ':';
          }
          case "EXTRACT" -> {
            // EXTRACT(field FROM source): the field is a bare word.
            if (peek(after) == '(') {
              Identifier field = identifier(spaces(after + 1));
              at = field == null ? after + 1 : field.end();
            }
            return true;
          }
          case "AS" -> {
            // XMLATTRIBUTES(value AS name), XMLSERIALIZE(... AS type)
            at = type(after);
            return true;
          }
          case "COLLATE", "NAME" -> {
            // COLLATE collation, XMLELEMENT(NAME name, ...)
            at = qualifiedName(after);
            return true;
          }
          default -> {
            return LOWER_CASE_KEYWORDS.contains(word) || !word.equals(word.toLowerCase());
          }
        }
      }

      /**
       * An unqualified name: PostgreSQL leaves column references unqualified only when the plan
       * reads a single relation; otherwise it can only be an alias used as a whole-row value.
       */
      private ColumnLineage unqualified(String name) {
        if (onlyAlias != null) {
          return reference(onlyAlias, name);
        }
        return aliases.containsKey(name) ? reference(name, "*") : ColumnLineage.UNKNOWN;
      }
    }
  }

  private record Identifier(String name, boolean quoted, int end) {}

  private static boolean identifierStart(char c) {
    return Character.isLetter(c) || c == '_';
  }

  private static boolean identifierPart(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '$';
  }
}
