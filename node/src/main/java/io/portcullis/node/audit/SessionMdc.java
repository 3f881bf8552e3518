package io.portcullis.node.audit;

import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.MDC;

/**
 * The session id on the log lines a session writes, as the MDC entry {@value #KEY}: the lines of
 * the session's actors carry it by {@link #around}; code of the session that runs on a shared
 * event-loop thread (its stream stages, its policy) logs through {@link #run}.
 */
public final class SessionMdc {

  public static final String KEY = "sessionId";

  private SessionMdc() {}

  /**
   * {@code behavior} with the session's id in the MDC while it handles any message: its own, and
   * those Pekko's internals send it (a persistent actor's journal answers, after which Pekko logs a
   * failed write), which {@code Behaviors.withMdc} over the behavior's own message class skips.
   */
  @SuppressWarnings("unchecked")
  public static <T> Behavior<T> around(String sessionId, Behavior<T> behavior) {
    Behavior<Object> any = (Behavior<Object>) (Behavior<?>) behavior;
    return (Behavior<T>) (Behavior<?>) Behaviors.withMdc(Object.class, Map.of(KEY, sessionId), any);
  }

  /** Runs {@code logging} with the session's id in the MDC of this thread, as it was before. */
  public static void run(String sessionId, Runnable logging) {
    String previous = MDC.get(KEY);
    MDC.put(KEY, sessionId);
    try {
      logging.run();
    } finally {
      if (previous == null) {
        MDC.remove(KEY);
      } else {
        MDC.put(KEY, previous);
      }
    }
  }
}
