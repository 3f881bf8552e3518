package io.portcullis.persistence.audit;

import io.portcullis.persistence.CborSerializable;
import java.time.Instant;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/**
 * One replay of recorded sessions into a sandbox, as the gateway authorised it: who asked, for
 * which sessions, against which database, and how. Written before the replay runs; a replay whose
 * record cannot be written does not run.
 */
public final class Replay extends EventSourcedBehavior<Replay.Command, Replay.Event, Replay.State> {

  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "Replay");

  /** The first part of every replay's persistence id, {@code Replay|<replay id>}. */
  public static final String ENTITY_TYPE = "Replay";

  public sealed interface Command extends CborSerializable {}

  /** Records the replay; answered once it is durable. A replay id is recorded once. */
  public record Record(ReplayRecorded replay, ActorRef<Done> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable permits ReplayRecorded {}

  /**
   * @param sandbox the database the statements run against, as {@code host:port/database}
   * @param force the sandbox is one of the gateway's own targets, and the replayer said so
   * @param commit the replay's writes are committed, not rolled back
   */
  public record ReplayRecorded(
      int schema,
      Instant at,
      String replay,
      String subject,
      String issuer,
      List<String> groups,
      List<String> sessions,
      String sandbox,
      String sandboxUser,
      boolean force,
      boolean commit)
      implements Event {
    public ReplayRecorded {
      groups = List.copyOf(groups);
      sessions = List.copyOf(sessions);
    }
  }

  public record State(boolean recorded) implements CborSerializable {}

  public static PersistenceId persistenceId(String replay) {
    return PersistenceId.of(ENTITY_TYPE, replay);
  }

  public static Behavior<Command> create(String replay) {
    return new Replay(replay);
  }

  private Replay(String replay) {
    super(persistenceId(replay));
  }

  @Override
  public State emptyState() {
    return new State(false);
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState().onCommand(Record.class, this::record).build();
  }

  private Effect<Event, State> record(State state, Record command) {
    if (state.recorded()) {
      return Effect().reply(command.replyTo(), Done.getInstance());
    }
    return Effect()
        .persist(command.replay())
        .thenReply(command.replyTo(), after -> Done.getInstance());
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return (state, event) -> new State(true);
  }
}
