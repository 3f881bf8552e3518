package io.portcullis.node.audit;

import io.portcullis.persistence.audit.LoginJournal;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.policy.identity.LoginEvent;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;

/** Records every failed login in the journal, in the day's {@link LoginJournal}. */
public final class FailedLogins {

  private final ClusterSharding sharding;

  private FailedLogins(ClusterSharding sharding) {
    this.sharding = sharding;
  }

  public static FailedLogins start(ActorSystem<?> system) {
    ClusterSharding sharding = ClusterSharding.get(system);
    sharding.init(
        Entity.of(LoginJournal.TYPE_KEY, context -> LoginJournal.create(context.getEntityId())));
    return new FailedLogins(sharding);
  }

  /** A login attempt; only failures are journaled here (a success opens a session's journal). */
  public void attempted(LoginEvent event) {
    if (!event.outcome().equals("failed")) {
      return;
    }
    sharding
        .entityRefFor(LoginJournal.TYPE_KEY, LoginJournal.entityId(event.at()))
        .tell(
            new LoginJournal.Record(
                new LoginJournal.LoginFailed(
                    SessionEvent.SCHEMA_VERSION,
                    event.at(),
                    event.user(),
                    event.clientAddress(),
                    event.tls(),
                    event.target(),
                    event.issuer(),
                    event.credential(),
                    event.sqlState().orElse(""),
                    event.reason().orElse(""),
                    null)));
  }
}
