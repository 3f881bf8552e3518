package io.portcullis.node.masking;

import io.portcullis.node.audit.Completions;
import io.portcullis.node.audit.ResultRecord;
import io.portcullis.node.policy.TargetCatalog;
import io.portcullis.policy.catalog.Relations;
import io.portcullis.policy.catalog.Relations.Relation;
import io.portcullis.policy.masking.ColumnRule;
import io.portcullis.policy.masking.ContentScanner;
import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.masking.ValueMasker;
import io.portcullis.policy.sql.LexedStatement;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.SqlLexer;
import io.portcullis.policy.sql.SqlSyntaxException;
import io.portcullis.policy.sql.StatementAnalysis;
import io.portcullis.policy.sql.StatementKind;
import io.portcullis.policy.sql.Token;
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
import java.nio.charset.StandardCharsets;
import java.time.Instant;
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
 * portal or query each RowDescription, DataRow and COPY row belongs to, and what that statement
 * reads: its {@link Origin}), lets {@link ColumnDecisions} decide each column's rule, and rewrites
 * the values ({@link ValueMasking}). Every other value, and every diagnostic, notification, setting
 * and column name, passes the content detectors; diagnostics are first redacted to words that
 * cannot be values ({@link DiagnosticRedaction}) when a column rule applies. It also sums up each
 * journaled statement's result for the journal ({@link ResultRecord}).
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
  private final Completions completions;

  private final Deque<Expected> expected = new ArrayDeque<>();
  private final Map<String, Prepared> statements = new HashMap<>();
  private final Map<String, Portal> portals = new HashMap<>();

  /** Cursors declared and statements prepared with SQL, by name. */
  private final Map<String, StatementAnalysis> declared = new HashMap<>();

  private SessionMasking rules;
  private ValueMasking values;

  /**
   * Fields of an error or notice that never carry data: severity, SQLSTATE, positions, and the
   * server's source file, line and routine. Every other field (message, detail, hint, context,
   * query, schema, table, column, type, constraint) is scanned.
   */
  private static final String NOT_TEXT_FIELDS = "SVCPpFLR";

  private static final char INTERNAL_POSITION = 'p';

  /** As the upstream reports it: how the session's SQL text is split into statements. */
  private boolean standardConformingStrings = true;

  /**
   * How many statements changing the session's {@code search_path} the client has sent. Once one
   * has, the gateway's own plans could name other tables than the session's, so computed columns
   * are masked without asking for one; and a statement described before a change may read other
   * tables after it, so its described columns no longer say where values come from.
   */
  private int searchPathChanges;

  /**
   * The session called {@code set_config}, which can store a value where later {@code SHOW}s and
   * reported settings return it: from then on they are masked.
   */
  private boolean settingsTainted;

  private static final String SEARCH_PATH = "search_path";
  private static final String SET_CONFIG = "set_config";

  /** Which values of the row being masked are binary; reused from row to row. */
  private boolean[] binaries = new boolean[0];

  private ResultShape queryShape;
  private CopyMasking copy;

  /** The message of the CopyFail sent since the last ReadyForQuery, if one was. */
  private String copyFailure;

  private List<ColumnLineage> lineage;
  private boolean lineageAsked;

  /**
   * @param masking the rules for this session's identity under the policy in force
   * @param catalog the target's catalog as last read
   * @param completions the journal of what each statement returned
   */
  public ResultMasker(
      Supplier<SessionMasking> masking,
      Supplier<Optional<TargetCatalog>> catalog,
      SqlAnalyzer analyzer,
      ValueMasker masker,
      Completions completions) {
    this.masking = masking;
    this.catalog = catalog;
    this.analyzer = analyzer;
    this.masker = masker;
    this.completions = completions;
  }

  /** What the client sent upstream, in order. */
  public void onFrontend(FrontendMessage message) {
    if (message instanceof FrontendMessage.Query query) {
      SimpleQuery simple = new SimpleQuery(query.sql(), completions.nextForwarded());
      noteSessionState(query.sql(), () -> analyses(simple));
      if (mayNameOrForget(query.sql())) {
        analyses(simple);
      }
      expected.add(simple);
    } else if (message instanceof FrontendMessage.Parse parse) {
      noteSessionState(parse.sql(), () -> analyzer.analyze(parse.sql(), standardConformingStrings));
      expected.add(new Expected.Parse(parse.name(), parse.sql(), parse.parameterTypes().length));
    } else if (message instanceof FrontendMessage.Bind bind) {
      expected.add(
          new Expected.Bind(
              bind.portal(), bind.statement(), bind.resultFormats(), completions.nextForwarded()));
    } else if (message instanceof FrontendMessage.Describe describe) {
      expected.add(
          new Expected.Describe(describe.target() == 'S', describe.name(), searchPathChanges));
    } else if (message instanceof FrontendMessage.Execute execute) {
      expected.add(new Expected.Execute(execute.portal(), searchPathChanges));
    } else if (message instanceof FrontendMessage.Close close) {
      expected.add(new Expected.Close(close.target() == 'S', close.name()));
    } else if (message == FrontendMessage.Sync.INSTANCE) {
      expected.add(new Expected.Sync());
    } else if (message instanceof FrontendMessage.FunctionCall) {
      completions.nextForwarded();
      expected.add(new Expected.FunctionCall());
    } else if (message instanceof FrontendMessage.CopyFail fail) {
      // PostgreSQL quotes it in the error that ends the copy.
      copyFailure = fail.message();
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
      if (decisions().allTableColumns(description.columns())) {
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
      return copy == null ? data : copy.rewrite(data, completions);
    }
    if (message instanceof RowDescription description) {
      described(description);
      return namesScanned(description);
    } else if (message instanceof BackendMessage.CommandComplete complete) {
      recordEnd(Optional.of(complete.tag()), Optional.empty());
      resultEnded();
    } else if (message == BackendMessage.EmptyQueryResponse.INSTANCE) {
      recordEnd(Optional.empty(), Optional.empty());
      resultEnded();
    } else if (message == BackendMessage.PortalSuspended.INSTANCE) {
      resultEnded();
    } else if (message == BackendMessage.ParseComplete.INSTANCE) {
      if (expected.peek() instanceof Expected.Parse parse) {
        expected.poll();
        statements.put(parse.name(), new Prepared(parse.sql(), parse.parameterCount()));
      }
    } else if (message == BackendMessage.BindComplete.INSTANCE) {
      if (expected.peek() instanceof Expected.Bind bind) {
        expected.poll();
        portals.put(
            bind.portal(),
            new Portal(statements.get(bind.statement()), bind.resultFormats(), bind.journaled()));
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
      copyFailure = null;
      readyForQuery();
    } else if (message instanceof BackendMessage.CopyOutResponse) {
      copy = copyMasking();
    } else if (message == CopyData.CopyDone.INSTANCE) {
      copy = null;
    } else if (message instanceof ErrorResponse error) {
      // Shown as of the statements it may quote, before the failure skips them.
      BackendMessage shown = diagnostic(error);
      recordEnd(Optional.empty(), Optional.ofNullable(error.sqlState()));
      failed();
      return shown;
    } else if (message instanceof NoticeResponse notice) {
      return diagnostic(notice);
    } else if (message instanceof NotificationResponse notification) {
      // Any statement of any session can send a payload (pg_notify(channel, ssn)): no origin.
      String channel = values.scan(notification.channel());
      String payload =
          rules.columns().isEmpty()
              ? values.scan(notification.payload())
              : ofUnknownOrigin(notification.payload());
      return payload.equals(notification.payload()) && channel.equals(notification.channel())
          ? notification
          : new NotificationResponse(notification.processId(), channel, payload);
    } else if (message instanceof BackendMessage.ParameterStatus status) {
      if (status.name().equals("standard_conforming_strings")) {
        standardConformingStrings = status.value().equals("on");
      }
      // Of the settings PostgreSQL reports, only application_name holds free text.
      String value =
          settingsTainted && status.name().equals("application_name")
              ? ofUnknownOrigin(status.value())
              : values.scan(status.value());
      return value.equals(status.value())
          ? status
          : new BackendMessage.ParameterStatus(status.name(), value);
    } else if (message instanceof BackendMessage.FunctionCallResponse response) {
      // A fast-path call can return any column's value; nothing tells where it came from.
      if (rules.columns().isEmpty() || response.value() == null) {
        return response;
      }
      completions.masked(1);
      return new BackendMessage.FunctionCallResponse(null);
    }
    return message;
  }

  /**
   * A text that could hold any value the session can read: masked by the first rule that masks
   * unknown lineage, else scanned.
   */
  private String ofUnknownOrigin(String text) {
    ColumnRule rule = ColumnDecisions.firstMaskingUnknown(rules.columns());
    if (rule == null) {
      return values.scan(text);
    }
    byte[] masked = values.protectText(rule, text.getBytes(StandardCharsets.UTF_8));
    return masked == null ? "" : new String(masked, StandardCharsets.UTF_8);
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

  /** Column names can be made from data too (a view created with a value as a name). */
  private RowDescription namesScanned(RowDescription description) {
    List<Column> renamed = null;
    for (int i = 0; i < description.columns().size(); i++) {
      Column column = description.columns().get(i);
      String name = values.scan(column.name());
      if (!name.equals(column.name())) {
        if (renamed == null) {
          renamed = new ArrayList<>(description.columns());
        }
        renamed.set(
            i,
            new Column(
                name,
                column.tableOid(),
                column.columnNumber(),
                column.typeOid(),
                column.typeSize(),
                column.typeModifier(),
                column.format()));
      }
    }
    return renamed == null ? description : new RowDescription(renamed);
  }

  private void described(RowDescription description) {
    ResultShape shape =
        decisions().shape(description.columns(), this::origin, lineageAsked ? lineage : null);
    Expected head = expected.peek();
    if (head instanceof Expected.Describe describe) {
      expected.poll();
      if (describe.statement()) {
        Prepared prepared = statements.get(describe.name());
        if (prepared != null) {
          prepared.shape = shape;
          prepared.describedAt = describe.searchPathChanges();
        }
      } else {
        Portal portal = portals.get(describe.name());
        if (portal != null) {
          portal.shape = shape;
          portal.describedAt = describe.searchPathChanges();
          // Its statement's later portals are often executed without a Describe (pgjdbc, from
          // the sixth run of a prepared statement): they have the same columns.
          if (portal.prepared != null && portal.prepared.shape == null) {
            portal.prepared.shape = shape;
            portal.prepared.describedAt = describe.searchPathChanges();
          }
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
    int executedAt = 0;
    if (expected.peek() instanceof Expected.Execute execute) {
      portal = portals.get(execute.portal());
      executedAt = execute.searchPathChanges();
      shape = portal == null ? null : portal.shapeAt(executedAt);
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
      shape = decisions().shape(shape.columns(), this::origin, null);
      if (portal != null) {
        portal.shape = shape;
        portal.describedAt = executedAt;
      } else {
        queryShape = shape;
      }
    }
    byte[][] masked = null;
    int replaced = 0;
    if (binaries.length < row.values().length) {
      binaries = new boolean[row.values().length];
    }
    for (int i = 0; i < row.values().length; i++) {
      byte[] value = row.values()[i];
      Column column = shape.columns().get(i);
      boolean binary = binary(formats, column, i);
      binaries[i] = binary;
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
        replaced++;
      }
    }
    if (replaced > 0) {
      completions.masked(replaced);
    }
    DataRow sent = masked == null ? row : new DataRow(masked);
    ResultRecord result = currentResult();
    if (result != null) {
      result.row(sent.values(), binaries);
    }
    return sent;
  }

  /** The record of the result now arriving, begun with its first row; null if not journaled. */
  private ResultRecord currentResult() {
    Expected head = expected.peek();
    if (head instanceof Expected.Execute execute) {
      Portal portal = portals.get(execute.portal());
      if (portal == null || portal.journaled == 0) {
        return null;
      }
      if (portal.result == null) {
        portal.result = new ResultRecord(portal.journaled, Instant.now(), completions.limits());
      }
      return portal.result;
    }
    if (head instanceof SimpleQuery query && query.journaled != 0) {
      if (query.result == null) {
        query.result = new ResultRecord(query.journaled, Instant.now(), completions.limits());
      }
      return query.result;
    }
    return null;
  }

  /** The current result ended, with a command tag or an error. */
  private void recordEnd(Optional<String> commandTag, Optional<String> sqlState) {
    ResultRecord result = currentResult();
    if (result == null) {
      return;
    }
    completions.completed(result.completed(commandTag, sqlState));
    Expected head = expected.peek();
    if (head instanceof Expected.Execute execute) {
      Portal portal = portals.get(execute.portal());
      if (portal != null) {
        portal.result = null;
      }
    } else if (head instanceof SimpleQuery query) {
      query.result = null;
    }
  }

  /** Rows whose columns the masker does not know: with any masking rule, every value is NULL. */
  private DataRow unknownRow(DataRow row) {
    if (rules.isEmpty()) {
      return row;
    }
    int values = 0;
    for (byte[] value : row.values()) {
      if (value != null) {
        values++;
      }
    }
    if (values > 0) {
      completions.masked(values);
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
    if (head instanceof Expected.Execute execute) {
      Portal portal = portals.get(execute.portal());
      if (portal != null && portal.prepared != null && portal.prepared.mayNameOrForget) {
        analyzer.analyze(portal.prepared.sql, standardConformingStrings).forEach(this::track);
      }
      expected.poll();
    } else if (head instanceof SimpleQuery query) {
      if (query.analyses != null && query.completed < query.analyses.size()) {
        track(query.analyses.get(query.completed));
      }
      query.completed++;
    }
    queryShape = null;
    copy = null;
  }

  private void readyForQuery() {
    // Everything up to the Sync, query or fast-path call that this answers is over.
    while (!expected.isEmpty()) {
      Expected head = expected.poll();
      if (head instanceof Expected.Sync
          || head instanceof SimpleQuery
          || head instanceof Expected.FunctionCall) {
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

  /**
   * An error or notice: for an identity under column rules, with every word that may quote a value
   * redacted ({@link DiagnosticRedaction}); then scanned by the detectors.
   */
  private <D extends Diagnostic> BackendMessage diagnostic(D diagnostic) {
    DiagnosticRedaction redaction =
        rules.columns().isEmpty() ? null : new DiagnosticRedaction(clientTexts(), relations());
    if (redaction == null && !values.scans()) {
      return diagnostic;
    }
    List<Field> fields = diagnostic.fields();
    List<Field> masked = null;
    boolean error = diagnostic instanceof ErrorResponse;
    for (int i = 0; i < fields.size(); i++) {
      Field field = fields.get(i);
      String text;
      if (redaction != null && field.code() == Field.SQLSTATE) {
        text = DiagnosticRedaction.sqlState(field.value(), error);
      } else if (redaction != null && field.code() == INTERNAL_POSITION) {
        // A function's EXECUTE of a text it built can put its syntax error at any offset.
        text = null;
      } else if (NOT_TEXT_FIELDS.indexOf(field.code()) >= 0) {
        continue;
      } else {
        text = values.scan(redaction == null ? field.value() : redaction.redact(field.value()));
      }
      if (text == null || !text.equals(field.value())) {
        if (masked == null) {
          masked = new ArrayList<>(fields);
        }
        masked.set(i, new Field(field.code(), text));
      }
    }
    if (masked == null) {
      return diagnostic;
    }
    masked.removeIf(field -> field.value() == null);
    if (redaction != null && redaction.redacted()) {
      withHint(masked, DiagnosticRedaction.HINT);
    }
    return diagnostic instanceof ErrorResponse
        ? new ErrorResponse(masked)
        : new NoticeResponse(masked);
  }

  private static void withHint(List<Field> fields, String hint) {
    for (int i = 0; i < fields.size(); i++) {
      if (fields.get(i).code() == Field.HINT) {
        fields.set(i, new Field(Field.HINT, fields.get(i).value() + "\n" + hint));
        return;
      }
    }
    fields.add(new Field(Field.HINT, hint));
  }

  /** What the client sent for the statements still to be answered: SQL, names, a copy's failure. */
  private List<String> clientTexts() {
    List<String> texts = new ArrayList<>();
    if (copyFailure != null) {
      texts.add(copyFailure);
    }
    for (Expected pending : expected) {
      if (pending instanceof SimpleQuery query) {
        texts.add(query.sql);
      } else if (pending instanceof Expected.Parse parse) {
        texts.add(parse.name());
        texts.add(parse.sql());
      } else if (pending instanceof Expected.Bind bind) {
        texts.add(bind.portal());
        texts.add(bind.statement());
        Prepared prepared = statements.get(bind.statement());
        if (prepared != null) {
          texts.add(prepared.sql);
        }
      } else if (pending instanceof Expected.Close close) {
        texts.add(close.name());
      } else if (pending instanceof Expected.Describe describe) {
        texts.add(describe.name());
      } else if (pending instanceof Expected.Execute execute) {
        texts.add(execute.portal());
      }
      Prepared prepared = preparedFor(pending);
      if (prepared != null) {
        texts.add(prepared.sql);
      }
    }
    return texts;
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
        return new Origin(null, rules.columns(), null, true);
      }
      sql = prepared.sql;
      parameterCount = prepared.parameterCount;
      analyses = analyzer.analyze(sql, standardConformingStrings);
    }
    ColumnDecisions decisions = decisions();
    Set<ColumnRule> touched = new LinkedHashSet<>();
    LineageRequest explainable =
        sql == null || searchPathChanges > 0 ? null : new LineageRequest(sql, parameterCount);
    boolean opaque = false;
    for (StatementAnalysis analysis : analyses) {
      if (analysis.kinds().equals(Set.of(StatementKind.EXPLAIN))) {
        // A plan, not data: it shows the statement's own text, never a row; but a function of
        // the database that the planner evaluated (an IMMUTABLE one is folded) shows its value.
        if (decisions.callsDatabaseFunction(analysis) || decisions.callsUnknownFunction(analysis)) {
          touched.addAll(rules.columns());
          opaque = true;
          explainable = null;
        }
        continue;
      }
      if (!java.util.Collections.disjoint(analysis.functions(), SQL_TEXT_FUNCTIONS)
          || (settingsTainted && analysis.kinds().contains(StatementKind.SHOW))
          || rowsFromARule(analysis)
          || decisions.callsUnknownFunction(analysis)) {
        // SQL in a string, state set by an earlier statement, rows a rewrite rule made up, or a
        // function made since the catalog was read: anything may come back.
        touched.addAll(rules.columns());
        opaque = true;
      }
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
      touched.addAll(source == null ? rules.columns() : decisions.touched(source));
      opaque |= source != null && decisions.callsDatabaseFunction(source);
    }
    return new Origin(sql, List.copyOf(touched), explainable, opaque);
  }

  /**
   * Whether a query may declare a cursor or prepare a statement, which later results refer to; or
   * close, deallocate or discard one, or run code that may do any of these ({@link #track}).
   */
  private static boolean mayNameOrForget(String sql) {
    for (String word : NAMING_WORDS) {
      if (mentions(sql, word)) {
        return true;
      }
    }
    return false;
  }

  private static final List<String> NAMING_WORDS =
      List.of("declare", "prepare", "close", "deallocate", "discard", "do", "call");

  /**
   * Whether the text holds the (lower-case) word in any case; checked for several words on every
   * statement, so no copy, and a full comparison only where the first letter matches.
   */
  private static boolean mentions(String text, String word) {
    char lower = word.charAt(0);
    char upper = Character.toUpperCase(lower);
    for (int i = 0, last = text.length() - word.length(); i <= last; i++) {
      char c = text.charAt(i);
      if ((c == lower || c == upper)
          && text.regionMatches(true, i + 1, word, 1, word.length() - 1)) {
        return true;
      }
    }
    return false;
  }

  private List<StatementAnalysis> analyses(SimpleQuery query) {
    if (query.analyses == null) {
      query.analyses = analyzer.analyze(query.sql, standardConformingStrings);
    }
    return query.analyses;
  }

  /**
   * A statement has run. After a DECLARE or PREPARE, later FETCHes or EXECUTEs of its name return
   * its rows; CLOSE, DEALLOCATE and DISCARD end that. Code the gateway cannot read (a DO block, a
   * procedure) may close a name and open it again over anything, so after it no name is trusted:
   * what a FETCH or EXECUTE of an unknown name returns is masked as of unknown origin.
   */
  private void track(StatementAnalysis analysis) {
    if (analysis.prepared().isPresent()) {
      declared.put(analysis.prepared().get(), analysis);
    } else if (analysis.kinds().contains(StatementKind.DO)
        || analysis.kinds().contains(StatementKind.CALL)) {
      declared.clear();
    } else {
      List<Token> tokens = tokens(analysis.text());
      if (!tokens.isEmpty()
          && (tokens.get(0).isWord("close")
              || tokens.get(0).isWord("deallocate")
              || tokens.get(0).isWord("discard"))) {
        String name = lastName(tokens);
        if (name == null || name.equalsIgnoreCase("all")) {
          declared.clear();
        } else {
          declared.remove(name);
        }
      }
    }
  }

  /**
   * @param analyses the text's statements, analysed only if it mentions {@code schema}: {@code SET
   *     SCHEMA 'x'} is the search_path under another name
   */
  private void noteSessionState(String sql, Supplier<List<StatementAnalysis>> analyses) {
    if (mentions(sql, SEARCH_PATH)
        || (mentions(sql, "schema")
            && analyses.get().stream()
                .anyMatch(analysis -> analysis.setting().equals(Optional.of(SEARCH_PATH))))) {
      searchPathChanges++;
    }
    settingsTainted |= mentions(sql, SET_CONFIG);
  }

  /**
   * Whether a statement may change how the results after it are masked, from the moment it is sent:
   * a client that waits for each answer has every earlier result masked as before it. Errs on the
   * side of yes ({@code schema} in any statement).
   */
  public static boolean changesMasking(String sql) {
    return mentions(sql, SEARCH_PATH) || mentions(sql, "schema") || mentions(sql, SET_CONFIG);
  }

  /**
   * A write without RETURNING that returns rows: a rewrite rule turned it into a query, which no
   * plan of the statement as written shows.
   */
  private static boolean rowsFromARule(StatementAnalysis analysis) {
    return analysis.kinds().stream().anyMatch(StatementKind::writesData)
        && !mentions(analysis.text(), "returning");
  }

  /** The cursor a FETCH or MOVE names: its last name. */
  private StatementAnalysis cursorOf(StatementAnalysis fetch) {
    String name = lastName(tokens(fetch.text()));
    return name == null ? null : declared.get(name);
  }

  /** The tokens of a statement's text; none if it does not lex. */
  private List<Token> tokens(String statement) {
    try {
      List<LexedStatement> lexed = SqlLexer.split(statement, standardConformingStrings);
      return lexed.isEmpty() ? List.of() : lexed.get(0).tokens();
    } catch (SqlSyntaxException e) {
      return List.of();
    }
  }

  private static String lastName(List<Token> tokens) {
    String name = null;
    for (Token token : tokens) {
      if (token.isName()) {
        name = token.value();
      }
    }
    return name;
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
    return portal == null ? null : portal.prepared;
  }

  private ColumnDecisions decisions() {
    return new ColumnDecisions(rules, catalog.get());
  }

  private Relations relations() {
    return catalog.get().map(TargetCatalog::relations).orElse(Relations.empty());
  }

  private LineageRequest ask(LineageRequest request) {
    lineageAsked = true;
    return request;
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
    if (copyStatement.encoding().isPresent()
        && !copyStatement.encoding().get().replace("-", "").equalsIgnoreCase("UTF8")) {
      throw new MaskingException(
          "the gateway masks COPY output in UTF8 only; leave out ENCODING '"
              + copyStatement.encoding().get()
              + "'");
    }
    List<ColumnRule> columnRules = new ArrayList<>();
    List<Integer> types = new ArrayList<>();
    if (copyStatement.query().isPresent()) {
      int count = lineage == null ? 0 : lineage.size();
      for (int i = 0; i < count; i++) {
        columnRules.add(decisions().derived(i, count, origin, lineage));
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
      // COPY of a whole table sends its columns in order, without dropped or generated ones.
      List<String> names = new ArrayList<>(copyStatement.columns());
      if (names.isEmpty()) {
        for (int number = 1; number <= relation.columns().size(); number++) {
          if (relation.column(number) != null && !relation.generated().contains(number)) {
            names.add(relation.column(number));
          }
        }
      }
      for (String name : names) {
        columnRules.add(decisions().ruleForColumn(relation.schema(), relation.name(), name));
        types.add(relation.type(relation.columns().indexOf(name) + 1));
      }
    }
    return new CopyMasking(CopyRows.forStatement(copyStatement), columnRules, types, null, values);
  }

  private ColumnRule unknownRule(Origin origin) {
    return origin.touched().isEmpty() ? null : origin.touched().get(0);
  }

  /**
   * The table a COPY names; an unqualified name only when no other schema has a table of that name
   * and the session kept the default search path. Null when it cannot be told.
   */
  private Relation copyTable(CopyStatement statement) {
    Relations relations = relations();
    String table = statement.table().orElseThrow();
    if (statement.schema().isPresent()) {
      return relations.named(statement.schema().get(), table);
    }
    List<Relation> candidates = relations.allNamed(table);
    return candidates.size() == 1 && searchPathChanges == 0 ? candidates.get(0) : null;
  }

  // ------------------------------------------------------------------ conversation state

  /**
   * Built-in functions whose results come from SQL given as text, from settings or large objects
   * written earlier, or from files: no plan says where their values came from.
   */
  private static final Set<String> SQL_TEXT_FUNCTIONS =
      Set.of(
          "query_to_xml",
          "query_to_xmlschema",
          "query_to_xml_and_xmlschema",
          "table_to_xml",
          "table_to_xmlschema",
          "table_to_xml_and_xmlschema",
          "cursor_to_xml",
          "cursor_to_xmlschema",
          "schema_to_xml",
          "schema_to_xmlschema",
          "schema_to_xml_and_xmlschema",
          "database_to_xml",
          "database_to_xmlschema",
          "database_to_xml_and_xmlschema",
          "ts_stat",
          "ts_rewrite",
          "current_setting",
          "set_config",
          "lo_get",
          "loread",
          "lo_export",
          "pg_read_file",
          "pg_read_binary_file",
          "dblink");

  private static final class Prepared {
    final String sql;
    final boolean mayNameOrForget;
    int parameterCount;
    ResultShape shape;

    /** {@link #searchPathChanges} when {@link #shape} was described. */
    int describedAt;

    Prepared(String sql, int parameterCount) {
      this.sql = sql;
      this.mayNameOrForget = ResultMasker.mayNameOrForget(sql);
      this.parameterCount = parameterCount;
    }
  }

  /** A portal: its statement as it was when bound, whatever the name is used for since. */
  private static final class Portal {
    final Prepared prepared;
    final short[] formats;
    final long journaled;
    ResultShape shape;
    int describedAt;
    ResultRecord result;

    Portal(Prepared prepared, short[] formats, long journaled) {
      this.prepared = prepared;
      this.formats = formats;
      this.journaled = journaled;
    }

    /**
     * Its columns as described, or null if unknown or described before the search_path changed (the
     * same name may now be another table's column).
     *
     * @param searchPathChanges when the Execute was sent
     */
    ResultShape shapeAt(int searchPathChanges) {
      if (shape != null) {
        return describedAt == searchPathChanges ? shape : null;
      }
      return prepared == null || prepared.describedAt != searchPathChanges ? null : prepared.shape;
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

    /**
     * @param journaled the statement's number in the journal, 0 if it has none
     */
    record Bind(String portal, String statement, short[] resultFormats, long journaled)
        implements Expected {}

    /**
     * @param searchPathChanges {@link ResultMasker#searchPathChanges} when it was sent
     */
    record Describe(boolean statement, String name, int searchPathChanges) implements Expected {}

    /**
     * @param searchPathChanges {@link ResultMasker#searchPathChanges} when it was sent
     */
    record Execute(String portal, int searchPathChanges) implements Expected {}

    record Close(boolean statement, String name) implements Expected {}

    record Sync() implements Expected {}

    record FunctionCall() implements Expected {}
  }

  /** A simple query: its statements answer one after another. */
  private static final class SimpleQuery implements Expected {
    final String sql;
    final long journaled;
    List<StatementAnalysis> analyses;
    int completed;
    ResultRecord result;

    SimpleQuery(String sql, long journaled) {
      this.sql = sql;
      this.journaled = journaled;
    }
  }
}
