package io.portcullis.node.masking;

import io.portcullis.node.policy.TargetCatalog;
import io.portcullis.policy.catalog.Relations;
import io.portcullis.policy.catalog.Relations.Relation;
import io.portcullis.policy.masking.ColumnRef;
import io.portcullis.policy.masking.ColumnRule;
import io.portcullis.policy.masking.ContentScanner;
import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.masking.ValueMasker;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.StatementAnalysis;
import io.portcullis.policy.sql.StatementKind;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.DataRow;
import io.portcullis.protocol.BackendMessage.Diagnostic;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.BackendMessage.NoticeResponse;
import io.portcullis.protocol.BackendMessage.NotificationResponse;
import io.portcullis.protocol.BackendMessage.RowDescription;
import io.portcullis.protocol.BackendMessage.RowDescription.Column;
import io.portcullis.protocol.Field;
import io.portcullis.protocol.FrontendMessage;
import io.portcullis.protocol.WireMessage.CopyData;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Masks one session's results. It follows the conversation with the upstream (which statement,
 * portal or query each RowDescription, DataRow and COPY row belongs to) and decides per result
 * column: a column of a protected table column is masked by that column's rule; a computed column
 * (or a view's) is masked when it is computed from a protected column, as {@code EXPLAIN (VERBOSE)}
 * says, or when that cannot be told and the statement reads a protected table. Every other text
 * value, and every diagnostic and notification text, passes the content detectors.
 *
 * <p>Plain Java, single-threaded: the masking stage calls it for every message in order. Before
 * {@link #onBackend}, the stage asks {@link #lineageNeeded}; when that names a statement, the stage
 * plans it (asynchronously) and hands the answer to {@link #lineageKnown}.
 */
public final class ResultMasker {

  private final Supplier<SessionMasking> masking;
  private final Supplier<Optional<TargetCatalog>> catalog;
  private final SqlAnalyzer analyzer;
  private final ValueMasker masker;

  private final Deque<Expected> expected = new ArrayDeque<>();
  private final Map<String, Prepared> statements = new HashMap<>();
  private final Map<String, Portal> portals = new HashMap<>();

  /** Cursors declared and statements prepared with SQL, by name. */
  private final Map<String, StatementAnalysis> declared = new HashMap<>();

  private SessionMasking rules;
  private ValueMasking values;
  private ResultShape queryShape;
  private CopyMasking copy;
  private List<ColumnLineage> lineage;
  private boolean lineageAsked;

  /**
   * @param masking the rules for this session's identity under the policy in force
   * @param catalog the target's catalog as last read
   */
  public ResultMasker(
      Supplier<SessionMasking> masking,
      Supplier<Optional<TargetCatalog>> catalog,
      SqlAnalyzer analyzer,
      ValueMasker masker) {
    this.masking = masking;
    this.catalog = catalog;
    this.analyzer = analyzer;
    this.masker = masker;
  }

  /** What the client sent upstream, in order. */
  public void onFrontend(FrontendMessage message) {
    if (message instanceof FrontendMessage.Query query) {
      SimpleQuery simple = new SimpleQuery(query.sql());
      if (mayName(query.sql())) {
        analyses(simple);
      }
      expected.add(simple);
    } else if (message instanceof FrontendMessage.Parse parse) {
      expected.add(new Expected.Parse(parse.name(), parse.sql(), parse.parameterTypes().length));
    } else if (message instanceof FrontendMessage.Bind bind) {
      expected.add(new Expected.Bind(bind.portal(), bind.statement(), bind.resultFormats()));
    } else if (message instanceof FrontendMessage.Describe describe) {
      expected.add(new Expected.Describe(describe.target() == 'S', describe.name()));
    } else if (message instanceof FrontendMessage.Execute execute) {
      expected.add(new Expected.Execute(execute.portal()));
    } else if (message instanceof FrontendMessage.Close close) {
      expected.add(new Expected.Close(close.target() == 'S', close.name()));
    } else if (message == FrontendMessage.Sync.INSTANCE) {
      expected.add(new Expected.Sync());
    } else if (message instanceof FrontendMessage.FunctionCall) {
      expected.add(new Expected.FunctionCall());
    }
  }

  /**
   * The statement to plan before this upstream message can be masked, or null. Asked for result
   * columns computed over protected tables, and for COPY of a query.
   */
  public LineageRequest lineageNeeded(BackendMessage message) {
    lineage = null;
    lineageAsked = false;
    refreshRules();
    if (rules.columns().isEmpty()) {
      return null;
    }
    if (message instanceof RowDescription description) {
      if (allTableColumns(description.columns())) {
        return null;
      }
      Origin origin = origin();
      return origin.touched().isEmpty() || origin.explainable() == null
          ? null
          : ask(origin.explainable());
    }
    if (message instanceof BackendMessage.CopyOutResponse) {
      Origin origin = origin();
      Optional<CopyStatement> statement =
          origin.sql() == null ? Optional.empty() : CopyStatement.parse(origin.sql());
      if (statement.isEmpty() || statement.get().query().isEmpty()) {
        return null;
      }
      return ask(new LineageRequest(statement.get().query().get(), 0));
    }
    return null;
  }

  /** The answer to the last request: null when the target could not plan the statement. */
  public void lineageKnown(List<ColumnLineage> lineage) {
    this.lineage = lineage;
  }

  /** The message as the client may see it. */
  public BackendMessage onBackend(BackendMessage message) {
    refreshRules();
    if (message instanceof DataRow row) {
      return row(row);
    }
    if (message instanceof CopyData data) {
      return copy == null ? data : copy.rewrite(data);
    }
    if (message instanceof RowDescription description) {
      described(description);
    } else if (message instanceof BackendMessage.CommandComplete
        || message == BackendMessage.EmptyQueryResponse.INSTANCE
        || message == BackendMessage.PortalSuspended.INSTANCE) {
      resultEnded();
    } else if (message == BackendMessage.ParseComplete.INSTANCE) {
      if (expected.peek() instanceof Expected.Parse parse) {
        expected.poll();
        statements.put(parse.name(), new Prepared(parse.sql(), parse.parameterCount()));
        if (mayName(parse.sql())) {
          for (StatementAnalysis analysis : analyzer.analyze(parse.sql(), true)) {
            analysis.prepared().ifPresent(name -> declared.put(name, analysis));
          }
        }
      }
    } else if (message == BackendMessage.BindComplete.INSTANCE) {
      if (expected.peek() instanceof Expected.Bind bind) {
        expected.poll();
        portals.put(bind.portal(), new Portal(bind.statement(), bind.resultFormats()));
      }
    } else if (message instanceof BackendMessage.ParameterDescription parameters) {
      if (expected.peek() instanceof Expected.Describe describe && describe.statement()) {
        Prepared prepared = statements.get(describe.name());
        if (prepared != null) {
          prepared.parameterCount = parameters.typeOids().length;
        }
      }
    } else if (message == BackendMessage.NoData.INSTANCE) {
      expected.poll();
    } else if (message == BackendMessage.CloseComplete.INSTANCE) {
      if (expected.poll() instanceof Expected.Close close) {
        (close.statement() ? statements : portals).remove(close.name());
      }
    } else if (message instanceof BackendMessage.ReadyForQuery) {
      readyForQuery();
    } else if (message instanceof BackendMessage.CopyOutResponse) {
      copy = copyMasking();
    } else if (message == CopyData.CopyDone.INSTANCE) {
      copy = null;
    } else if (message instanceof ErrorResponse error) {
      failed();
      return diagnostic(error);
    } else if (message instanceof NoticeResponse notice) {
      return diagnostic(notice);
    } else if (message instanceof NotificationResponse notification) {
      String payload = values.scan(notification.payload());
      return payload.equals(notification.payload())
          ? notification
          : new NotificationResponse(notification.processId(), notification.channel(), payload);
    } else if (message instanceof BackendMessage.FunctionCallResponse response) {
      // A fast-path call can return any column's value; nothing tells where it came from.
      return rules.columns().isEmpty() || response.value() == null
          ? response
          : new BackendMessage.FunctionCallResponse(null);
    }
    return message;
  }

  /** Follows policy reloads: the rules are the same instance while the policy is unchanged. */
  private void refreshRules() {
    SessionMasking now = masking.get();
    if (now != rules) {
      rules = now;
      values = new ValueMasking(masker, new ContentScanner(now.detectors(), masker));
    }
  }

  // ------------------------------------------------------------------ results

  private void described(RowDescription description) {
    ResultShape shape = shape(description.columns());
    Expected head = expected.peek();
    if (head instanceof Expected.Describe describe) {
      expected.poll();
      if (describe.statement()) {
        Prepared prepared = statements.get(describe.name());
        if (prepared != null) {
          prepared.shape = shape;
        }
      } else {
        Portal portal = portals.get(describe.name());
        if (portal != null) {
          portal.shape = shape;
        }
      }
    } else {
      queryShape = shape;
    }
  }

  private BackendMessage row(DataRow row) {
    ResultShape shape;
    short[] formats;
    Portal portal = null;
    if (expected.peek() instanceof Expected.Execute execute) {
      portal = portals.get(execute.portal());
      shape = portal == null ? null : portal.shape();
      formats = portal == null ? null : portal.formats;
    } else {
      shape = queryShape;
      formats = null;
    }
    if (shape == null || shape.columns().size() != row.values().length) {
      return unknownRow(row);
    }
    if (shape.under() != rules) {
      // Described under an earlier policy: worked out again, computed columns without planning
      // (masked wherever a rule's table is read).
      shape = shape(shape.columns());
      if (portal != null) {
        portal.shape = shape;
      } else {
        queryShape = shape;
      }
    }
    byte[][] masked = null;
    for (int i = 0; i < row.values().length; i++) {
      byte[] value = row.values()[i];
      Column column = shape.columns().get(i);
      boolean binary = binary(formats, column, i);
      ColumnRule rule = shape.rules()[i];
      byte[] result =
          rule != null
              ? values.protect(rule, column.typeOid(), binary, value)
              : values.scan(column.typeOid(), binary, value);
      if (result != value) {
        if (masked == null) {
          masked = row.values().clone();
        }
        masked[i] = result;
      }
    }
    return masked == null ? row : new DataRow(masked);
  }

  /** Rows whose columns the masker does not know: with any masking rule, every value is NULL. */
  private DataRow unknownRow(DataRow row) {
    if (rules.isEmpty()) {
      return row;
    }
    return new DataRow(new byte[row.values().length][]);
  }

  private static boolean binary(short[] formats, Column column, int index) {
    if (formats == null) {
      return column.format() == 1;
    }
    if (formats.length == 0) {
      return false;
    }
    return (formats.length == 1 ? formats[0] : formats[index]) == 1;
  }

  private void resultEnded() {
    Expected head = expected.peek();
    if (head instanceof Expected.Execute) {
      expected.poll();
    } else if (head instanceof SimpleQuery query) {
      query.completed++;
    }
    queryShape = null;
    copy = null;
  }

  private void readyForQuery() {
    // Everything up to the Sync or query that this answers is over.
    while (!expected.isEmpty()) {
      Expected head = expected.poll();
      if (head instanceof Expected.Sync || head instanceof SimpleQuery) {
        break;
      }
    }
    queryShape = null;
    copy = null;
  }

  /** An error ends the query, or skips the extended messages before the next Sync. */
  private void failed() {
    Expected head = expected.peek();
    if (head instanceof SimpleQuery || head instanceof Expected.FunctionCall) {
      return;
    }
    while (!expected.isEmpty() && !(expected.peek() instanceof Expected.Sync)) {
      expected.poll();
    }
    copy = null;
  }

  private <D extends Diagnostic> BackendMessage diagnostic(D diagnostic) {
    if (!values.scans()) {
      return diagnostic;
    }
    List<Field> fields = diagnostic.fields();
    List<Field> masked = null;
    for (int i = 0; i < fields.size(); i++) {
      Field field = fields.get(i);
      if ("MDHWq".indexOf(field.code()) < 0) {
        continue;
      }
      String text = values.scan(field.value());
      if (!text.equals(field.value())) {
        if (masked == null) {
          masked = new ArrayList<>(fields);
        }
        masked.set(i, new Field(field.code(), text));
      }
    }
    if (masked == null) {
      return diagnostic;
    }
    return diagnostic instanceof ErrorResponse
        ? new ErrorResponse(masked)
        : new NoticeResponse(masked);
  }

  // ------------------------------------------------------------------ where a result comes from

  /** The statement that the next result belongs to, with the protected tables it reads. */
  private Origin origin() {
    Expected head = expected.peek();
    String sql;
    int parameterCount = 0;
    List<StatementAnalysis> analyses;
    if (head instanceof SimpleQuery query) {
      analyses = analyses(query);
      sql = query.completed < analyses.size() ? analyses.get(query.completed).text() : null;
    } else {
      Prepared prepared = preparedFor(head);
      if (prepared == null) {
        return new Origin(null, rules.columns(), null);
      }
      sql = prepared.sql;
      parameterCount = prepared.parameterCount;
      analyses = analyzer.analyze(sql, true);
    }
    Set<ColumnRule> touched = new LinkedHashSet<>();
    LineageRequest explainable = sql == null ? null : new LineageRequest(sql, parameterCount);
    for (StatementAnalysis analysis : analyses) {
      StatementAnalysis source = analysis;
      Optional<String> named = analysis.executes();
      if (named.isPresent() || analysis.kinds().contains(StatementKind.CURSOR)) {
        // FETCH and EXECUTE return what their DECLARE or PREPARE selects.
        source = named.map(declared::get).orElseGet(() -> cursorOf(analysis));
        explainable =
            source != null && source.text().stripLeading().regionMatches(true, 0, "DECLARE", 0, 7)
                ? new LineageRequest(source.text(), 0)
                : null;
      }
      touched.addAll(source == null ? rules.columns() : touched(source));
    }
    return new Origin(sql, List.copyOf(touched), explainable);
  }

  /** Whether a query may declare a cursor or prepare a statement, which later results refer to. */
  private static boolean mayName(String sql) {
    String lower = sql.toLowerCase(java.util.Locale.ROOT);
    return lower.contains("declare") || lower.contains("prepare");
  }

  private List<StatementAnalysis> analyses(SimpleQuery query) {
    if (query.analyses == null) {
      query.analyses = analyzer.analyze(query.sql, true);
      for (StatementAnalysis analysis : query.analyses) {
        analysis.prepared().ifPresent(name -> declared.put(name, analysis));
      }
    }
    return query.analyses;
  }

  private StatementAnalysis cursorOf(StatementAnalysis fetch) {
    for (Map.Entry<String, StatementAnalysis> cursor : declared.entrySet()) {
      if (fetch.text().contains(cursor.getKey())) {
        return cursor.getValue();
      }
    }
    return null;
  }

  private Prepared preparedFor(Expected head) {
    if (head instanceof Expected.Describe describe) {
      return describe.statement()
          ? statements.get(describe.name())
          : preparedOfPortal(describe.name());
    }
    if (head instanceof Expected.Execute execute) {
      return preparedOfPortal(execute.portal());
    }
    return null;
  }

  private Prepared preparedOfPortal(String name) {
    Portal portal = portals.get(name);
    return portal == null ? null : statements.get(portal.statement);
  }

  /** The rules protecting a column of a table the statement reads or writes (RETURNING). */
  private List<ColumnRule> touched(StatementAnalysis analysis) {
    if (analysis.isUnparsed()) {
      return rules.columns();
    }
    Optional<TargetCatalog> known = catalog.get();
    StatementAnalysis expanded = known.map(c -> c.dependencies().expand(analysis)).orElse(analysis);
    List<ColumnRule> touched = new ArrayList<>();
    boolean opaque =
        known.isEmpty()
            || expanded.functions().stream()
                .anyMatch(f -> known.get().dependencies().opaqueFunctions().contains(f));
    Set<String> tables = new LinkedHashSet<>(expanded.tablesRead());
    tables.addAll(expanded.tablesWritten());
    Relations relations = known.map(TargetCatalog::relations).orElse(Relations.empty());
    for (String table : List.copyOf(tables)) {
      relations
          .partitionRootsOf(table)
          .forEach(root -> tables.add(root.schema() + "." + root.name()));
    }
    for (ColumnRule rule : rules.columns()) {
      if ((opaque && rule.maskUnknownLineage()) || names(rule, tables)) {
        touched.add(rule);
      }
    }
    return touched;
  }

  private static boolean names(ColumnRule rule, Set<String> tables) {
    for (String table : tables) {
      int dot = table.lastIndexOf('.');
      String schema = dot < 0 ? null : table.substring(0, dot);
      String name = table.substring(dot + 1);
      for (ColumnRef ref : rule.columns()) {
        if (ref.table().equals(name)
            && (schema == null || ref.schema().map(schema::equals).orElse(true))) {
          return true;
        }
      }
    }
    return false;
  }

  private boolean allTableColumns(List<Column> columns) {
    Relations relations = relations();
    for (Column column : columns) {
      if (tableColumn(relations, column) == null) {
        return false;
      }
    }
    return true;
  }

  private LineageRequest ask(LineageRequest request) {
    lineageAsked = true;
    return request;
  }

  private Relations relations() {
    return catalog.get().map(TargetCatalog::relations).orElse(Relations.empty());
  }

  /** The table column a result column is a plain reference to, or null if it is computed. */
  private static Relation tableColumn(Relations relations, Column column) {
    if (column.tableOid() == 0) {
      return null;
    }
    Relation relation = relations.get(column.tableOid());
    return relation != null
            && (relation.kind() == Relations.Kind.TABLE
                || relation.kind() == Relations.Kind.FOREIGN_TABLE)
            && relation.column(column.columnNumber()) != null
        ? relation
        : null;
  }

  private ResultShape shape(List<Column> columns) {
    if (rules.columns().isEmpty()) {
      return ResultShape.unprotected(columns, rules);
    }
    Relations relations = relations();
    Origin origin = null;
    ColumnRule[] masks = new ColumnRule[columns.size()];
    for (int i = 0; i < columns.size(); i++) {
      Column column = columns.get(i);
      Relation relation = relations.get(column.tableOid());
      if (relation != null && relation.column(column.columnNumber()) != null) {
        // A rule may name a view's column too.
        masks[i] =
            ruleForColumn(
                relation.schema(), relation.name(), relation.column(column.columnNumber()));
        if (masks[i] != null || tableColumn(relations, column) != null) {
          continue;
        }
      }
      if (origin == null) {
        origin = origin();
      }
      masks[i] = derived(i, columns.size(), origin);
    }
    return new ResultShape(columns, masks, rules);
  }

  /** The rule for a computed column: by its lineage, else by what the statement reads. */
  private ColumnRule derived(int index, int count, Origin origin) {
    if (origin.touched().isEmpty()) {
      return null;
    }
    ColumnLineage known =
        lineageAsked && lineage != null && lineage.size() >= count
            ? lineage.get(index)
            : ColumnLineage.UNKNOWN;
    for (SourceColumn source : known.columns()) {
      ColumnRule rule = ruleForColumn(source.schema(), source.table(), source.column());
      if (rule != null) {
        return rule;
      }
    }
    for (SourceTable source : known.wholeRows()) {
      for (Relations.Name table : asRuleNamesIt(source.schema(), source.table())) {
        List<ColumnRule> protecting = rules.rulesFor(table.schema(), table.name());
        if (!protecting.isEmpty()) {
          return protecting.get(0);
        }
      }
    }
    if (!known.complete()) {
      for (ColumnRule rule : origin.touched()) {
        if (rule.maskUnknownLineage()) {
          return rule;
        }
      }
    }
    return null;
  }

  /** The rule protecting a table's column, or a partition's column as its partitioned table's. */
  private ColumnRule ruleForColumn(String schema, String table, String column) {
    for (Relations.Name name : asRuleNamesIt(schema, table)) {
      ColumnRule rule = rules.ruleFor(name.schema(), name.name(), column);
      if (rule != null) {
        return rule;
      }
    }
    return null;
  }

  /** The table a plan names, and for a partition the partitioned table a rule names. */
  private List<Relations.Name> asRuleNamesIt(String schema, String table) {
    Relations.Name name = new Relations.Name(schema, table);
    Relation relation = relations().named(schema, table);
    return relation == null || relation.partitionRoot().isEmpty()
        ? List.of(name)
        : List.of(name, relation.partitionRoot().get());
  }

  // ------------------------------------------------------------------ COPY

  private CopyMasking copyMasking() {
    if (rules.isEmpty()) {
      return null;
    }
    Origin origin = origin();
    Optional<CopyStatement> statement =
        origin.sql() == null ? Optional.empty() : CopyStatement.parse(origin.sql());
    if (statement.isEmpty()) {
      throw new MaskingException(
          "the gateway cannot read this COPY statement's format, so it cannot mask its rows;"
              + " use COPY ... TO STDOUT with a table, a column list or a query");
    }
    CopyStatement copyStatement = statement.get();
    List<ColumnRule> columnRules = new ArrayList<>();
    List<Integer> types = new ArrayList<>();
    if (copyStatement.query().isPresent()) {
      int count = lineage == null ? 0 : lineage.size();
      for (int i = 0; i < count; i++) {
        columnRules.add(derived(i, count, origin));
        types.add(0);
      }
      if (lineage == null) {
        // Unknown columns: every value is masked by the first rule that applies.
        return new CopyMasking(
            CopyRows.forStatement(copyStatement),
            List.of(),
            List.of(),
            unknownRule(origin),
            values);
      }
    } else {
      Relation relation = copyTable(copyStatement);
      if (relation == null) {
        return new CopyMasking(
            CopyRows.forStatement(copyStatement),
            List.of(),
            List.of(),
            unknownRule(origin),
            values);
      }
      List<String> names =
          copyStatement.columns().isEmpty()
              ? relation.columns().stream().filter(c -> c != null).toList()
              : copyStatement.columns();
      for (String name : names) {
        columnRules.add(rules.ruleFor(relation.schema(), relation.name(), name));
        types.add(relation.type(relation.columns().indexOf(name) + 1));
      }
    }
    return new CopyMasking(CopyRows.forStatement(copyStatement), columnRules, types, null, values);
  }

  private ColumnRule unknownRule(Origin origin) {
    return origin.touched().isEmpty() ? null : origin.touched().get(0);
  }

  private Relation copyTable(CopyStatement statement) {
    Relations relations = relations();
    if (statement.schema().isPresent()) {
      return relations.named(statement.schema().get(), statement.table().orElseThrow());
    }
    Relation inPublic = relations.named("public", statement.table().orElseThrow());
    return inPublic;
  }

  // ------------------------------------------------------------------ conversation state

  /**
   * @param sql the statement the result belongs to, null if unknown
   * @param touched the rules protecting a column of a table it reads
   * @param explainable what to plan for the lineage of its computed columns, null if nothing can
   */
  private record Origin(String sql, List<ColumnRule> touched, LineageRequest explainable) {}

  private static final class Prepared {
    final String sql;
    int parameterCount;
    ResultShape shape;

    Prepared(String sql, int parameterCount) {
      this.sql = sql;
      this.parameterCount = parameterCount;
    }
  }

  private final class Portal {
    final String statement;
    final short[] formats;
    ResultShape shape;

    Portal(String statement, short[] formats) {
      this.statement = statement;
      this.formats = formats;
    }

    ResultShape shape() {
      if (shape != null) {
        return shape;
      }
      Prepared prepared = statements.get(statement);
      return prepared == null ? null : prepared.shape;
    }
  }

  /** What the upstream will answer, in the order the client asked. */
  private sealed interface Expected
      permits Expected.Parse,
          Expected.Bind,
          Expected.Describe,
          Expected.Execute,
          Expected.Close,
          Expected.Sync,
          Expected.FunctionCall,
          SimpleQuery {
    record Parse(String name, String sql, int parameterCount) implements Expected {}

    record Bind(String portal, String statement, short[] resultFormats) implements Expected {}

    record Describe(boolean statement, String name) implements Expected {}

    record Execute(String portal) implements Expected {}

    record Close(boolean statement, String name) implements Expected {}

    record Sync() implements Expected {}

    record FunctionCall() implements Expected {}
  }

  /** A simple query: its statements answer one after another. */
  private static final class SimpleQuery implements Expected {
    final String sql;
    List<StatementAnalysis> analyses;
    int completed;

    SimpleQuery(String sql) {
      this.sql = sql;
    }
  }
}
