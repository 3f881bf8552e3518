package io.portcullis.node.control;

import io.portcullis.node.session.SessionActor;
import io.portcullis.persistence.CborSerializable;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;

/**
 * The cluster-wide handle of one session, keyed by the process id the client was given in
 * BackendKeyData. A CancelRequest or an administrator's "end session" may arrive at any node; the
 * sharded entity forwards it to the session actor wherever that lives. The entity stops when its
 * session does.
 */
public final class SessionControl {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "SessionControl");

  public sealed interface Command extends CborSerializable {}

  /** Sent by a new session; refused if another live session already holds this process id. */
  public record Register(
      int secretKey, ActorRef<SessionActor.Command> session, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /**
   * A CancelRequest: acted on only when the secret matches, and never answered (as in PostgreSQL).
   */
  public record Cancel(int secretKey) implements Command {}

  public record End(String reason, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  private record SessionStopped() implements Command {}

  private SessionControl() {}

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, context -> unregistered()));
  }

  private static Behavior<Command> unregistered() {
    return Behaviors.setup(
        context ->
            Behaviors.receive(Command.class)
                .onMessage(
                    Register.class,
                    register -> {
                      context.watchWith(register.session(), new SessionStopped());
                      register.replyTo().tell(StatusReply.ack());
                      return registered(register.secretKey(), register.session());
                    })
                .onMessage(Cancel.class, cancel -> Behaviors.same())
                .onMessage(
                    End.class,
                    end -> {
                      end.replyTo().tell(StatusReply.error("no such session"));
                      return Behaviors.same();
                    })
                .onMessage(SessionStopped.class, stopped -> Behaviors.same())
                .build());
  }

  private static Behavior<Command> registered(
      int secretKey, ActorRef<SessionActor.Command> session) {
    return Behaviors.receive(Command.class)
        .onMessage(
            Register.class,
            register -> {
              register.replyTo().tell(StatusReply.error("process id in use"));
              return Behaviors.same();
            })
        .onMessage(
            Cancel.class,
            cancel -> {
              if (cancel.secretKey() == secretKey) {
                session.tell(new SessionActor.CancelQuery());
              }
              return Behaviors.same();
            })
        .onMessage(
            End.class,
            end -> {
              session.tell(new SessionActor.EndSession(end.reason()));
              end.replyTo().tell(StatusReply.ack());
              return Behaviors.same();
            })
        .onMessage(SessionStopped.class, stopped -> Behaviors.stopped())
        .build();
  }
}
