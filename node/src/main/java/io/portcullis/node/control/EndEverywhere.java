package io.portcullis.node.control;

import io.portcullis.node.control.SessionControl.EndOutcome;
import java.time.Duration;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Asks every node to end a session and answers the administrator once one has, or once all have
 * said they do not hold it. A node that does not answer in time leaves the outcome unknown rather
 * than claim that no such session exists.
 */
final class EndEverywhere {

  sealed interface Reply {}

  private record Answered(SessionControl.Ended ended) implements Reply {}

  private record TimedOut() implements Reply {}

  private EndEverywhere() {}

  static Behavior<Reply> create(
      SessionControl.End end, Set<ActorRef<SessionControl.Command>> nodes, Duration timeout) {
    return Behaviors.setup(
        context -> {
          ActorRef<SessionControl.Ended> answers =
              context.messageAdapter(SessionControl.Ended.class, Answered::new);
          nodes.forEach(
              node ->
                  node.tell(new SessionControl.EndHere(end.sessionId(), end.reason(), answers)));
          return Behaviors.withTimers(
              timers -> {
                timers.startSingleTimer(new TimedOut(), timeout);
                return waiting(end.replyTo(), nodes.size());
              });
        });
  }

  private static Behavior<Reply> waiting(ActorRef<EndOutcome> replyTo, int outstanding) {
    return Behaviors.receive(Reply.class)
        .onMessage(
            Answered.class,
            answered -> {
              if (answered.ended().found()) {
                replyTo.tell(EndOutcome.ENDED);
                return Behaviors.stopped();
              }
              if (outstanding == 1) {
                replyTo.tell(EndOutcome.NO_SUCH_SESSION);
                return Behaviors.stopped();
              }
              return waiting(replyTo, outstanding - 1);
            })
        .onMessage(
            TimedOut.class,
            timedOut -> {
              replyTo.tell(EndOutcome.UNKNOWN);
              return Behaviors.stopped();
            })
        .build();
  }
}
