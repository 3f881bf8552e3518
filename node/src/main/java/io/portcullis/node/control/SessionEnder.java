package io.portcullis.node.control;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/** Ends a client session by its id, on whichever node of the cluster it runs. */
public final class SessionEnder {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final ActorRef<SessionControl.Command> control;
  private final Scheduler scheduler;

  public SessionEnder(ActorRef<SessionControl.Command> control, Scheduler scheduler) {
    this.control = control;
    this.scheduler = scheduler;
  }

  /** Ends it with 57P01 whose message carries {@code reason}, which the journal also records. */
  public CompletionStage<SessionControl.EndOutcome> end(String sessionId, String reason) {
    return AskPattern.ask(
        control, replyTo -> new SessionControl.End(sessionId, reason, replyTo), TIMEOUT, scheduler);
  }
}
