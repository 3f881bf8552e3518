package io.portcullis.persistence.audit;

import io.portcullis.persistence.audit.ChainCheck.Stored;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks the nodes' ledgers, and the sessions against them: every checkpoint is signed, by a
 * trusted key when some are given, and follows the one before it; and every session's last head in
 * a checkpoint is still its event at that sequence number, with that hash. So a deleted session,
 * deleted trailing events, or a session rewritten with a recomputed chain are found, which the
 * session's own chain ({@link ChainCheck}) cannot show.
 *
 * <p>Give it every ledger first, then every session; then {@link #finish()}. Only the last head of
 * each session is compared: the session's chain ties the earlier ones to it.
 *
 * <p>A session in no checkpoint, or its events after its last checkpointed head, are a warning (its
 * node had not checkpointed them yet), unless its node made a checkpoint more than {@code grace}
 * after the last of them: then they were inserted, or the node stopped before checkpointing them.
 */
public final class LedgerCheck {

  /** What the check reports: a break fails verification, a warning does not. */
  public record Finding(boolean broken, String location, String problem) {
    @Override
    public String toString() {
      return location + ": " + problem;
    }
  }

  /** A key that signed checkpoints of a node: how many, and whether it is a trusted one. */
  public record Signer(String fingerprint, String node, long checkpoints, boolean trusted) {}

  /** A node's last checkpoint, to keep elsewhere: the ledger cannot show its own newest end cut. */
  public record Tip(String node, long number, Instant at, String hash) {}

  public record Report(
      List<Finding> findings, long checkpoints, List<Signer> signers, List<Tip> tips) {
    public long broken() {
      return findings.stream().filter(Finding::broken).count();
    }

    public long warnings() {
      return findings.size() - broken();
    }
  }

  /** The last head of a session that a checkpoint holds. */
  private record Claim(SessionHead head, String node, long checkpoint) {
    String where() {
      return "checkpoint " + checkpoint + " of node " + node;
    }
  }

  private final Set<String> trustedKeys;
  private final Optional<Instant> since;
  private final Duration grace;
  private final List<Finding> findings = new ArrayList<>();
  private final Map<String, Claim> claims = new LinkedHashMap<>();
  private final List<Signer> signers = new ArrayList<>();
  private final Map<String, Tip> tips = new LinkedHashMap<>();
  private long checkpoints;

  /**
   * @param trustedKeys fingerprints of the keys checkpoints must be signed with; empty to accept
   *     any key (its fingerprint is then only reported)
   * @param since check only checkpoints made, and sessions opened, at or after this time
   * @param grace how long after a session's last event its node must have checkpointed it
   */
  public LedgerCheck(Set<String> trustedKeys, Optional<Instant> since, Duration grace) {
    this.trustedKeys = Set.copyOf(trustedKeys);
    this.since = since;
    this.grace = grace;
  }

  /** Checks a node's ledger, as stored in order. */
  public void ledger(String node, List<Stored<LedgerCheckpoint>> stored) {
    String chain = "ledger of node " + node;
    int from = 0;
    while (since.isPresent()
        && from < stored.size()
        && stored.get(from).event() != null
        && stored.get(from).event().at().isBefore(since.get())) {
      from++;
    }
    List<Stored<LedgerCheckpoint>> window = stored.subList(from, stored.size());
    List<ChainCheck.Break> breaks;
    if (from == 0) {
      breaks = ChainCheck.check(chain, window);
    } else {
      Stored<LedgerCheckpoint> before = stored.get(from - 1);
      breaks =
          ChainCheck.check(
              chain, window, before.sequenceNumber(), SessionChain.hash(before.event()));
    }
    breaks.forEach(b -> broken(chain + ", checkpoint " + b.sequenceNumber(), b.problem()));
    Map<String, Long> signed = new LinkedHashMap<>();
    for (Stored<LedgerCheckpoint> each : window) {
      LedgerCheckpoint checkpoint = each.event();
      if (checkpoint == null) {
        continue;
      }
      String location = chain + ", checkpoint " + each.sequenceNumber();
      if (checkpoint.number() != each.sequenceNumber()) {
        broken(location, "it is numbered " + checkpoint.number() + ": it was moved");
      }
      if (!checkpoint.node().equals(node)) {
        broken(location, "it was made by node " + checkpoint.node() + ": it was moved");
      }
      if (!LedgerKey.verifies(checkpoint)) {
        broken(location, "its signature does not verify: the checkpoint was edited");
        continue;
      }
      signed.merge(LedgerKey.fingerprint(checkpoint.publicKey()), 1L, Long::sum);
      for (SessionHead head : checkpoint.heads()) {
        claims.put(head.session(), new Claim(head, node, checkpoint.number()));
      }
    }
    checkpoints += window.size();
    signed.forEach(
        (key, count) -> {
          boolean trusted = trustedKeys.contains(key);
          signers.add(new Signer(key, node, count, trusted));
          if (!trustedKeys.isEmpty() && !trusted) {
            broken(
                chain,
                count + " checkpoints are signed by key " + key + ", not one of the trusted keys");
          }
        });
    for (int i = stored.size() - 1; i >= 0; i--) {
      LedgerCheckpoint last = stored.get(i).event();
      if (last != null) {
        tips.put(node, new Tip(node, last.number(), last.at(), SessionChain.hash(last)));
        break;
      }
    }
  }

  /** Whether a session is to be checked: opened since {@code since}, or of unknown start. */
  public boolean covers(List<Stored<SessionEvent>> events) {
    return since.isEmpty()
        || events.isEmpty()
        || !(events.get(0).event() instanceof SessionEvent.SessionOpened opened)
        || !opened.at().isBefore(since.get());
  }

  /** Checks a session against the last checkpoint that holds it; give it every session. */
  public void session(String session, List<Stored<SessionEvent>> events) {
    Claim claim = claims.remove(session);
    if (claim == null) {
      notCheckpointed(session, events);
      return;
    }
    if (events.isEmpty()) {
      deleted(session, claim);
      return;
    }
    SessionHead head = claim.head();
    String location = "session " + session + ", event " + head.sequenceNumber();
    long last = events.get(events.size() - 1).sequenceNumber();
    Stored<SessionEvent> held =
        events.stream()
            .filter(stored -> stored.sequenceNumber() == head.sequenceNumber())
            .findFirst()
            .orElse(null);
    if (held == null && last < head.sequenceNumber()) {
      broken(
          location,
          "missing: "
              + claim.where()
              + " holds it, but the journal ends at event "
              + last
              + ": the session's last events were deleted");
    } else if (held == null) {
      broken(location, "missing: " + claim.where() + " holds it (deleted)");
    } else if (held.event() != null && !SessionChain.hash(held.event()).equals(head.hash())) {
      broken(
          location,
          "is not the event that "
              + claim.where()
              + " holds: the session was rewritten up to here");
    }
    SessionEvent lastEvent = events.get(events.size() - 1).event();
    if (last > head.sequenceNumber() && lastEvent != null) {
      // A write that timed out can still land after the session's close.
      notCheckpointed(
          "session "
              + session
              + ", events "
              + (head.sequenceNumber() + 1)
              + "-"
              + last
              + (head.closed() ? " (after its close)" : ""),
          claim.node(),
          lastEvent.at());
    }
  }

  private void notCheckpointed(String session, List<Stored<SessionEvent>> events) {
    if (covers(events)
        && !events.isEmpty()
        && events.get(0).event() instanceof SessionEvent.SessionOpened opened
        && events.get(events.size() - 1).event() != null) {
      notCheckpointed(
          "session " + session, opened.node(), events.get(events.size() - 1).event().at());
    } // else a session without its start or end is a break of its own chain already
  }

  private void notCheckpointed(String location, String node, Instant lastEvent) {
    Tip tip = tips.get(node);
    if (tip != null && tip.at().isAfter(lastEvent.plus(grace))) {
      broken(
          location,
          "in no checkpoint, though node "
              + node
              + " made checkpoint "
              + tip.number()
              + " at "
              + tip.at()
              + ", more than "
              + grace.toSeconds()
              + "s after the last event: inserted, or the node stopped before checkpointing it");
    } else {
      findings.add(
          new Finding(
              false, location, "not yet checkpointed (the last event is of " + lastEvent + ")"));
    }
  }

  /** The report, with every session that a checkpoint holds but the journal has not. */
  public Report finish() {
    claims.forEach(this::deleted);
    claims.clear();
    return new Report(
        List.copyOf(findings), checkpoints, List.copyOf(signers), List.copyOf(tips.values()));
  }

  private void deleted(String session, Claim claim) {
    broken(
        "session " + session,
        "missing: "
            + claim.where()
            + " holds its event "
            + claim.head().sequenceNumber()
            + ", but the journal has none of its events: the session was deleted");
  }

  private void broken(String location, String problem) {
    findings.add(new Finding(true, location, problem));
  }
}
