package io.portcullis.node.policy;

import io.portcullis.node.audit.AuditLog;
import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.rules.Decision;
import io.portcullis.policy.rules.Policy;
import io.portcullis.policy.rules.StatementContext;
import io.portcullis.policy.rules.Verdict;
import io.portcullis.policy.sql.RiskSignal;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.StatementAnalysis;
import io.portcullis.policy.sql.StatementKind;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.Field;
import io.portcullis.protocol.FrontendMessage;
import io.portcullis.protocol.FrontendMessage.FunctionCall;
import io.portcullis.protocol.FrontendMessage.Parse;
import io.portcullis.protocol.FrontendMessage.Query;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy of one session: judges each statement-bearing client message (Query, Parse,
 * FunctionCall) under the policy in force, with what the session has established so far (its
 * SQL-level prepared statements, {@code application_name}, {@code standard_conforming_strings}).
 * Plain Java, called by {@code PolicyStage} on the session's event loop.
 */
public final class SessionPolicy {

  private static final Logger log = LoggerFactory.getLogger(SessionPolicy.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Supplier<Policy> policy;
  private final SqlAnalyzer analyzer;
  private final Identity identity;
  private final String target;
  private final InetAddress clientAddress;
  private final Map<String, StatementAnalysis> prepared = new HashMap<>();

  /**
   * Text that no PostgreSQL accepts, unique to the session, so that the upstream's error for it
   * cannot be confused with the error of any real statement.
   */
  private final String refusalMarker =
      "PORTCULLIS_REFUSED_" + HexFormat.of().toHexDigits(RANDOM.nextLong());

  private String applicationName = "";
  private boolean standardConformingStrings = true;

  public SessionPolicy(
      Supplier<Policy> policy,
      SqlAnalyzer analyzer,
      Identity identity,
      String target,
      InetAddress clientAddress) {
    this.policy = policy;
    this.analyzer = analyzer;
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
    try {
      return judgeOrFail(message);
    } catch (RuntimeException e) {
      log.error("policy evaluation failed; the statement is refused", e);
      ErrorResponse error =
          ErrorResponse.error(
              "XX000",
              "the gateway could not evaluate its policy for this statement, so it is refused;"
                  + " the gateway log has details");
      return new Judgement.Refuse(replacementFor(message), error);
    }
  }

  private Judgement judgeOrFail(FrontendMessage message) {
    if (message instanceof Query query) {
      return judge(message, analyzer.analyze(query.sql(), standardConformingStrings));
    }
    if (message instanceof Parse parse) {
      return judge(message, analyzer.analyze(parse.sql(), standardConformingStrings));
    }
    if (message instanceof FunctionCall call) {
      return judge(
          message,
          List.of(
              StatementAnalysis.of(
                  "fast-path call of function " + call.functionOid(),
                  StatementKind.FUNCTION_CALL)));
    }
    return new Judgement.Forward();
  }

  private Judgement judge(FrontendMessage message, List<StatementAnalysis> statements) {
    if (statements.isEmpty()) {
      return new Judgement.Forward();
    }
    Policy current = policy.get();
    Instant now = Instant.now();
    StatementContext context =
        new StatementContext(identity, target, clientAddress, applicationName, now);
    List<StatementAnalysis> resolved = new ArrayList<>(statements.size());
    for (StatementAnalysis statement : statements) {
      resolved.add(resolvePrepared(statement));
    }
    Verdict verdict = current.evaluateAll(context, resolved);
    record(resolved, verdict, now);
    if (verdict.decision() == Decision.ALLOW) {
      for (StatementAnalysis statement : resolved) {
        statement.prepared().ifPresent(name -> prepared.put(name, statement));
      }
      return new Judgement.Forward();
    }
    return new Judgement.Refuse(replacementFor(message), refusal(verdict, current));
  }

  /**
   * A Parse is replaced by a Parse (so the error comes at Parse and the batch is skipped to Sync);
   * a Query or FunctionCall by a Query (one error, then ReadyForQuery, as either would give).
   */
  private FrontendMessage replacementFor(FrontendMessage message) {
    return message instanceof Parse parse
        ? new Parse(parse.name(), refusalMarker, new int[0])
        : new Query(refusalMarker);
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

  private static Set<RiskSignal> union(Set<RiskSignal> a, Set<RiskSignal> b) {
    Set<RiskSignal> all = EnumSet.noneOf(RiskSignal.class);
    all.addAll(a);
    all.addAll(b);
    return all;
  }

  private ErrorResponse refusal(Verdict verdict, Policy current) {
    String message =
        verdict.decision() == Decision.REVIEW
            ? "statement needs approval: "
                + verdict.reason()
                + "; approvals are not available on this gateway yet, so it is refused"
            : "statement denied by policy: " + verdict.reason();
    String rules =
        verdict.ruleIds().isEmpty()
            ? "the default decision"
            : "rule " + String.join(", ", verdict.ruleIds());
    return new ErrorResponse(
        List.of(
            new Field(Field.SEVERITY, "ERROR"),
            new Field(Field.SEVERITY_NON_LOCALIZED, "ERROR"),
            new Field(Field.SQLSTATE, "42501"),
            new Field(Field.MESSAGE, message),
            new Field(
                Field.DETAIL,
                "Decided by " + rules + " of policy " + current.shortVersion() + ".")));
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
    AuditLog.decision(
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
            texts));
  }
}
