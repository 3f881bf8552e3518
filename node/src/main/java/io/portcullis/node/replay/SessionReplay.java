package io.portcullis.node.replay;

import io.portcullis.node.audit.Completions;
import io.portcullis.node.audit.ResultRecord;
import io.portcullis.node.masking.ColumnLineage;
import io.portcullis.node.masking.LineageRequest;
import io.portcullis.node.masking.LineageSource;
import io.portcullis.node.masking.ResultMasker;
import io.portcullis.node.policy.TargetCatalog;
import io.portcullis.node.replay.ReplayedStatement.Result;
import io.portcullis.node.replay.SandboxConnection.SandboxException;
import io.portcullis.persistence.audit.ParameterSeal;
import io.portcullis.persistence.audit.RecordedSession;
import io.portcullis.persistence.audit.RecordedSession.RecordedStatement;
import io.portcullis.persistence.audit.SessionEvent.StatementCompleted;
import io.portcullis.persistence.audit.SessionEvent.StatementReceived;
import io.portcullis.policy.catalog.Relations;
import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.masking.ValueMasker;
import io.portcullis.policy.rules.Policy;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.StatementAnalysis;
import io.portcullis.policy.sql.StatementKind;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.FrontendMessage;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Runs a recorded session's statements again, in order and each by its original protocol path,
 * against a sandbox, and compares what each returns with what the journal holds. The results pass
 * through the gateway's own {@link ResultMasker}, under the masking rules of the policy version
 * that was in force and with the gateway's masking key, into the same {@link ResultRecord} that
 * made the recorded digest: equal digests mean the client would have received the same rows.
 *
 * <p>Unless told to commit, the replay runs in one transaction that is rolled back. A statement
 * that failed when recorded runs behind a savepoint, so that the rest go on as they did; one that
 * fails only now aborts the transaction, and the statements after it are reported as not run.
 */
public final class SessionReplay {

  private static final String SAVEPOINT = "portcullis_replay";
  private static final String COPY_FAIL = "portcullis replay: the journal does not keep COPY data";

  private final SandboxConnection sandbox;
  private final Supplier<Optional<TargetCatalog>> catalog;
  private final LineageSource lineages;
  private final SqlAnalyzer analyzer;
  private final ValueMasker masker;
  private final ParameterSeal seal;
  private final boolean commit;

  /**
   * @param catalog the sandbox's catalog, for masking
   * @param lineages plans statements on the sandbox, for masking computed columns
   * @param masker holds the gateway's masking key
   * @param seal opens sealed parameter values
   * @param commit run as recorded, committing, instead of in one rolled-back transaction
   */
  public SessionReplay(
      SandboxConnection sandbox,
      Supplier<Optional<TargetCatalog>> catalog,
      LineageSource lineages,
      SqlAnalyzer analyzer,
      ValueMasker masker,
      ParameterSeal seal,
      boolean commit) {
    this.sandbox = sandbox;
    this.catalog = catalog;
    this.lineages = lineages;
    this.analyzer = analyzer;
    this.masker = masker;
    this.seal = seal;
    this.commit = commit;
  }

  /**
   * The tables the session's statements name, up to its first DDL, that the sandbox lacks: a
   * sandbox without them does not have the recorded target's schema.
   */
  public static Set<String> missingTables(
      RecordedSession session, Relations relations, SqlAnalyzer analyzer) {
    Set<String> missing = new LinkedHashSet<>();
    for (RecordedStatement statement : session.statements()) {
      if (analyzer.analyze(statement.received().sql(), true).stream()
          .anyMatch(analysis -> analysis.kinds().contains(StatementKind.DDL))) {
        break;
      }
      if (statement.decided() == null) {
        continue;
      }
      for (String table : statement.decided().tables()) {
        int dot = table.lastIndexOf('.');
        boolean present =
            dot < 0
                ? !relations.allNamed(table).isEmpty()
                : relations.named(table.substring(0, dot), table.substring(dot + 1)) != null;
        if (!present) {
          missing.add(table);
        }
      }
    }
    return missing;
  }

  /** Replays the session's statements; the sandbox is left as it was unless committing. */
  public List<ReplayedStatement> replay(RecordedSession session, Policy policy)
      throws SandboxException {
    Replayed completions = new Replayed();
    SessionMasking masking = policy.masking().forIdentity(session.identity());
    ResultMasker results = new ResultMasker(() -> masking, catalog, analyzer, masker, completions);
    List<ReplayedStatement> replayed = new ArrayList<>(session.statements().size());
    if (!commit) {
      control("BEGIN");
    }
    long abortedBy = 0;
    for (RecordedStatement statement : session.statements()) {
      StatementReceived received = statement.received();
      if (!statement.ran()) {
        replayed.add(outcome(received, Result.DENIED, List.of(), refusal(statement)));
        continue;
      }
      if (abortedBy != 0) {
        replayed.add(
            outcome(
                received,
                Result.NOT_REPLAYABLE,
                List.of(),
                "not run: statement "
                    + abortedBy
                    + " failed where the recording did not, and aborted the replay's transaction"));
        continue;
      }
      if (!commit && controlsTransactions(received.sql())) {
        replayed.add(
            outcome(
                received,
                Result.SKIPPED,
                List.of(),
                "transaction control: the replay runs in one transaction of its own"));
        continue;
      }
      List<FrontendMessage> messages = new ArrayList<>();
      Optional<String> unreplayable = messages(session, received, messages);
      if (unreplayable.isPresent()) {
        replayed.add(outcome(received, Result.NOT_REPLAYABLE, List.of(), unreplayable.get()));
        continue;
      }
      // Only a statement that failed when recorded runs behind a savepoint, so that the replay goes
      // on after it: thousands of savepoints would slow every statement of the transaction down.
      boolean savepoint =
          !commit && statement.completions().stream().anyMatch(c -> c.sqlState().isPresent());
      if (savepoint) {
        sandbox.send(new FrontendMessage.Query("SAVEPOINT " + SAVEPOINT));
      }
      completions.start(received.statement());
      messages.forEach(results::onFrontend);
      sandbox.send(messages.toArray(FrontendMessage[]::new));
      if (savepoint) {
        awaitReady();
      }
      char status = run(results, completions);
      if (savepoint) {
        control(
            (status == 'E' ? "ROLLBACK TO SAVEPOINT " + SAVEPOINT + "; " : "")
                + "RELEASE SAVEPOINT "
                + SAVEPOINT);
      } else if (!commit && status == 'E') {
        abortedBy = received.statement();
      } else if (!commit && status == 'I') {
        throw new SandboxException(
            "statement "
                + received.statement()
                + " ended the replay's transaction; the replay stopped");
      }
      if (completions.copyRefused) {
        replayed.add(
            outcome(
                received,
                Result.NOT_REPLAYABLE,
                List.of(),
                "COPY ... FROM STDIN: the journal does not keep the rows the client sent"));
        continue;
      }
      List<String> differences = differences(statement.completions(), completions.results);
      replayed.add(
          outcome(
              received,
              differences.isEmpty() ? Result.IDENTICAL : Result.DIFFERS,
              differences,
              ""));
    }
    if (!commit) {
      control("ROLLBACK");
    }
    return replayed;
  }

  /** The messages that run the statement as recorded; or why it cannot be. */
  private Optional<String> messages(
      RecordedSession session, StatementReceived received, List<FrontendMessage> messages) {
    if (received.protocol().equals("simple")) {
      messages.add(new FrontendMessage.Query(received.sql()));
      return Optional.empty();
    }
    ParameterSeal.Values values;
    if (received.sealedParameters().isPresent()) {
      try {
        values =
            seal.open(
                session.opened().session(),
                received.statement(),
                received.sealedParameters().get());
      } catch (ParameterSeal.SealException e) {
        return Optional.of("its parameter values cannot be unsealed: " + e.getMessage());
      }
    } else if (!received.parameters().isEmpty()) {
      return Optional.of(
          "its parameter values were not sealed when it was recorded (no sealing key was"
              + " configured)");
    } else {
      values = new ParameterSeal.Values(List.of(), List.of());
    }
    short[] formats = new short[values.formats().size()];
    for (int i = 0; i < formats.length; i++) {
      formats[i] = values.formats().get(i);
    }
    byte[][] parameters = values.values().toArray(byte[][]::new);
    short[] resultFormats = new short[values.resultFormats().size()];
    for (int i = 0; i < resultFormats.length; i++) {
      resultFormats[i] = values.resultFormats().get(i);
    }
    if (received.protocol().equals("function-call")) {
      String oid = received.sql().substring(received.sql().lastIndexOf(' ') + 1);
      messages.add(
          new FrontendMessage.FunctionCall(
              Integer.parseInt(oid),
              formats,
              parameters,
              resultFormats.length == 0 ? 0 : resultFormats[0]));
      return Optional.empty();
    }
    messages.add(new FrontendMessage.Parse("", received.sql(), new int[0]));
    messages.add(new FrontendMessage.Bind("", "", formats, parameters, resultFormats));
    messages.add(new FrontendMessage.Describe('P', ""));
    messages.add(new FrontendMessage.Execute("", 0));
    messages.add(FrontendMessage.Sync.INSTANCE);
    return Optional.empty();
  }

  /** Reads one statement's answer up to ReadyForQuery, through the masker; its status. */
  private char run(ResultMasker results, Replayed completions) throws SandboxException {
    while (true) {
      BackendMessage message = sandbox.next();
      LineageRequest request = results.lineageNeeded(message);
      if (request != null) {
        results.lineageKnown(plan(request));
      }
      results.onBackend(message);
      if (message instanceof BackendMessage.CopyInResponse) {
        completions.copyRefused = true;
        sandbox.send(new FrontendMessage.CopyFail(COPY_FAIL));
      } else if (message instanceof BackendMessage.ReadyForQuery ready) {
        return ready.transactionStatus();
      }
    }
  }

  private List<ColumnLineage> plan(LineageRequest request) {
    return lineages
        .of(request.sql(), request.parameterCount())
        .toCompletableFuture()
        .handle((lineage, failure) -> failure == null ? lineage : null)
        .join();
  }

  /** Runs a statement of the replay's own, outside the masker; fails if it fails. */
  private void control(String sql) throws SandboxException {
    sandbox.send(new FrontendMessage.Query(sql));
    awaitReady();
  }

  private void awaitReady() throws SandboxException {
    while (true) {
      BackendMessage message = sandbox.next();
      if (message instanceof BackendMessage.ErrorResponse error) {
        BackendMessage next;
        do {
          next = sandbox.next();
        } while (!(next instanceof BackendMessage.ReadyForQuery));
        throw new SandboxException(
            "the sandbox refused the replay's own statement: " + error.message());
      }
      if (message instanceof BackendMessage.ReadyForQuery) {
        return;
      }
    }
  }

  private boolean controlsTransactions(String sql) {
    for (StatementAnalysis analysis : analyzer.analyze(sql, true)) {
      if (analysis.kinds().contains(StatementKind.TRANSACTION)) {
        return true;
      }
    }
    return false;
  }

  private static String refusal(RecordedStatement statement) {
    if (statement.decided() == null) {
      return "the journal holds no decision for it";
    }
    return statement
        .approval()
        .map(approval -> "approval " + approval.approvalId() + " " + approval.outcome())
        .orElse(statement.decided().decision() + ": " + statement.decided().reason());
  }

  /** Each field of each result that differs, as {@code field: recorded → replayed}. */
  static List<String> differences(
      List<StatementCompleted> recorded, List<StatementCompleted> replayed) {
    List<String> differences = new ArrayList<>();
    if (recorded.size() != replayed.size()) {
      differences.add("results: " + recorded.size() + " → " + replayed.size());
    }
    for (int i = 0; i < Math.min(recorded.size(), replayed.size()); i++) {
      StatementCompleted was = recorded.get(i);
      StatementCompleted now = replayed.get(i);
      String prefix = recorded.size() > 1 ? "result " + (i + 1) + " " : "";
      compare(differences, prefix + "command tag", was.commandTag(), now.commandTag());
      compare(differences, prefix + "rows", was.rows(), now.rows());
      compare(differences, prefix + "SQLSTATE", was.sqlState(), now.sqlState());
      if (!was.resultDigest().equals(now.resultDigest())) {
        differences.add(
            prefix
                + "digest: "
                + was.resultDigest().substring(0, 12)
                + "… → "
                + now.resultDigest().substring(0, 12)
                + "…");
      }
    }
    return differences;
  }

  private static void compare(List<String> differences, String field, Object was, Object now) {
    if (!Objects.equals(was, now)) {
      differences.add(field + ": " + shown(was) + " → " + shown(now));
    }
  }

  private static String shown(Object value) {
    if (value instanceof Optional<?> optional) {
      return optional.map(Object::toString).orElse("none");
    }
    return value.toString();
  }

  private static ReplayedStatement outcome(
      StatementReceived received, Result result, List<String> differences, String reason) {
    return new ReplayedStatement(
        received.statement(), received.protocol(), received.sql(), result, differences, reason);
  }

  /** The results of the statement being replayed, numbered as the journal numbered it. */
  private static final class Replayed implements Completions {
    private static final ResultRecord.Limits NO_SAMPLE = new ResultRecord.Limits(0, 0);
    private long statement;
    private final List<StatementCompleted> results = new ArrayList<>();
    private boolean copyRefused;

    void start(long statement) {
      this.statement = statement;
      results.clear();
      copyRefused = false;
    }

    @Override
    public long nextForwarded() {
      return statement;
    }

    @Override
    public ResultRecord.Limits limits() {
      return NO_SAMPLE;
    }

    @Override
    public void completed(StatementCompleted event) {
      results.add(event);
    }

    /** A replay's results are not the gateway's traffic: its metrics do not count them. */
    @Override
    public void masked(int values) {}
  }
}
