package io.portcullis.node.audit;

import io.portcullis.node.metrics.GatewayMetrics;
import io.portcullis.persistence.DirectCompletion;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionEvent.StatementCompleted;
import io.portcullis.persistence.audit.SessionJournal;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * One session's way into its journal, shared by the session's stages (which run on one thread): the
 * policy stage appends each statement and its decision and waits until they are durable; the
 * masking stage appends what each statement returned. Statements are numbered from 1 in the order
 * they arrive; the numbers of the statements sent upstream wait here, in order, for the masking
 * stage to match them to their results. It also reports how long each append took and how many
 * values the masking replaced to the node's metrics.
 */
public final class SessionRecorder implements Completions {

  private final ActorRef<SessionJournal.Command> journal;
  private final ActorSystem<?> system;
  private final Duration writeTimeout;
  private final ResultRecord.Limits limits;
  private final GatewayMetrics metrics;
  private final Deque<Long> forwarded = new ArrayDeque<>();
  private final List<SessionEvent> completions = new ArrayList<>();
  private long statements;

  /**
   * @param writeTimeout how long an append may take before the journal counts as unavailable
   */
  public SessionRecorder(
      ActorRef<SessionJournal.Command> journal,
      ActorSystem<?> system,
      Duration writeTimeout,
      ResultRecord.Limits limits,
      GatewayMetrics metrics) {
    this.journal = journal;
    this.system = system;
    this.writeTimeout = writeTimeout;
    this.limits = limits;
    this.metrics = metrics;
  }

  /** The number of the next statement. */
  public long nextStatement() {
    return ++statements;
  }

  /**
   * Appends events, after the results recorded since the last append, as one write; completes once
   * they are durable, fails after the write timeout.
   */
  public CompletionStage<Done> append(List<SessionEvent> events) {
    List<SessionEvent> write = events;
    if (!completions.isEmpty()) {
      write = new ArrayList<>(completions);
      write.addAll(events);
      completions.clear();
    }
    List<SessionEvent> batch = write;
    long start = System.nanoTime();
    CompletableFuture<Done> written =
        DirectCompletion.of(
            AskPattern.ask(
                journal,
                replyTo -> new SessionJournal.Append(batch, replyTo),
                writeTimeout,
                system.scheduler()));
    written.thenRun(() -> metrics.journalWritten(System.nanoTime() - start));
    return written;
  }

  /** A recorded statement was sent upstream: its results will follow in this order. */
  public void forwarded(long statement) {
    forwarded.add(statement);
  }

  @Override
  public long nextForwarded() {
    Long statement = forwarded.poll();
    return statement == null ? 0 : statement;
  }

  @Override
  public ResultRecord.Limits limits() {
    return limits;
  }

  /**
   * Keeps a statement's result for the session's next write (the next statement, or its close): the
   * client has the result already, and one write per statement is what the journal can sustain.
   */
  @Override
  public void completed(StatementCompleted event) {
    completions.add(event);
  }

  @Override
  public void masked(int values) {
    metrics.valuesMasked(values);
  }
}
