package io.portcullis.node.policy;

import io.portcullis.node.approval.Approvals;
import io.portcullis.node.audit.AuditLog;
import io.portcullis.node.audit.CopyDataRecorder;
import io.portcullis.node.audit.SessionMdc;
import io.portcullis.persistence.approval.Approval;
import io.portcullis.persistence.approval.ApprovalRequest;
import io.portcullis.persistence.approval.ApprovalStatus;
import io.portcullis.persistence.audit.ClientDataSeal;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionEvent.CopyDataReceived;
import io.portcullis.policy.catalog.CatalogDependencies;
import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.masking.CopyGuard;
import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.masking.PredicateGuard;
import io.portcullis.policy.rules.ApprovalTerms;
import io.portcullis.policy.rules.Decision;
import io.portcullis.policy.rules.Policy;
import io.portcullis.policy.rules.Rule;
import io.portcullis.policy.rules.StatementContext;
import io.portcullis.policy.rules.Verdict;
import io.portcullis.policy.sql.LexedStatement;
import io.portcullis.policy.sql.RiskSignal;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.SqlLexer;
import io.portcullis.policy.sql.SqlSyntaxException;
import io.portcullis.policy.sql.StatementAnalysis;
import io.portcullis.policy.sql.StatementKind;
import io.portcullis.policy.sql.Token;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.BackendMessage.NoticeResponse;
import io.portcullis.protocol.Field;
import io.portcullis.protocol.FrontendMessage;
import io.portcullis.protocol.FrontendMessage.Bind;
import io.portcullis.protocol.FrontendMessage.Close;
import io.portcullis.protocol.FrontendMessage.CopyFail;
import io.portcullis.protocol.FrontendMessage.FunctionCall;
import io.portcullis.protocol.FrontendMessage.Parse;
import io.portcullis.protocol.FrontendMessage.Query;
import io.portcullis.protocol.WireMessage.CopyData;
import io.portcullis.protocol.WireMessage.CopyDone;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy of one session: judges each statement-bearing client message (Query, Parse,
 * FunctionCall, and Bind of a statement that needs approval) under the policy in force, with what
 * the session has established so far (its prepared statements, {@code application_name}, {@code
 * standard_conforming_strings}, approved grants). Plain Java, called by {@code PolicyStage} on the
 * session's event loop.
 */
public final class SessionPolicy {

  private static final Logger log = LoggerFactory.getLogger(SessionPolicy.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String sessionId;
  private final Supplier<Policy> policy;
  private final SqlAnalyzer analyzer;
  private final Approvals approvals;
  private final TargetCatalogs catalogs;
  private final Identity identity;
  private final String target;
  private final InetAddress clientAddress;
  private final Map<String, StatementAnalysis> prepared = new HashMap<>();

  /**
   * Extended-protocol statements that need approval, by name. Parsing runs nothing, so they are
   * parsed at once and approval is asked at each Bind, where the approver can see the values.
   */
  private final Map<String, Parsed> reviewed = new HashMap<>();

  /** Until when a just-in-time grant lets this identity run a rule's statements, by rule ids. */
  private final Map<List<String>, Instant> grants = new HashMap<>();

  /** Row limits of allowed extended-protocol statements, by name, for the portals bound to them. */
  private final Map<String, RowLimits.Limit> limited = new HashMap<>();

  /** Statements prepared over the extended protocol, by name: what their Binds run. */
  private final Map<String, Parsed> judged = new HashMap<>();

  /** How a fast-path function call is recorded: this, then the function's OID. */
  private static final String FUNCTION_CALL = "fast-path call of function ";

  /** What the journal must hold before the message just judged may go on. */
  private final List<SessionEvent> journalEntries = new ArrayList<>();

  private final UnaryOperator<String> displayMask;
  private final ClientDataSeal seal;
  private final CopyDataRecorder copyData;

  /**
   * Text that no PostgreSQL accepts, unique to the session, so that the upstream's error for it
   * cannot be confused with the error of any real statement.
   */
  private final String refusalMarker =
      "PORTCULLIS_REFUSED_" + HexFormat.of().toHexDigits(RANDOM.nextLong());

  /** The policy the last statement was judged under; null before the first. */
  private Policy judgedUnder;

  private String applicationName = "";
  private boolean catalogChanging;
  private Policy maskingPolicy;
  private SessionMasking masking;
  private long statements;
  private boolean standardConformingStrings = true;
  private String clientEncoding = "UTF8";

  /**
   * Whether messages sent upstream may not have completed: one of them may have changed {@code
   * standard_conforming_strings}, which the upstream reports only once it has.
   */
  private boolean upstreamBusy;

  public SessionPolicy(
      String sessionId,
      Supplier<Policy> policy,
      SqlAnalyzer analyzer,
      Approvals approvals,
      TargetCatalogs catalogs,
      Identity identity,
      String target,
      InetAddress clientAddress,
      UnaryOperator<String> displayMask,
      ClientDataSeal seal) {
    this.sessionId = sessionId;
    this.displayMask = displayMask;
    this.seal = seal;
    this.copyData = new CopyDataRecorder(sessionId, seal);
    this.policy = policy;
    this.analyzer = analyzer;
    this.approvals = approvals;
    this.catalogs = catalogs;
    this.identity = identity;
    this.target = target;
    this.clientAddress = clientAddress;
  }

  /** The upstream reported a setting, at login or when it changed. */
  public void parameterChanged(String name, String value) {
    if (name.equals("application_name")) {
      applicationName = value;
    } else if (name.equals("standard_conforming_strings")) {
      standardConformingStrings = value.equals("on");
    } else if (name.equals("client_encoding")) {
      clientEncoding = value;
    }
  }

  /**
   * The policy the session's last statement was judged under (the one in force, before any).
   * Results are masked under it, so that a statement is masked under the version its decision names
   * even when a new version comes into force while it runs.
   */
  public Policy inForce() {
    return judgedUnder != null ? judgedUnder : policy.get();
  }

  /** Whether messages sent upstream may still be running when the next one is judged. */
  public void upstreamBusy(boolean busy) {
    upstreamBusy = busy;
  }

  /**
   * The upstream is ready for the next statement: DDL sent since the last time is committed once
   * the session is idle, and views and functions are then read anew.
   */
  public void readyForQuery(char transactionStatus) {
    if (catalogChanging && transactionStatus == 'I') {
      catalogChanging = false;
      catalogs.changed(target);
    }
  }

  /** Whether an upstream error is the one caused by a refusal's replacement statement. */
  public boolean isRefusalError(ErrorResponse error) {
    String message = error.message();
    return message != null && message.contains(refusalMarker);
  }

  /**
   * Judges a message; a failure of the analysis or the policy itself refuses the statement (fail
   * closed) rather than letting it through or ending the session.
   */
  public Judgement judge(FrontendMessage message) {
    return judge(message, Instant.now());
  }

  /**
   * Judges a message as if it arrived at {@code at}: how the journal's statements are judged again
   * (conformance, what-if), at the times they were recorded.
   */
  public Judgement judge(FrontendMessage message, Instant at) {
    try {
      return judgeOrFail(message, at);
    } catch (RuntimeException e) {
      SessionMdc.run(
          sessionId, () -> log.error("policy evaluation failed; the statement is refused", e));
      ErrorResponse error =
          ErrorResponse.error(
              "XX000",
              "the gateway could not evaluate its policy for this statement, so it is refused;"
                  + " the gateway log has details");
      return new Judgement.Refuse(replacementFor(message), error);
    }
  }

  public Approvals approvals() {
    return approvals;
  }

  public String sessionId() {
    return sessionId;
  }

  private Judgement judgeOrFail(FrontendMessage message, Instant at) {
    if (message instanceof Query query) {
      return judge(message, query.sql(), analyze(query.sql()), at);
    }
    if (message instanceof Parse parse) {
      reviewed.remove(parse.name());
      limited.remove(parse.name());
      judged.remove(parse.name());
      return judge(message, parse.sql(), analyze(parse.sql()), at);
    }
    if (message instanceof Bind bind && reviewed.containsKey(bind.statement())) {
      Parsed statement = reviewed.get(bind.statement());
      List<String> values =
          BoundValues.display(
              statement.parameterTypes(), bind.parameterFormats(), bind.parameters());
      Judgement hold = hold(message, statement.text(), values, statement.verdict());
      journal(bind, statement.text(), values, statement.verdict(), statement.tables(), hold);
      return hold;
    }
    if (message instanceof Bind bind) {
      Parsed statement = judged.get(bind.statement());
      if (statement != null) {
        journal(
            bind,
            statement.text(),
            BoundValues.display(
                statement.parameterTypes(), bind.parameterFormats(), bind.parameters()),
            statement.verdict(),
            statement.tables(),
            null);
      }
      return new Judgement.Forward(Optional.ofNullable(limited.get(bind.statement())));
    }
    if (message instanceof Close close && close.target() == 'S') {
      reviewed.remove(close.name());
      limited.remove(close.name());
      judged.remove(close.name());
      return Judgement.Forward.unlimited();
    }
    if (message instanceof CopyData data) {
      // COPY data belongs to the last statement sent: PostgreSQL ignores it outside a COPY.
      journalEntries.addAll(copyData.data(statements, data.data()));
      return Judgement.Forward.unlimited();
    }
    if (message == CopyDone.INSTANCE || message instanceof CopyFail) {
      journalEntries.addAll(
          copyData.end(
              statements,
              message instanceof CopyFail ? CopyDataReceived.FAILED : CopyDataReceived.DONE));
      return Judgement.Forward.unlimited();
    }
    if (message instanceof FunctionCall call) {
      String text = FUNCTION_CALL + call.functionOid();
      return judge(
          message, text, List.of(StatementAnalysis.of(text, StatementKind.FUNCTION_CALL)), at);
    }
    return Judgement.Forward.unlimited();
  }

  /**
   * The statements of {@code sql} as the upstream will read them. While earlier messages may still
   * be running, the upstream may read strings under either setting of {@code
   * standard_conforming_strings}: a text whose tokens differ between the two is then unparsed.
   */
  private List<StatementAnalysis> analyze(String sql) {
    if (upstreamBusy && sql.indexOf('\\') >= 0 && !lexesAlikeUnderBothSettings(sql)) {
      return List.of(
          StatementAnalysis.unparsed(
              sql,
              "its strings read differently with standard_conforming_strings on and off, and a"
                  + " statement sent before it, still running, may change that setting; send it"
                  + " once the statements before it have completed"));
    }
    // Every client_encoding reads ASCII as ASCII, but in some (SJIS, BIG5, GBK, …) a byte of a
    // UTF-8 character and a backslash after it make one character, and a quote ends the string.
    if (!isUtf8(clientEncoding) && !sql.chars().allMatch(c -> c < 0x80)) {
      return List.of(
          StatementAnalysis.unparsed(
              sql,
              "the session's client_encoding is "
                  + clientEncoding
                  + ", and the gateway reads statements as UTF-8: outside ASCII, it cannot tell"
                  + " how the server reads this one; SET client_encoding = 'UTF8'"));
    }
    List<StatementAnalysis> statements = analyzer.analyze(sql, standardConformingStrings);
    return statements.stream()
        .map(
            statement ->
                setsOtherClientEncoding(statement)
                    ? StatementAnalysis.unparsed(
                        statement.text(),
                        "the gateway reads statements as UTF-8, so client_encoding can only be"
                            + " UTF8")
                    : statement)
        .toList();
  }

  /** {@code SET client_encoding} or {@code SET NAMES} to anything but UTF-8 or the default. */
  private boolean setsOtherClientEncoding(StatementAnalysis statement) {
    if (!statement.kinds().contains(StatementKind.SET)
        || !statement.setting().equals(Optional.of("client_encoding"))) {
      return false;
    }
    List<Token> tokens;
    try {
      tokens = SqlLexer.split(statement.text(), standardConformingStrings).get(0).tokens();
    } catch (SqlSyntaxException e) {
      return true;
    }
    if (tokens.get(0).isWord("reset")) {
      return false;
    }
    int value = 1;
    while (value < tokens.size()
        && !(tokens.get(value).isName()
            && (tokens.get(value).value().equalsIgnoreCase("client_encoding")
                || tokens.get(value).value().equalsIgnoreCase("names")))) {
      value++;
    }
    value++;
    if (value < tokens.size() && (tokens.get(value).isWord("to") || isEquals(tokens.get(value)))) {
      value++;
    }
    if (value == tokens.size()) {
      return false;
    }
    return value != tokens.size() - 1
        || !(tokens.get(value).isWord("default") || isUtf8(tokens.get(value).value()));
  }

  private static boolean isEquals(Token token) {
    return token.type() == Token.Type.OPERATOR && token.value().equals("=");
  }

  /** How PostgreSQL names an encoding: letters and digits, in any case. */
  private static boolean isUtf8(String encoding) {
    String name = encoding.replaceAll("[^A-Za-z0-9]", "").toLowerCase(java.util.Locale.ROOT);
    return name.equals("utf8") || name.equals("unicode");
  }

  private static boolean lexesAlikeUnderBothSettings(String sql) {
    try {
      return tokens(SqlLexer.split(sql, true)).equals(tokens(SqlLexer.split(sql, false)));
    } catch (SqlSyntaxException e) {
      return false;
    }
  }

  private static List<List<Token>> tokens(List<LexedStatement> statements) {
    return statements.stream().map(LexedStatement::tokens).toList();
  }

  private Judgement judge(
      FrontendMessage message, String text, List<StatementAnalysis> statements, Instant now) {
    if (statements.isEmpty()) {
      return Judgement.Forward.unlimited();
    }
    Policy current = policy.get();
    judgedUnder = current;
    StatementContext context =
        new StatementContext(identity, target, clientAddress, applicationName, now);
    Optional<CatalogDependencies> catalog =
        catalogs.current(target).map(TargetCatalog::dependencies);
    if (catalog.isEmpty() && statements.stream().anyMatch(SessionPolicy::namesObjects)) {
      Verdict unknown =
          new Verdict(
              Decision.DENY,
              List.of(),
              "the target's catalog has not been read yet",
              current.version(),
              OptionalLong.empty(),
              Optional.empty());
      journal(message, text, List.of(), unknown, List.of(), null);
      return new Judgement.Refuse(replacementFor(message), catalogUnknown());
    }
    List<StatementAnalysis> resolved = new ArrayList<>(statements.size());
    for (StatementAnalysis statement : statements) {
      StatementAnalysis prepared = resolvePrepared(statement);
      resolved.add(catalog.isPresent() ? catalog.get().expand(prepared) : prepared);
    }
    Verdict verdict =
        inferenceGuarded(current, current.evaluateAll(context, resolved), resolved, catalog);
    record(resolved, verdict, now);
    List<String> tables = tables(resolved);
    Judgement judgement = judged(message, text, resolved, verdict, tables, current, context);
    if (message instanceof Parse parse && verdict.decision() == Decision.ALLOW) {
      // Recorded when bound: with its values, and only if it runs.
      judged.put(parse.name(), new Parsed(text, parse.parameterTypes(), verdict, tables));
    } else {
      List<String> arguments =
          message instanceof FunctionCall call
              ? BoundValues.display(new int[0], call.argumentFormats(), call.arguments())
              : List.of();
      journal(message, text, arguments, verdict, tables, judgement);
    }
    return judgement;
  }

  /**
   * Whether statements can change no data: plain SELECTs that call no function (a function may
   * write) and read no server-side files.
   */
  private static boolean readsOnly(List<StatementAnalysis> statements) {
    for (StatementAnalysis statement : statements) {
      if (!statement.kinds().equals(Set.of(StatementKind.SELECT))
          || !statement.tablesWritten().isEmpty()
          || !statement.functions().isEmpty()
          || statement.unparsedReason().isPresent()
          || statement.signals().contains(RiskSignal.WRITES_IN_READ)
          || statement.signals().contains(RiskSignal.SERVER_SIDE_IO)) {
        return false;
      }
    }
    return true;
  }

  private static List<String> tables(List<StatementAnalysis> statements) {
    Set<String> tables = new TreeSet<>();
    for (StatementAnalysis statement : statements) {
      tables.addAll(statement.tablesRead());
      tables.addAll(statement.tablesWritten());
    }
    return List.copyOf(tables);
  }

  private Judgement judged(
      FrontendMessage message,
      String text,
      List<StatementAnalysis> resolved,
      Verdict verdict,
      List<String> tables,
      Policy current,
      StatementContext context) {
    if (verdict.decision() == Decision.DENY) {
      return new Judgement.Refuse(replacementFor(message), refusal(verdict, current));
    }
    for (StatementAnalysis statement : resolved) {
      preparedName(statement).ifPresent(name -> prepared.put(name, statement));
      catalogChanging |= statement.kinds().contains(StatementKind.DDL);
    }
    if (verdict.decision() == Decision.ALLOW) {
      Optional<RowLimits.Limit> limit = rowLimit(current, context, resolved);
      // A statement made by SQL PREPARE can be bound over the extended protocol as well.
      for (StatementAnalysis statement : resolved) {
        preparedName(statement).ifPresent(name -> limitStatement(name, limit));
      }
      if (message instanceof Parse parse) {
        limitStatement(parse.name(), limit);
        return Judgement.Forward.unlimited();
      }
      if (message instanceof Query && readsOnly(resolved)) {
        return new Judgement.ForwardRead(limit);
      }
      return new Judgement.Forward(limit);
    }
    // Once approved, a SQL PREPARE leaves a statement that Binds can run: each asks again, as an
    // EXECUTE of it does.
    for (StatementAnalysis statement : resolved) {
      preparedName(statement)
          .ifPresent(
              name ->
                  reviewed.put(
                      name,
                      new Parsed(
                          statement.text(), new int[0], verdict, tables(List.of(statement)))));
    }
    if (message instanceof Parse parse) {
      reviewed.put(parse.name(), new Parsed(text, parse.parameterTypes(), verdict, tables));
      return Judgement.Forward.unlimited();
    }
    List<String> arguments =
        message instanceof FunctionCall call
            ? BoundValues.display(new int[0], call.argumentFormats(), call.arguments())
            : List.of();
    return hold(message, text, arguments, verdict);
  }

  /**
   * The events the journal must hold before the message just judged may go on (a statement and what
   * was decided about it); empty for messages that carry none. Taken once.
   */
  public List<SessionEvent> takeJournalEntries() {
    List<SessionEvent> entries = List.copyOf(journalEntries);
    journalEntries.clear();
    return entries;
  }

  private void journal(
      FrontendMessage message,
      String text,
      List<String> values,
      Verdict verdict,
      List<String> tables,
      Judgement judgement) {
    Instant now = Instant.now();
    long statement = ++statements;
    Optional<String> sealed =
        message instanceof Bind bind
            ? seal.seal(
                sessionId,
                statement,
                sealable(
                    preparedTypes(bind.statement()),
                    bind.parameterFormats(),
                    bind.parameters(),
                    bind.resultFormats()))
            : message instanceof FunctionCall call
                ? seal.seal(
                    sessionId,
                    statement,
                    sealable(
                        new int[0],
                        call.argumentFormats(),
                        call.arguments(),
                        new short[] {call.resultFormat()}))
                : Optional.empty();
    String protocol =
        message instanceof Query
            ? "simple"
            : message instanceof FunctionCall ? "function-call" : "extended";
    String statementName =
        message instanceof Parse parse
            ? parse.name()
            : message instanceof Bind bind ? bind.statement() : "";
    String portalName = message instanceof Bind bind ? bind.portal() : "";
    journalEntries.add(
        new SessionEvent.StatementReceived(
            SessionEvent.SCHEMA_VERSION,
            now,
            statement,
            text,
            protocol,
            statementName,
            portalName,
            values.stream().map(displayMask).toList(),
            sealed,
            null));
    journalEntries.add(
        new SessionEvent.PolicyDecided(
            SessionEvent.SCHEMA_VERSION,
            now,
            statement,
            verdict.decision().policyName(),
            verdict.ruleIds(),
            verdict.policyVersion(),
            verdict.reason(),
            tables,
            judgement instanceof Judgement.Hold hold
                ? Optional.of(hold.request().entityId())
                : Optional.empty(),
            null));
  }

  private static ClientDataSeal.Values sealable(
      int[] types, short[] formats, byte[][] values, short[] resultFormats) {
    return new ClientDataSeal.Values(
        Arrays.stream(types).boxed().toList(),
        shorts(formats),
        Arrays.asList(values),
        shorts(resultFormats));
  }

  /** The parameter types a prepared statement's Parse declared. */
  private int[] preparedTypes(String name) {
    Parsed statement = judged.containsKey(name) ? judged.get(name) : reviewed.get(name);
    return statement == null ? new int[0] : statement.parameterTypes();
  }

  private static List<Short> shorts(short[] values) {
    List<Short> list = new ArrayList<>(values.length);
    for (short value : values) {
      list.add(value);
    }
    return list;
  }

  /** A statement the policy sends for review waits for approval, unless a grant covers it. */
  private Judgement hold(
      FrontendMessage message, String text, List<String> parameters, Verdict verdict) {
    ApprovalTerms terms = verdict.approval().orElseThrow();
    Instant grantedUntil = grants.get(verdict.ruleIds());
    if (terms.grant().isPresent() && grantedUntil != null && Instant.now().isBefore(grantedUntil)) {
      return Judgement.Forward.unlimited();
    }
    ApprovalRequest request =
        new ApprovalRequest(
            sessionId,
            // The number the journal gives this statement when it records it, just after.
            statements + 1,
            identity,
            target,
            text,
            normalized(text),
            parameters,
            verdict.ruleIds(),
            verdict.reason(),
            verdict.policyVersion(),
            terms);
    return new Judgement.Hold(request, replacementFor(message));
  }

  /**
   * The smallest {@code max-rows} of the rules that allow a message's statements, with the rules
   * that set it. Not the verdict's: that names every allow rule that matched, and carries the limit
   * of one statement only.
   */
  private static Optional<RowLimits.Limit> rowLimit(
      Policy current, StatementContext context, List<StatementAnalysis> statements) {
    long rows = Long.MAX_VALUE;
    List<String> ruleIds = new ArrayList<>();
    for (StatementAnalysis statement : statements) {
      for (Rule rule : current.matching(context, statement)) {
        if (rule.maxRows().isEmpty()) {
          continue;
        }
        long max = rule.maxRows().getAsLong();
        if (max < rows) {
          rows = max;
          ruleIds.clear();
        }
        if (max == rows && !ruleIds.contains(rule.id())) {
          ruleIds.add(rule.id());
        }
      }
    }
    return ruleIds.isEmpty() ? Optional.empty() : Optional.of(new RowLimits.Limit(rows, ruleIds));
  }

  private void limitStatement(String name, Optional<RowLimits.Limit> limit) {
    if (limit.isPresent()) {
      limited.put(name, limit.get());
    } else {
      limited.remove(name);
    }
  }

  /** An approved grant: the rule's statements run without asking again until {@code until}. */
  public void granted(ApprovalRequest request, Instant until) {
    grants.put(request.ruleIds(), until);
  }

  /**
   * What goes upstream instead of a message the gateway refuses on its own account. Refusing a
   * COPY's data fails the copy, so what the client still sends for it is not journaled.
   */
  public FrontendMessage refusalReplacement(FrontendMessage message) {
    if (FrontendMessage.partOfCopy(message)) {
      copyData.abandon();
    }
    return replacementFor(message);
  }

  /** The function a fast-path call's recorded text names; empty for a text it does not. */
  public static OptionalInt calledFunction(String text) {
    if (!text.startsWith(FUNCTION_CALL)) {
      return OptionalInt.empty();
    }
    try {
      return OptionalInt.of(Integer.parseInt(text.substring(FUNCTION_CALL.length())));
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }

  /** Told to a client whose statement could not be journaled, so it did not run. */
  public static ErrorResponse journalUnavailable() {
    return ErrorResponse.error(
        "57P03",
        "the audit journal is unavailable, so the statement was not run; it is accepted again as"
            + " soon as the journal can be written");
  }

  /**
   * A Parse is replaced by a Parse (so the error comes at Parse and the batch is skipped to Sync),
   * a Bind by a Bind of a statement that does not exist (likewise); a Query or FunctionCall by a
   * Query (one error, then ReadyForQuery, as either would give); a COPY's data or end by a
   * CopyFail, which fails the copy with the marker in its error.
   */
  private FrontendMessage replacementFor(FrontendMessage message) {
    if (FrontendMessage.partOfCopy(message)) {
      return new CopyFail(refusalMarker);
    }
    if (message instanceof Parse parse) {
      return new Parse(parse.name(), refusalMarker, new int[0]);
    }
    if (message instanceof Bind bind) {
      return new Bind(bind.portal(), refusalMarker, new short[0], new byte[0][], new short[0]);
    }
    return new Query(refusalMarker);
  }

  private String normalized(String text) {
    try {
      List<String> statements = new ArrayList<>();
      for (LexedStatement statement : SqlLexer.split(text, standardConformingStrings)) {
        statements.add(statement.normalized());
      }
      return String.join("; ", statements);
    } catch (SqlSyntaxException e) {
      return text.strip();
    }
  }

  /** A statement prepared over the extended protocol, judged when it was parsed. */
  private record Parsed(String text, int[] parameterTypes, Verdict verdict, List<String> tables) {}

  /**
   * The name of the statement a SQL PREPARE makes. A DECLARE's analysis carries its cursor's name
   * too, but cursors are another namespace: {@code EXECUTE c} never runs cursor {@code c}.
   */
  private Optional<String> preparedName(StatementAnalysis statement) {
    if (statement.prepared().isEmpty()) {
      return Optional.empty();
    }
    try {
      List<LexedStatement> lexed = SqlLexer.split(statement.text(), standardConformingStrings);
      boolean prepare = !lexed.isEmpty() && lexed.get(0).tokens().get(0).isWord("prepare");
      return prepare ? statement.prepared() : Optional.empty();
    } catch (SqlSyntaxException e) {
      return Optional.empty();
    }
  }

  /** EXECUTE name is judged as the PREPARE of that name was; an unknown name stays unparsed. */
  private StatementAnalysis resolvePrepared(StatementAnalysis statement) {
    if (statement.executes().isPresent()) {
      StatementAnalysis preparedStatement = prepared.get(statement.executes().get());
      if (preparedStatement != null) {
        return new StatementAnalysis(
            statement.text(),
            preparedStatement.kinds(),
            preparedStatement.tablesRead(),
            preparedStatement.tablesWritten(),
            preparedStatement.columns(),
            preparedStatement.functions(),
            Optional.empty(),
            Optional.empty(),
            statement.executes(),
            union(preparedStatement.signals(), statement.signals()),
            Optional.empty());
      }
    }
    return statement;
  }

  private static boolean namesObjects(StatementAnalysis statement) {
    return !statement.tablesRead().isEmpty()
        || !statement.tablesWritten().isEmpty()
        || !statement.functions().isEmpty();
  }

  private ErrorResponse catalogUnknown() {
    return approvalError(
        "57P03",
        "the gateway has not yet read the catalog of target '"
            + target
            + "' (rules on tables also cover the views and functions built on them), so the"
            + " statement was not run; try again shortly",
        "The gateway log says why the catalog could not be read.");
  }

  private static Set<RiskSignal> union(Set<RiskSignal> a, Set<RiskSignal> b) {
    Set<RiskSignal> all = EnumSet.noneOf(RiskSignal.class);
    all.addAll(a);
    all.addAll(b);
    return all;
  }

  /**
   * The verdict, or a denial when the statement filters, joins, groups or sorts on a column that a
   * masking rule protects from inference by the identity's groups ({@link PredicateGuard}).
   */
  private Verdict inferenceGuarded(
      Policy current,
      Verdict verdict,
      List<StatementAnalysis> statements,
      Optional<CatalogDependencies> catalog) {
    if (verdict.decision() == Decision.DENY || current.masking().columns().isEmpty()) {
      return verdict;
    }
    SessionMasking masking = maskingUnder(current);
    for (StatementAnalysis statement : statements) {
      Optional<PredicateGuard.Violation> violation =
          PredicateGuard.violation(masking, identity.groups(), statement, standardConformingStrings)
              .or(
                  () ->
                      CopyGuard.violation(
                          masking,
                          statement,
                          catalog.isPresent() && catalog.get().callsUnreadableFunction(statement),
                          standardConformingStrings));
      if (violation.isPresent()) {
        return new Verdict(
            Decision.DENY,
            List.of(violation.get().ruleId()),
            violation.get().reason(),
            current.version(),
            OptionalLong.empty(),
            Optional.empty());
      }
    }
    return verdict;
  }

  /** The identity's masking rules under a policy, worked out once per policy. */
  private SessionMasking maskingUnder(Policy current) {
    if (current != maskingPolicy) {
      maskingPolicy = current;
      masking = current.masking().forIdentity(identity);
    }
    return masking;
  }

  private static ErrorResponse refusal(Verdict verdict, Policy current) {
    String rules =
        verdict.ruleIds().isEmpty()
            ? "the default decision"
            : "rule " + String.join(", ", verdict.ruleIds());
    return new ErrorResponse(
        List.of(
            new Field(Field.SEVERITY, "ERROR"),
            new Field(Field.SEVERITY_NON_LOCALIZED, "ERROR"),
            new Field(Field.SQLSTATE, "42501"),
            new Field(Field.MESSAGE, "statement denied by policy: " + verdict.reason()),
            new Field(
                Field.DETAIL,
                "Decided by " + rules + " of policy " + current.shortVersion() + ".")));
  }

  /** What the session's journal records of a decided approval, before the statement goes on. */
  public static SessionEvent approvalResolved(ApprovalRequest request, Approval.Outcome outcome) {
    List<Identity> approvers;
    String result;
    String reason;
    if (outcome instanceof Approval.Cleared cleared) {
      approvers = cleared.approvers();
      result = ApprovalStatus.APPROVED.apiName();
      reason = "";
    } else {
      Approval.Refused refused = (Approval.Refused) outcome;
      approvers = refused.by();
      result = refused.status().apiName();
      reason = refused.reason();
    }
    return new SessionEvent.ApprovalResolved(
        SessionEvent.SCHEMA_VERSION,
        Instant.now(),
        request.sessionStatement(),
        outcome.approvalId(),
        result,
        approvers.stream()
            .map(approver -> new SessionEvent.Approver(approver.subject(), approver.issuer()))
            .toList(),
        reason,
        null);
  }

  /** Told at once to a client whose statement waits for approval. */
  public static NoticeResponse held(ApprovalRequest request, Approval.Pending pending) {
    Duration left = Duration.between(Instant.now(), pending.expiresAt());
    String id = pending.approvalId();
    return new NoticeResponse(
        List.of(
            new Field(Field.SEVERITY, "NOTICE"),
            new Field(Field.SEVERITY_NON_LOCALIZED, "NOTICE"),
            new Field(Field.SQLSTATE, "00000"),
            new Field(
                Field.MESSAGE,
                "statement held for approval "
                    + id
                    + ", waiting up to "
                    + ApprovalTerms.describe(left.plusMillis(999).withNanos(0))
                    + ": portcullis approvals show "
                    + id),
            new Field(Field.DETAIL, request.reason() + " (rule " + rules(request) + ")")));
  }

  /** For a rule in retry mode: the request is made, the statement refused until approved. */
  public static ErrorResponse awaitingApproval(ApprovalRequest request, Approval.Pending pending) {
    String id = pending.approvalId();
    return approvalError(
        "42501",
        "statement needs approval "
            + id
            + ": "
            + request.reason()
            + "; once it is approved, run the identical statement again",
        "Requested under rule " + rules(request) + "; see: portcullis approvals show " + id);
  }

  public static ErrorResponse refused(ApprovalRequest request, Approval.Refused refused) {
    String id = refused.approvalId();
    String what;
    if (refused.status() == ApprovalStatus.DENIED) {
      what =
          "was denied by "
              + refused.by().stream().map(Identity::subject).findFirst().orElse("an approver")
              + ": "
              + refused.reason();
    } else {
      what = "was not granted: " + refused.reason();
    }
    return approvalError(
        "42501",
        "statement refused: approval " + id + " " + what,
        "Requested under rule " + rules(request) + "; see: portcullis approvals show " + id);
  }

  public static ErrorResponse approvalsUnavailable() {
    return approvalError(
        "57P03",
        "the statement needs approval, but the gateway's approvals cannot be reached right now,"
            + " so it was not run; try again shortly",
        "The gateway log has details.");
  }

  private static String rules(ApprovalRequest request) {
    return String.join(", ", request.ruleIds());
  }

  private static ErrorResponse approvalError(String sqlState, String message, String detail) {
    return new ErrorResponse(
        List.of(
            new Field(Field.SEVERITY, "ERROR"),
            new Field(Field.SEVERITY_NON_LOCALIZED, "ERROR"),
            new Field(Field.SQLSTATE, sqlState),
            new Field(Field.MESSAGE, message),
            new Field(Field.DETAIL, detail)));
  }

  private void record(List<StatementAnalysis> statements, Verdict verdict, Instant at) {
    if (!AuditLog.recordsDecision(verdict.decision())) {
      return;
    }
    List<String> kinds = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    for (StatementAnalysis statement : statements) {
      statement.kinds().forEach(kind -> kinds.add(kind.policyName()));
      texts.add(statement.text());
    }
    DecisionEvent event =
        new DecisionEvent(
            at,
            identity.subject(),
            identity.issuer(),
            target,
            verdict.decision().policyName(),
            verdict.ruleIds(),
            verdict.policyVersion(),
            kinds,
            verdict.reason(),
            texts);
    SessionMdc.run(sessionId, () -> AuditLog.decision(event));
  }
}
