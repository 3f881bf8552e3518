package io.portcullis.persistence.audit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Keeps a node's {@link Ledger}: each {@link SessionJournal} of the node tells it its head after
 * every write, and it has the ledger sign a checkpoint of the heads that moved every interval, and
 * soon after a session closes (closes arriving close together share one checkpoint).
 *
 * <p>Sessions only tell it, never wait for it: a slow or failing ledger never holds a statement.
 * One checkpoint is written at a time; heads that arrive meanwhile wait for the next. A checkpoint
 * that fails or times out keeps its heads for the next one.
 */
public final class LedgerCheckpointer {

  public sealed interface Command {}

  /** A session's journal has durably moved to {@code head}. */
  public record HeadMoved(SessionHead head) implements Command {}

  /** Checkpoints every head told so far, answered once they are durable (at shutdown). */
  public record Flush(ActorRef<Done> replyTo) implements Command {}

  private record Tick() implements Command {}

  private record Written() implements Command {}

  private record WriteFailed(Throwable cause) implements Command {}

  /** How long a close waits for others to share its checkpoint. */
  private static final Duration CLOSE_DELAY = Duration.ofMillis(200);

  private static final String CLOSES = "closes";
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(5);

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<Ledger.Command> ledger;
  private Map<String, SessionHead> pending = new LinkedHashMap<>();
  private List<SessionHead> writing;
  private final List<ActorRef<Done>> flushed = new ArrayList<>();

  private LedgerCheckpointer(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ActorRef<Ledger.Command> ledger) {
    this.context = context;
    this.timers = timers;
    this.ledger = ledger;
  }

  /**
   * @param node the node's name, the ledger's id
   * @param interval how often the heads that moved are checkpointed
   */
  public static Behavior<Command> create(String node, LedgerKey key, Duration interval) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(new Tick(), interval);
                  return new LedgerCheckpointer(
                          context, timers, context.spawn(Ledger.create(node, key), "ledger"))
                      .running();
                }));
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(HeadMoved.class, this::moved)
        .onMessage(
            Tick.class,
            tick -> {
              write();
              return Behaviors.same();
            })
        .onMessage(
            Flush.class,
            flush -> {
              flushed.add(flush.replyTo());
              write();
              answerIfFlushed();
              return Behaviors.same();
            })
        .onMessage(Written.class, this::written)
        .onMessage(WriteFailed.class, this::failed)
        .build();
  }

  private Behavior<Command> moved(HeadMoved moved) {
    SessionHead head = moved.head();
    pending.put(head.session(), head);
    if (head.closed() && !timers.isTimerActive(CLOSES)) {
      timers.startSingleTimer(CLOSES, new Tick(), CLOSE_DELAY);
    }
    return Behaviors.same();
  }

  /** Starts a checkpoint of what is pending, unless one is being written or nothing is pending. */
  private void write() {
    if (writing != null || pending.isEmpty()) {
      return;
    }
    List<SessionHead> heads = List.copyOf(pending.values());
    writing = heads;
    pending = new LinkedHashMap<>();
    context.ask(
        Done.class,
        ledger,
        WRITE_TIMEOUT,
        replyTo -> new Ledger.Checkpoint(heads, replyTo),
        (done, failure) -> failure == null ? new Written() : new WriteFailed(failure));
  }

  private Behavior<Command> written(Written written) {
    writing = null;
    if (!flushed.isEmpty() || pending.values().stream().anyMatch(SessionHead::closed)) {
      write();
    }
    answerIfFlushed();
    return Behaviors.same();
  }

  private Behavior<Command> failed(WriteFailed failed) {
    context
        .getLog()
        .warn(
            "a ledger checkpoint of {} sessions was not written ({}); retrying with the next one",
            writing.size(),
            failed.cause().toString());
    Map<String, SessionHead> retry = new LinkedHashMap<>();
    writing.forEach(head -> retry.put(head.session(), head));
    retry.putAll(pending);
    pending = retry;
    writing = null;
    return Behaviors.same();
  }

  private void answerIfFlushed() {
    if (writing == null && pending.isEmpty()) {
      flushed.forEach(replyTo -> replyTo.tell(Done.getInstance()));
      flushed.clear();
    }
  }
}
