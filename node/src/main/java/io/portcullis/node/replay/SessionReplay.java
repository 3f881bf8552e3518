package io.portcullis.node.replay;

import io.portcullis.node.audit.Completions;
import io.portcullis.node.audit.ResultRecord;
import io.portcullis.node.masking.ColumnLineage;
import io.portcullis.node.masking.LineageRequest;
import io.portcullis.node.masking.LineageSource;
import io.portcullis.node.masking.ResultMasker;
import io.portcullis.node.policy.SessionPolicy;
import io.portcullis.node.policy.TargetCatalog;
import io.portcullis.node.replay.ReplayedStatement.Result;
import io.portcullis.node.replay.SandboxConnection.SandboxException;
import io.portcullis.persistence.audit.ClientDataSeal;
import io.portcullis.persistence.audit.RecordedSession;
import io.portcullis.persistence.audit.RecordedSession.RecordedStatement;
import io.portcullis.persistence.audit.SessionEvent.PolicyDecided;
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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
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
 *
 * <p>Plain reads and writes are pipelined: each is sent without waiting for the answers to those
 * before it, as pgjdbc sends a batch. Anything else runs alone, once the answers before it are in.
 */
public final class SessionReplay {

  private static final String SAVEPOINT = "portcullis_replay";
  private static final String IN_FAILED_TRANSACTION = "25P02";

  /**
   * How many statements may be sent before the first one's answer is read. PostgreSQL runs them in
   * order either way; not waiting for each answer before sending the next is what makes a replay
   * faster than its client was. Bounded, so that an error is found within a few statements of its
   * cause (the answers read ahead are held in memory: at most this many statements' results).
   */
  private static final int WINDOW = 32;

  /** The kinds of statement that may be pipelined. */
  private static final Set<StatementKind> PIPELINED =
      EnumSet.of(
          StatementKind.SELECT,
          StatementKind.INSERT,
          StatementKind.UPDATE,
          StatementKind.DELETE,
          StatementKind.MERGE,
          StatementKind.SHOW,
          StatementKind.EXPLAIN);

  private final SandboxConnection sandbox;
  private final Supplier<Optional<TargetCatalog>> catalog;
  private final LineageSource lineages;
  private final SqlAnalyzer analyzer;
  private final ValueMasker masker;
  private final ClientDataSeal seal;
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
      ClientDataSeal seal,
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
      // Only what ran without error says what the target had: a statement refused, or one that
      // failed (perhaps on a table that did not exist), does not.
      boolean succeeded =
          statement.ran()
              && !statement.completions().isEmpty()
              && statement.completions().stream().allMatch(c -> c.sqlState().isEmpty());
      if (!succeeded) {
        continue;
      }
      if (analyzer.analyze(statement.received().sql(), true).stream()
          .anyMatch(analysis -> analysis.kinds().contains(StatementKind.DDL))) {
        break;
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
  /**
   * The policy versions whose masking a replay of the session needs: the one it opened under, and
   * each a statement was decided under (a policy can change during a session).
   */
  public static Set<String> policyVersions(RecordedSession session) {
    Set<String> versions = new LinkedHashSet<>();
    versions.add(session.opened().policyVersion());
    for (RecordedStatement statement : session.statements()) {
      versions.add(version(session, statement));
    }
    return versions;
  }

  private static String version(RecordedSession session, RecordedStatement statement) {
    return statement.decided() == null
        ? session.opened().policyVersion()
        : statement.decided().policyVersion();
  }

  /**
   * Replays the session's statements, each result masked under the policy version its statement was
   * decided under; the sandbox is left as it was unless committing.
   *
   * @param policies the policies of {@link #policyVersions}, by version
   */
  public List<ReplayedStatement> replay(RecordedSession session, Function<String, Policy> policies)
      throws SandboxException {
    Replayed completions = new Replayed();
    Map<String, SessionMasking> byVersion = new HashMap<>();
    Function<RecordedStatement, SessionMasking> maskingOf =
        statement ->
            byVersion.computeIfAbsent(
                version(session, statement),
                version -> policies.apply(version).masking().forIdentity(session.identity()));
    SessionMasking[] masking = {
      policies.apply(session.opened().policyVersion()).masking().forIdentity(session.identity())
    };
    ResultMasker results =
        new ResultMasker(() -> masking[0], catalog, analyzer, masker, completions);
    Run run =
        new Run(
            session.opened().session(),
            results,
            completions,
            session.statements().size(),
            statement -> masking[0] = maskingOf.apply(statement));
    // What an earlier session replayed on this connection left (prepared statements, settings,
    // advisory locks) must not reach this one.
    control("DISCARD ALL");
    if (!commit) {
      control("BEGIN");
    }
    ClientTransaction transaction = new ClientTransaction();
    int index = -1;
    for (RecordedStatement statement : session.statements()) {
      index++;
      StatementReceived received = statement.received();
      Optional<RecordedStatement> bound = session.boundLater(index);
      if (bound.isPresent()) {
        run.set(
            index,
            outcome(
                received,
                Result.SKIPPED,
                List.of(),
                "parsed under a review rule: held for approval when bound, statement "
                    + bound.get().received().statement()));
        continue;
      }
      if (!statement.ran()) {
        run.set(index, outcome(received, Result.DENIED, List.of(), refusal(statement)));
        continue;
      }
      Optional<String> notRunWhenRecorded = notRunWhenRecorded(statement);
      if (notRunWhenRecorded.isPresent()) {
        run.set(index, outcome(received, Result.SKIPPED, List.of(), notRunWhenRecorded.get()));
        continue;
      }
      Set<StatementKind> kinds = kinds(received.sql());
      if (!commit && kinds.contains(StatementKind.TRANSACTION)) {
        ClientTransaction.Step step =
            transaction.step(
                received.sql(),
                statement.completions().isEmpty()
                    ? Optional.empty()
                    : statement.completions().get(0).commandTag());
        if (step instanceof ClientTransaction.NotReplayable not) {
          run.set(index, outcome(received, Result.NOT_REPLAYABLE, List.of(), not.reason()));
          continue;
        }
        if (step instanceof ClientTransaction.Emulated emulated) {
          run.awaitUntil(0);
          if (run.abortedBy != 0) {
            run.set(index, notRun(received, run.abortedBy));
          } else {
            if (emulated.sql().isPresent()) {
              control(emulated.sql().get());
            }
            run.set(index, outcome(received, Result.SKIPPED, List.of(), emulated.note()));
          }
          continue;
        }
      }
      List<FrontendMessage> messages = new ArrayList<>();
      Optional<String> unreplayable = messages(session, received, messages);
      if (unreplayable.isPresent()) {
        run.set(index, outcome(received, Result.NOT_REPLAYABLE, List.of(), unreplayable.get()));
        continue;
      }
      // Only a statement that failed when recorded, or a COPY FROM STDIN (whose data may not be in
      // the journal, or not open), runs behind a savepoint, so that the replay goes on after it:
      // thousands of savepoints would slow every statement of the transaction down.
      boolean savepoint =
          !commit
              && (statement.completions().stream().anyMatch(c -> c.sqlState().isPresent())
                  || kinds.contains(StatementKind.COPY_IN));
      boolean alone = savepoint || !pipelined(received, kinds);
      run.awaitUntil(alone ? 0 : WINDOW - 1);
      if (run.abortedBy != 0) {
        run.set(index, notRun(received, run.abortedBy));
        continue;
      }
      if (savepoint) {
        control("SAVEPOINT " + SAVEPOINT);
      }
      completions.statement = received.statement();
      messages.forEach(results::onFrontend);
      sandbox.send(messages.toArray(FrontendMessage[]::new));
      run.sent.add(new Sent(index, statement, savepoint));
      char status = alone ? run.awaitUntil(0) : 'T';
      if (savepoint) {
        control(
            (status == 'E' ? "ROLLBACK TO SAVEPOINT " + SAVEPOINT + "; " : "")
                + "RELEASE SAVEPOINT "
                + SAVEPOINT);
      }
    }
    run.awaitUntil(0);
    if (!commit) {
      control("ROLLBACK");
    }
    return List.of(run.replayed);
  }

  /**
   * Why a statement that went upstream did not run there: PostgreSQL skipped it (an earlier error
   * in its extended-protocol batch, so no result), or refused it because the client's transaction
   * had already failed ({@code 25P02}). Running it now would run what never ran.
   */
  private static Optional<String> notRunWhenRecorded(RecordedStatement statement) {
    if (statement.completions().isEmpty()) {
      return Optional.of(
          "no result was recorded: PostgreSQL skipped it after an error earlier in its batch, or"
              + " the session ended before it answered");
    }
    if (statement.completions().stream()
        .allMatch(c -> c.sqlState().equals(Optional.of(IN_FAILED_TRANSACTION)))) {
      return Optional.of("not run when recorded: the client's transaction had already failed");
    }
    return Optional.empty();
  }

  /**
   * Whether a statement may be sent while earlier ones are still running. A statement sent behind
   * one that ends the replay's transaction would run outside it; one sent behind a COPY FROM STDIN
   * would be taken for COPY data and lost. One that changes masking (a {@code search_path} or
   * {@code set_config}) is sent once the answers before it are masked, as a client that waits for
   * each answer has them masked. A fast-path call names only a function: what it does is unknown.
   */
  private boolean pipelined(StatementReceived received, Set<StatementKind> kinds) {
    return !received.protocol().equals("function-call")
        && !ResultMasker.changesMasking(received.sql())
        && PIPELINED.containsAll(kinds);
  }

  /**
   * A statement sent to the sandbox whose answer has not been read yet.
   *
   * @param savepoint whether it runs behind a savepoint, so that its failure aborts nothing
   */
  private record Sent(int index, RecordedStatement statement, boolean savepoint) {}

  /** One replay's statements in flight and their outcomes, in the session's order. */
  private final class Run {
    private final String session;
    private final ResultMasker results;
    private final Replayed completions;
    private final ReplayedStatement[] replayed;
    private final Consumer<RecordedStatement> maskAs;
    private final Deque<Sent> sent = new ArrayDeque<>();
    private long abortedBy;

    /**
     * @param maskAs makes the masker mask under the policy version of the statement it is given
     */
    Run(
        String session,
        ResultMasker results,
        Replayed completions,
        int statements,
        Consumer<RecordedStatement> maskAs) {
      this.session = session;
      this.maskAs = maskAs;
      this.results = results;
      this.completions = completions;
      this.replayed = new ReplayedStatement[statements];
    }

    void set(int index, ReplayedStatement outcome) {
      replayed[index] = outcome;
    }

    /**
     * Reads answers until at most {@code left} statements are in flight; the transaction status
     * after the last answer read ({@code 'T'} when none was).
     */
    char awaitUntil(int left) throws SandboxException {
      char status = 'T';
      while (sent.size() > left) {
        Sent next = sent.poll();
        StatementReceived received = next.statement().received();
        maskAs.accept(next.statement());
        Answer answer =
            answer(
                results,
                completions,
                received.protocol().equals("extended"),
                new RecordedCopies(
                    session, received.statement(), next.statement().copyData(), seal));
        status = answer.status();
        List<StatementCompleted> now = completions.take(received.statement());
        if (abortedBy != 0) {
          set(next.index(), notRun(received, abortedBy));
          continue;
        }
        if (!commit && status == 'E' && !next.savepoint()) {
          abortedBy = received.statement();
        } else if (!commit && status == 'I') {
          throw new SandboxException(
              "statement "
                  + received.statement()
                  + " ended the replay's transaction; the replay stopped");
        }
        if (answer.notReplayable().isPresent()) {
          set(
              next.index(),
              outcome(received, Result.NOT_REPLAYABLE, List.of(), answer.notReplayable().get()));
          continue;
        }
        List<String> differences = differences(next.statement().completions(), now);
        set(
            next.index(),
            outcome(
                received,
                differences.isEmpty() ? Result.IDENTICAL : Result.DIFFERS,
                differences,
                ""));
      }
      return status;
    }
  }

  private static ReplayedStatement notRun(StatementReceived received, long abortedBy) {
    return outcome(
        received,
        Result.NOT_REPLAYABLE,
        List.of(),
        "not run: statement "
            + abortedBy
            + " failed where the recording did not, and aborted the replay's transaction");
  }

  /** The messages that run the statement as recorded; or why it cannot be. */
  private Optional<String> messages(
      RecordedSession session, StatementReceived received, List<FrontendMessage> messages) {
    if (received.protocol().equals("simple")) {
      messages.add(new FrontendMessage.Query(received.sql()));
      return Optional.empty();
    }
    ClientDataSeal.Values values;
    if (received.sealedParameters().isPresent()) {
      try {
        values =
            seal.open(
                session.opened().session(),
                received.statement(),
                received.sealedParameters().get());
      } catch (ClientDataSeal.SealException e) {
        return Optional.of("its parameter values cannot be unsealed: " + e.getMessage());
      }
    } else if (!received.parameters().isEmpty()) {
      return Optional.of(
          "its parameter values were not sealed when it was recorded (no sealing key was"
              + " configured)");
    } else {
      values = new ClientDataSeal.Values(List.of(), List.of());
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
      OptionalInt function = SessionPolicy.calledFunction(received.sql());
      if (function.isEmpty()) {
        return Optional.of("its record does not name the function it called");
      }
      messages.add(
          new FrontendMessage.FunctionCall(
              function.getAsInt(),
              formats,
              parameters,
              resultFormats.length == 0 ? 0 : resultFormats[0]));
      return Optional.empty();
    }
    int[] types = values.parameterTypes().stream().mapToInt(Integer::intValue).toArray();
    messages.add(new FrontendMessage.Parse("", received.sql(), types));
    messages.add(new FrontendMessage.Bind("", "", formats, parameters, resultFormats));
    messages.add(new FrontendMessage.Describe('P', ""));
    messages.add(new FrontendMessage.Execute("", 0));
    messages.add(FrontendMessage.Sync.INSTANCE);
    return Optional.empty();
  }

  /**
   * How the sandbox answered one statement, and why it could not be run as recorded (a COPY whose
   * data could not be sent).
   */
  private record Answer(char status, Optional<String> notReplayable) {}

  /**
   * Reads one statement's answer up to ReadyForQuery, through the masker, sending the recorded data
   * of each COPY FROM STDIN the sandbox asks for.
   *
   * @param extended sent by the extended protocol: the end of a COPY then needs a Sync of its own,
   *     since PostgreSQL ignored the statement's Sync while it waited for COPY data
   */
  private Answer answer(
      ResultMasker results, Replayed completions, boolean extended, RecordedCopies copies)
      throws SandboxException {
    Optional<String> notReplayable = Optional.empty();
    while (true) {
      BackendMessage message = sandbox.next();
      LineageRequest request = results.lineageNeeded(message);
      if (request != null) {
        results.lineageKnown(plan(request));
      }
      results.onBackend(message);
      if (message instanceof BackendMessage.CopyInResponse) {
        Optional<String> problem = copies.sendNext(sandbox);
        if (notReplayable.isEmpty()) {
          notReplayable = problem;
        }
        if (extended) {
          sandbox.send(FrontendMessage.Sync.INSTANCE);
        }
      } else if (message instanceof BackendMessage.ReadyForQuery ready) {
        return new Answer(ready.transactionStatus(), notReplayable);
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

  /** What the statement's parts do, together. */
  private Set<StatementKind> kinds(String sql) {
    Set<StatementKind> kinds = EnumSet.noneOf(StatementKind.class);
    for (StatementAnalysis analysis : analyzer.analyze(sql, true)) {
      kinds.addAll(analysis.kinds());
    }
    return kinds;
  }

  private static String refusal(RecordedStatement statement) {
    if (statement.decided() == null) {
      return "the journal holds no decision for it";
    }
    PolicyDecided decided = statement.decided();
    if (statement.approval().isEmpty()
        && decided.decision().equals("review")
        && statement.completions().isEmpty()) {
      return "held for approval ("
          + decided.reason()
          + ") and never approved: the session ended first";
    }
    return statement
        .approval()
        .map(approval -> "approval " + approval.approvalId() + " " + approval.outcome())
        .orElse(decided.decision() + ": " + decided.reason());
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

  /** The results of the statements being replayed, by the journal's statement numbers. */
  private static final class Replayed implements Completions {
    private static final ResultRecord.Limits NO_SAMPLE = new ResultRecord.Limits(0, 0);
    private long statement;
    private final Map<Long, List<StatementCompleted>> results = new HashMap<>();

    /** The statement's results, forgotten here. */
    List<StatementCompleted> take(long statement) {
      List<StatementCompleted> taken = results.remove(statement);
      return taken == null ? List.of() : taken;
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
      results.computeIfAbsent(event.statement(), s -> new ArrayList<>()).add(event);
    }

    /** A replay's results are not the gateway's traffic: its metrics do not count them. */
    @Override
    public void masked(int values) {}
  }
}
