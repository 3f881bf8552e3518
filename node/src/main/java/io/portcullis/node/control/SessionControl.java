package io.portcullis.node.control;

import io.portcullis.node.session.SessionActor;
import io.portcullis.persistence.CborSerializable;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.BehaviorBuilder;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * This node's sessions, reachable from every node. A session registers here (a local message, so
 * logins never wait on another node) and gets the process id and secret of its BackendKeyData. Each
 * node's SessionControl is listed with the cluster's receptionist, so a CancelRequest or an
 * administrator's "end session" that reaches any node is passed to every node, and the one that
 * holds the session acts on it. A session lives and dies with the TCP connection of its node, so it
 * is addressed through that node rather than through a sharded entity, which could be unreachable
 * (its shard on another node) exactly when the session is not.
 */
public final class SessionControl {

  public static final ServiceKey<Command> SERVICE_KEY =
      ServiceKey.create(Command.class, "portcullis-session-control");

  /** How long an "end session" waits for every node's answer. */
  private static final Duration END_TIMEOUT = Duration.ofSeconds(5);

  public sealed interface Command extends CborSerializable {}

  /** Sent by a new session; refused while the node drains. */
  public record Register(
      String sessionId, ActorRef<SessionActor.Command> session, ActorRef<Registration> replyTo)
      implements Command {}

  /** The session's BackendKeyData, or empty when the node no longer takes sessions. */
  public record Registration(Optional<BackendKey> key) implements CborSerializable {}

  public record BackendKey(int processId, int secretKey) {}

  /** A CancelRequest that reached this node: passed to every node. */
  public record Cancel(int processId, int secretKey) implements Command {}

  /** A CancelRequest for a session of this node, if the key matches one. Never answered. */
  public record CancelHere(int processId, int secretKey) implements Command {}

  /** An administrator's request to end a session, which may live on any node. */
  public record End(String sessionId, String reason, ActorRef<EndOutcome> replyTo)
      implements Command {}

  public enum EndOutcome implements CborSerializable {
    ENDED,
    NO_SUCH_SESSION,
    /** No node said it held the session, but some did not answer. */
    UNKNOWN
  }

  /** Ends the session if it lives on this node; answers whether it did. */
  public record EndHere(String sessionId, String reason, ActorRef<Ended> replyTo)
      implements Command {}

  /** Whether some node held the session and ended it. */
  public record Ended(boolean found) implements CborSerializable {}

  /**
   * Takes no more sessions, lets the open ones finish until {@code deadline}, then ends the rest
   * and answers once all are gone.
   */
  public record Drain(Duration deadline, String reason, ActorRef<Done> replyTo)
      implements Command {}

  private record NodesListed(Receptionist.Listing listing) implements Command {}

  private record SessionStopped(int processId) implements Command {}

  private record DrainDeadline() implements Command {}

  private record Session(String sessionId, int secretKey, ActorRef<SessionActor.Command> ref) {}

  private static final SecureRandom RANDOM = new SecureRandom();

  private final ActorContext<Command> context;
  private final Map<Integer, Session> sessions = new HashMap<>();
  private Set<ActorRef<Command>> nodes;

  private SessionControl(ActorContext<Command> context) {
    this.context = context;
    this.nodes = Set.of(context.getSelf());
  }

  public static Behavior<Command> create() {
    return Behaviors.setup(
        context -> {
          context
              .getSystem()
              .receptionist()
              .tell(Receptionist.register(SERVICE_KEY, context.getSelf()));
          context
              .getSystem()
              .receptionist()
              .tell(
                  Receptionist.subscribe(
                      SERVICE_KEY,
                      context.messageAdapter(Receptionist.Listing.class, NodesListed::new)));
          return new SessionControl(context).running();
        });
  }

  private Behavior<Command> running() {
    return common()
        .onMessage(
            Register.class,
            register -> {
              int processId = unusedProcessId();
              int secretKey = RANDOM.nextInt();
              sessions.put(
                  processId, new Session(register.sessionId(), secretKey, register.session()));
              context.watchWith(register.session(), new SessionStopped(processId));
              register
                  .replyTo()
                  .tell(new Registration(Optional.of(new BackendKey(processId, secretKey))));
              return Behaviors.same();
            })
        .onMessage(
            SessionStopped.class,
            stopped -> {
              sessions.remove(stopped.processId());
              return Behaviors.same();
            })
        .onMessage(
            Drain.class,
            drain -> {
              if (sessions.isEmpty()) {
                drain.replyTo().tell(Done.getInstance());
                return draining(drain, true);
              }
              context
                  .getLog()
                  .info("draining: {} sessions may run for {}", sessions.size(), drain.deadline());
              return Behaviors.withTimers(
                  timers -> {
                    timers.startSingleTimer(new DrainDeadline(), drain.deadline());
                    return draining(drain, false);
                  });
            })
        .build();
  }

  /**
   * @param answered whether the drain's caller has been told that every session is gone
   */
  private Behavior<Command> draining(Drain drain, boolean answered) {
    return common()
        .onMessage(
            Register.class,
            register -> {
              register.replyTo().tell(new Registration(Optional.empty()));
              return Behaviors.same();
            })
        .onMessage(
            SessionStopped.class,
            stopped -> {
              sessions.remove(stopped.processId());
              if (sessions.isEmpty() && !answered) {
                drain.replyTo().tell(Done.getInstance());
                return draining(drain, true);
              }
              return Behaviors.same();
            })
        .onMessage(
            DrainDeadline.class,
            deadline -> {
              context.getLog().info("drain deadline reached: ending {} sessions", sessions.size());
              sessions
                  .values()
                  .forEach(
                      session -> session.ref().tell(new SessionActor.EndSession(drain.reason())));
              return Behaviors.same();
            })
        .onMessage(Drain.class, again -> Behaviors.same())
        .build();
  }

  private BehaviorBuilder<Command> common() {
    return Behaviors.receive(Command.class)
        .onMessage(
            NodesListed.class,
            listed -> {
              nodes = listed.listing().getServiceInstances(SERVICE_KEY);
              return Behaviors.same();
            })
        .onMessage(
            Cancel.class,
            cancel -> {
              nodes.forEach(
                  node -> node.tell(new CancelHere(cancel.processId(), cancel.secretKey())));
              return Behaviors.same();
            })
        .onMessage(
            CancelHere.class,
            cancel -> {
              Session session = sessions.get(cancel.processId());
              if (session != null && session.secretKey() == cancel.secretKey()) {
                session.ref().tell(new SessionActor.CancelQuery());
              }
              return Behaviors.same();
            })
        .onMessage(
            End.class,
            end -> {
              context.spawnAnonymous(EndEverywhere.create(end, nodes, END_TIMEOUT));
              return Behaviors.same();
            })
        .onMessage(
            EndHere.class,
            end -> {
              Optional<Session> session =
                  sessions.values().stream()
                      .filter(candidate -> candidate.sessionId().equals(end.sessionId()))
                      .findFirst();
              session.ifPresent(
                  found -> found.ref().tell(new SessionActor.EndSession(end.reason())));
              end.replyTo().tell(new Ended(session.isPresent()));
              return Behaviors.same();
            });
  }

  private int unusedProcessId() {
    int candidate;
    do {
      candidate = RANDOM.nextInt(Integer.MAX_VALUE - 1) + 1;
    } while (sessions.containsKey(candidate));
    return candidate;
  }
}
