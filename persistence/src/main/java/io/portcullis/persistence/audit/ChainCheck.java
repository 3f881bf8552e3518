package io.portcullis.persistence.audit;

import java.util.ArrayList;
import java.util.List;

/**
 * Checks one chain's events as read back from the journal (a session's, or a day's failed logins):
 * numbered 1, 2, 3… without a gap, a session's first a {@code SessionOpened}, each chained to the
 * hash of the one before. It names the first event where that fails and why: an edited event no
 * longer hashes to what its successor holds, a deleted one leaves a gap, an inserted or reordered
 * one breaks the links around it.
 */
public final class ChainCheck {

  /**
   * An event as stored: its sequence number in the chain, and the event, or null when the stored
   * bytes do not decode to an event of the chain.
   */
  public record Stored<E extends ChainedEvent>(long sequenceNumber, E event) {}

  /** Where a chain breaks, and how. */
  public record Break(String chain, long sequenceNumber, String problem) {
    @Override
    public String toString() {
      return chain + ", event " + sequenceNumber + ": " + problem;
    }
  }

  private ChainCheck() {}

  /**
   * The breaks of a chain; empty when it is whole.
   *
   * @param chain how reports name it ({@code session <id>}, {@code failed logins of <day>})
   */
  public static List<Break> check(String chain, List<? extends Stored<?>> events) {
    if (events.isEmpty()) {
      return List.of(new Break(chain, 0, "the chain has no events"));
    }
    return check(chain, events, 0, SessionChain.GENESIS);
  }

  /**
   * The breaks of the part of a chain that follows its event {@code after}, whose hash is {@code
   * head} (null when that event could not be decoded).
   */
  public static List<Break> check(
      String chain, List<? extends Stored<?>> events, long after, String head) {
    List<Break> breaks = new ArrayList<>();
    ChainedEvent first = events.isEmpty() ? null : events.get(0).event();
    if (after == 0
        && first instanceof SessionEvent
        && !(first instanceof SessionEvent.SessionOpened)) {
      breaks.add(
          new Break(
              chain,
              events.get(0).sequenceNumber(),
              "the first event is not SessionOpened: the session's start was removed"));
    }
    long expected = after + 1;
    for (Stored<?> stored : events) {
      ChainedEvent event = stored.event();
      if (event == null) {
        breaks.add(
            new Break(
                chain,
                stored.sequenceNumber(),
                "cannot be decoded as a session event: its stored bytes were changed"));
        head = null;
        expected = stored.sequenceNumber() + 1;
        continue;
      }
      if (stored.sequenceNumber() != expected) {
        breaks.add(
            new Break(
                chain,
                expected,
                "missing: the journal goes from event "
                    + (expected - 1)
                    + " to "
                    + stored.sequenceNumber()
                    + " (deleted)"));
      } else if (head != null && !event.previousHash().equals(head)) {
        breaks.add(
            new Break(
                chain,
                stored.sequenceNumber(),
                "does not follow event "
                    + (stored.sequenceNumber() - 1)
                    + ": that event was edited, or this one was inserted or moved"));
      }
      if (event.schema() > SessionEvent.SCHEMA_VERSION) {
        breaks.add(
            new Break(
                chain,
                stored.sequenceNumber(),
                "written with event schema " + event.schema() + ", newer than this version"));
      }
      head = SessionChain.hash(event);
      expected = stored.sequenceNumber() + 1;
    }
    return breaks;
  }

  /** The hash of the last event: what a checkpoint of the session signs. */
  public static String head(List<? extends Stored<?>> events) {
    ChainedEvent last = events.isEmpty() ? null : events.get(events.size() - 1).event();
    return last == null ? SessionChain.GENESIS : SessionChain.hash(last);
  }
}
