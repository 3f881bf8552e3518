package io.portcullis.persistence.audit;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.portcullis.persistence.CborSerializable;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/**
 * One version of the policy, cluster-wide: its full text, stored once, so that every decision
 * recorded under it (which names the version) can be checked again later; and each time a node put
 * it in force. The version is the text's own SHA-256, so an edited text no longer matches it.
 */
public final class PolicyVersion
    extends EventSourcedBehavior<PolicyVersion.Command, PolicyVersion.Event, PolicyVersion.State> {

  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "PolicyVersion");

  /** The first part of every version's persistence id, {@code Policy|<sha256:…>}. */
  public static final String ENTITY_TYPE = "Policy";

  public sealed interface Command extends CborSerializable {}

  /** A node put this version in force; answered once that (and the text) is durable. */
  public record InForce(String text, String node, ActorRef<Done> replyTo) implements Command {}

  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = PolicyStored.class, name = "PolicyStored"),
    @JsonSubTypes.Type(value = PolicyEnforced.class, name = "PolicyEnforced")
  })
  public sealed interface Event extends CborSerializable permits PolicyStored, PolicyEnforced {}

  /** The version's text, as the policy file held it; the first event of every version. */
  public record PolicyStored(int schema, Instant at, String version, String text)
      implements Event {}

  /** A node began to enforce this version. */
  public record PolicyEnforced(int schema, Instant at, String node) implements Event {}

  public record State(boolean stored) implements CborSerializable {}

  private static final Duration MIN_BACKOFF = Duration.ofMillis(200);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  private final String version;

  public static PersistenceId persistenceId(String version) {
    return PersistenceId.of(ENTITY_TYPE, version);
  }

  public static Behavior<Command> create(String version) {
    return new PolicyVersion(version);
  }

  private PolicyVersion(String version) {
    super(
        persistenceId(version),
        SupervisorStrategy.restartWithBackoff(MIN_BACKOFF, MAX_BACKOFF, 0.2));
    this.version = version;
  }

  @Override
  public State emptyState() {
    return new State(false);
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState().onCommand(InForce.class, this::inForce).build();
  }

  private Effect<Event, State> inForce(State state, InForce command) {
    Instant now = Instant.now();
    PolicyEnforced enforced = new PolicyEnforced(SessionEvent.SCHEMA_VERSION, now, command.node());
    List<Event> events =
        state.stored()
            ? List.of(enforced)
            : List.of(
                new PolicyStored(SessionEvent.SCHEMA_VERSION, now, version, command.text()),
                enforced);
    return Effect().persist(events).thenReply(command.replyTo(), after -> Done.getInstance());
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return (state, event) -> new State(true);
  }
}
