package io.portcullis.persistence.audit;

import java.util.ArrayList;
import java.util.List;

/**
 * Checks one session's events as read back from the journal: numbered 1, 2, 3… without a gap, the
 * first a {@code SessionOpened}, each chained to the hash of the one before. It names the first
 * event where that fails and why: an edited event no longer hashes to what its successor holds, a
 * deleted one leaves a gap, an inserted or reordered one breaks the links around it.
 */
public final class ChainCheck {

  /**
   * An event as stored: its sequence number in the session, and the event, or null when the stored
   * bytes do not decode to a session event.
   */
  public record Stored(long sequenceNumber, SessionEvent event) {}

  /** Where the chain of a session breaks, and how. */
  public record Break(String session, long sequenceNumber, String problem) {
    @Override
    public String toString() {
      return "session " + session + ", event " + sequenceNumber + ": " + problem;
    }
  }

  private ChainCheck() {}

  /** The breaks of a session's chain; empty when it is whole. */
  public static List<Break> check(String session, List<Stored> events) {
    List<Break> breaks = new ArrayList<>();
    if (events.isEmpty()) {
      breaks.add(new Break(session, 0, "the session has no events"));
      return breaks;
    }
    if (events.get(0).event() != null
        && !(events.get(0).event() instanceof SessionEvent.SessionOpened)) {
      breaks.add(
          new Break(
              session,
              events.get(0).sequenceNumber(),
              "the first event is not SessionOpened: the session's start was removed"));
    }
    String head = SessionChain.GENESIS;
    long expected = 1;
    for (Stored stored : events) {
      SessionEvent event = stored.event();
      if (event == null) {
        breaks.add(
            new Break(
                session,
                stored.sequenceNumber(),
                "cannot be decoded as a session event: its stored bytes were changed"));
        head = null;
        expected = stored.sequenceNumber() + 1;
        continue;
      }
      if (stored.sequenceNumber() != expected) {
        breaks.add(
            new Break(
                session,
                expected,
                "missing: the journal goes from event "
                    + (expected - 1)
                    + " to "
                    + stored.sequenceNumber()
                    + " (deleted)"));
      } else if (head != null && !event.previousHash().equals(head)) {
        breaks.add(
            new Break(
                session,
                stored.sequenceNumber(),
                "does not follow event "
                    + (stored.sequenceNumber() - 1)
                    + ": that event was edited, or this one was inserted or moved"));
      }
      if (event.schema() > SessionEvent.SCHEMA_VERSION) {
        breaks.add(
            new Break(
                session,
                stored.sequenceNumber(),
                "written with event schema " + event.schema() + ", newer than this version"));
      }
      head = SessionChain.hash(event);
      expected = stored.sequenceNumber() + 1;
    }
    return breaks;
  }

  /** The hash of the last event: what a checkpoint of the session signs. */
  public static String head(List<Stored> events) {
    SessionEvent last = events.isEmpty() ? null : events.get(events.size() - 1).event();
    return last == null ? SessionChain.GENESIS : SessionChain.hash(last);
  }
}
