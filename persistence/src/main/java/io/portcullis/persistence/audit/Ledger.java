package io.portcullis.persistence.audit;

import io.portcullis.persistence.CborSerializable;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
 * One node's ledger: the chain of the checkpoints it signs ({@link LedgerCheckpoint}). It lives on
 * its node, a child of the node's {@link LedgerCheckpointer}; checkpoints are per node, so it is
 * not sharded.
 *
 * <p>A write that fails stops the entity; it restarts with back-off and recovers its chain from the
 * journal, like a session's journal. The checkpoint that failed goes unanswered.
 */
public final class Ledger
    extends EventSourcedBehavior<Ledger.Command, LedgerCheckpoint, Ledger.State> {

  public sealed interface Command extends CborSerializable {}

  /** Signs and appends a checkpoint of these heads, answered once it is durable. */
  public record Checkpoint(List<SessionHead> heads, ActorRef<Done> replyTo) implements Command {
    public Checkpoint {
      heads = List.copyOf(heads);
    }
  }

  /**
   * @param head the hash of the last checkpoint, {@link SessionChain#GENESIS} before the first
   */
  public record State(String head, long checkpoints) implements CborSerializable {}

  /** The first part of every ledger's persistence id, {@code Ledger|<node>}. */
  public static final String ENTITY_TYPE = "Ledger";

  private static final Duration MIN_BACKOFF = Duration.ofMillis(200);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  private final String node;
  private final LedgerKey key;

  public static PersistenceId persistenceId(String node) {
    return PersistenceId.of(ENTITY_TYPE, node);
  }

  public static Behavior<Command> create(String node, LedgerKey key) {
    return new Ledger(node, key);
  }

  private Ledger(String node, LedgerKey key) {
    super(
        persistenceId(node), SupervisorStrategy.restartWithBackoff(MIN_BACKOFF, MAX_BACKOFF, 0.2));
    this.node = node;
    this.key = key;
  }

  @Override
  public State emptyState() {
    return new State(SessionChain.GENESIS, 0);
  }

  @Override
  public CommandHandler<Command, LedgerCheckpoint, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(
            Checkpoint.class,
            (state, checkpoint) ->
                Effect()
                    .persist(
                        key.sign(
                            new LedgerCheckpoint(
                                SessionEvent.SCHEMA_VERSION,
                                Instant.now(),
                                node,
                                state.checkpoints() + 1,
                                checkpoint.heads(),
                                state.head(),
                                key.publicKey(),
                                "")))
                    .thenReply(checkpoint.replyTo(), after -> Done.getInstance()))
        .build();
  }

  @Override
  public EventHandler<State, LedgerCheckpoint> eventHandler() {
    return (state, checkpoint) -> new State(SessionChain.hash(checkpoint), checkpoint.number());
  }

  /** A ledger recovers from its last snapshot, not from its first checkpoint. */
  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(1_000, 2);
  }
}
