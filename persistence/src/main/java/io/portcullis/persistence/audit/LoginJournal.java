package io.portcullis.persistence.audit;

import io.portcullis.persistence.CborSerializable;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The failed logins of one UTC day, cluster-wide: a sharded entity per day, so that every node's
 * failures go to one writer, chained like a session's events. A failure never holds the password or
 * token, only the authenticator's fingerprint of it.
 */
public final class LoginJournal
    extends EventSourcedBehavior<
        LoginJournal.Command, LoginJournal.LoginFailed, LoginJournal.State> {

  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "LoginJournal");

  /** The tag of every failed login, by which the read side finds them. */
  public static final String TAG = "login";

  public sealed interface Command extends CborSerializable {}

  public record Record(LoginFailed failure) implements Command {}

  /**
   * @param credential the authenticator's fingerprint of what was presented, never the secret
   * @param reason what the client was told
   */
  public record LoginFailed(
      int schema,
      Instant at,
      String user,
      String clientAddress,
      boolean tls,
      String target,
      Optional<String> issuer,
      Optional<String> credential,
      String sqlState,
      String reason,
      String previousHash)
      implements ChainedEvent {

    LoginFailed chainedAfter(String hash) {
      return new LoginFailed(
          schema, at, user, clientAddress, tls, target, issuer, credential, sqlState, reason, hash);
    }
  }

  public record State(String head) implements CborSerializable {}

  /** The first part of every day's persistence id, {@code Logins|<date>}. */
  public static final String ENTITY_TYPE = "Logins";

  public static PersistenceId persistenceId(String day) {
    return PersistenceId.of(ENTITY_TYPE, day);
  }

  /** The entity that records failures at {@code at}. */
  public static String entityId(Instant at) {
    return LocalDate.ofInstant(at, ZoneOffset.UTC).toString();
  }

  public static Behavior<Command> create(String day) {
    return new LoginJournal(day);
  }

  private LoginJournal(String day) {
    super(
        persistenceId(day),
        SupervisorStrategy.restartWithBackoff(
            java.time.Duration.ofMillis(200), java.time.Duration.ofSeconds(5), 0.2));
  }

  @Override
  public State emptyState() {
    return new State(SessionChain.GENESIS);
  }

  @Override
  public CommandHandler<Command, LoginFailed, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(
            Record.class,
            (state, record) -> Effect().persist(record.failure().chainedAfter(state.head())))
        .build();
  }

  @Override
  public EventHandler<State, LoginFailed> eventHandler() {
    return (state, event) -> new State(SessionChain.hash(event));
  }

  @Override
  public Set<String> tagsFor(LoginFailed event) {
    return Set.of(TAG);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(1_000, 2);
  }
}
