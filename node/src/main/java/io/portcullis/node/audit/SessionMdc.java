package io.portcullis.node.audit;

import org.slf4j.MDC;

/**
 * The session id on the log lines a session writes, as the MDC entry {@value #KEY}: the session
 * actor's lines carry it by {@code Behaviors.withMdc}; code of the session that runs on a shared
 * event-loop thread (its stream stages, its policy) logs through {@link #run}.
 */
public final class SessionMdc {

  public static final String KEY = "sessionId";

  private SessionMdc() {}

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
