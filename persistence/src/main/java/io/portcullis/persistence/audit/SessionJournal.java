package io.portcullis.persistence.audit;

import io.portcullis.persistence.CborSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The journal of one session: the session's actor appends what happened, and is told once it is
 * durable. The entity chains each event to the one before it. It lives on the session's node, a
 * child of the session's actor: only its writes leave the node.
 *
 * <p>A write that fails stops the entity; it restarts with back-off and recovers its chain from the
 * journal, so a session whose journal came back goes on by itself. Until then every append goes
 * unanswered and the session refuses statements.
 *
 * <p>After every durable append it tells the node's {@link LedgerCheckpointer}, if it was given
 * one, the session's new head, which the node's next ledger checkpoint signs.
 */
public final class SessionJournal
    extends EventSourcedBehavior<SessionJournal.Command, SessionEvent, SessionJournal.State> {

  /** The tag of session openings and closings, by which the read side finds sessions. */
  public static final String TAG = "session";

  public sealed interface Command extends CborSerializable {}

  /**
   * Appends events in order as one atomic write, answered once they are durable. Their previous
   * hashes are set by the entity.
   */
  public record Append(List<SessionEvent> events, ActorRef<Done> replyTo) implements Command {
    public Append {
      events = List.copyOf(events);
    }
  }

  /**
   * @param head the hash of the last event, {@link SessionChain#GENESIS} before the first
   */
  public record State(String head, long events) implements CborSerializable {}

  private static final Duration MIN_BACKOFF = Duration.ofMillis(200);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  /** The first part of every session's persistence id, {@code Session|<session id>}. */
  public static final String ENTITY_TYPE = "Session";

  public static PersistenceId persistenceId(String sessionId) {
    return PersistenceId.of(ENTITY_TYPE, sessionId);
  }

  private final String sessionId;
  private final Optional<ActorRef<LedgerCheckpointer.HeadMoved>> heads;

  public static Behavior<Command> create(String sessionId) {
    return create(sessionId, Optional.empty());
  }

  /**
   * @param heads told the session's head after every durable append, for the node's ledger
   */
  public static Behavior<Command> create(
      String sessionId, Optional<ActorRef<LedgerCheckpointer.HeadMoved>> heads) {
    return new SessionJournal(sessionId, heads);
  }

  private SessionJournal(String sessionId, Optional<ActorRef<LedgerCheckpointer.HeadMoved>> heads) {
    super(
        persistenceId(sessionId),
        SupervisorStrategy.restartWithBackoff(MIN_BACKOFF, MAX_BACKOFF, 0.2));
    this.sessionId = sessionId;
    this.heads = heads;
  }

  /**
   * Hashes of the events just chained, until the event handler applies them: hashing (canonical
   * JSON and SHA-256) is the entity's main cost, and recovery, which has no such entry, hashes
   * anew. By identity: the handler is given the very events that were persisted.
   */
  private final Map<SessionEvent, String> hashed = new IdentityHashMap<>();

  @Override
  public State emptyState() {
    return new State(SessionChain.GENESIS, 0);
  }

  @Override
  public CommandHandler<Command, SessionEvent, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState().onCommand(Append.class, this::append).build();
  }

  private org.apache.pekko.persistence.typed.javadsl.Effect<SessionEvent, State> append(
      State state, Append append) {
    // The previous append's events are applied by now (commands wait while events persist).
    hashed.clear();
    List<SessionEvent> chained = new ArrayList<>(append.events().size());
    String head = state.head();
    for (SessionEvent event : append.events()) {
      SessionEvent linked = event.chainedAfter(head);
      chained.add(linked);
      head = SessionChain.hash(linked);
      hashed.put(linked, head);
    }
    boolean closed =
        !chained.isEmpty() && chained.get(chained.size() - 1) instanceof SessionEvent.SessionClosed;
    return Effect()
        .persist(chained)
        .thenRun(
            after ->
                heads.ifPresent(
                    ledger ->
                        ledger.tell(
                            new LedgerCheckpointer.HeadMoved(
                                new SessionHead(sessionId, after.events(), after.head(), closed)))))
        .thenReply(append.replyTo(), after -> Done.getInstance());
  }

  @Override
  public EventHandler<State, SessionEvent> eventHandler() {
    return (state, event) -> {
      String hash = hashed.remove(event);
      return new State(hash != null ? hash : SessionChain.hash(event), state.events() + 1);
    };
  }

  @Override
  public Set<String> tagsFor(SessionEvent event) {
    return event instanceof SessionEvent.SessionOpened
            || event instanceof SessionEvent.SessionClosed
        ? Set.of(TAG)
        : Set.of();
  }

  /** A long session recovers from its last snapshot, not from its first event. */
  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(1_000, 2);
  }
}
