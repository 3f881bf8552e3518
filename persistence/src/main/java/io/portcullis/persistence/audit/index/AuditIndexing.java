package io.portcullis.persistence.audit.index;

import io.portcullis.persistence.journal.JournalDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.serialization.SerializationExtension;

/**
 * Runs the {@link AuditIndexer} in the gateway: one per cluster (a cluster singleton), on the
 * blocking dispatcher, indexing every poll interval and at once again while a backlog remains. A
 * database error is logged and tried again at the next poll, on a new connection.
 */
public final class AuditIndexing {

  private enum Tick {
    INSTANCE
  }

  private AuditIndexing() {}

  public static void start(ActorSystem<?> system, JournalDatabase database, Duration interval) {
    ClusterSingleton.get(system)
        .init(
            SingletonActor.of(create(database, interval), "audit-indexer")
                .withProps(DispatcherSelector.blocking()));
  }

  private static Behavior<Tick> create(JournalDatabase database, Duration interval) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
                  AuditIndexer indexer =
                      new AuditIndexer(SerializationExtension.get(context.getSystem()));
                  return new Poller(context, database, indexer).behavior();
                }));
  }

  private static final class Poller {
    private final ActorContext<Tick> context;
    private final JournalDatabase database;
    private final AuditIndexer indexer;
    private Connection connection;

    Poller(ActorContext<Tick> context, JournalDatabase database, AuditIndexer indexer) {
      this.context = context;
      this.database = database;
      this.indexer = indexer;
    }

    Behavior<Tick> behavior() {
      return Behaviors.receive(Tick.class)
          .onMessage(Tick.class, tick -> poll())
          .onSignal(PostStop.class, stop -> disconnect())
          .build();
    }

    private Behavior<Tick> poll() {
      try {
        if (connection == null) {
          connection = database.connect();
        }
        if (indexer.indexNext(connection).more()) {
          context.getSelf().tell(Tick.INSTANCE);
        }
      } catch (SQLException | RuntimeException e) {
        context.getLog().warn("audit index: cannot index the journal now; trying again", e);
        disconnect();
      }
      return Behaviors.same();
    }

    private Behavior<Tick> disconnect() {
      if (connection != null) {
        try {
          connection.close();
        } catch (SQLException e) {
          // It is being replaced or the actor is stopping; nothing to recover.
        }
        connection = null;
      }
      return Behaviors.same();
    }
  }
}
