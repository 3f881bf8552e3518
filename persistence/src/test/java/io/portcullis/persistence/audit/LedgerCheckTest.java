package io.portcullis.persistence.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.persistence.audit.ChainCheck.Stored;
import io.portcullis.persistence.audit.LedgerCheck.Finding;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LedgerCheckTest {

  private static final Instant AT = Instant.parse("2026-11-26T09:30:00.123456789Z");
  private static final Duration GRACE = Duration.ofSeconds(20);
  private static final LedgerKey KEY = LedgerKey.generate();

  /** Sessions s-1 and s-2, six events each, as the entity chains them. */
  private static Map<String, List<Stored<SessionEvent>>> sessions() {
    Map<String, List<Stored<SessionEvent>>> sessions = new LinkedHashMap<>();
    sessions.put("s-1", ChainCheckTest.session());
    sessions.put("s-2", ChainCheckTest.session());
    return sessions;
  }

  private static SessionHead head(String session, long sequenceNumber, boolean closed) {
    return new SessionHead(
        session,
        sequenceNumber,
        SessionChain.hash(ChainCheckTest.session().get((int) sequenceNumber - 1).event()),
        closed);
  }

  /** The ledger of node-1, where the sessions were opened: s-1 at 3, s-2 at 6, s-1 at 6 closed. */
  private static List<Stored<LedgerCheckpoint>> ledger(LedgerKey key) {
    List<List<SessionHead>> heads =
        List.of(
            List.of(head("s-1", 3, false)),
            List.of(head("s-2", 6, false)),
            List.of(head("s-1", 6, true)));
    List<Stored<LedgerCheckpoint>> ledger = new ArrayList<>();
    String previous = SessionChain.GENESIS;
    for (List<SessionHead> checkpointHeads : heads) {
      long number = ledger.size() + 1;
      LedgerCheckpoint checkpoint =
          key.sign(
              new LedgerCheckpoint(
                  SessionEvent.SCHEMA_VERSION,
                  AT.plusSeconds(number),
                  "node-1",
                  number,
                  checkpointHeads,
                  previous,
                  key.publicKey(),
                  ""));
      ledger.add(new Stored<>(number, checkpoint));
      previous = SessionChain.hash(checkpoint);
    }
    return ledger;
  }

  private static LedgerCheck.Report check(
      LedgerCheck check,
      List<Stored<LedgerCheckpoint>> ledger,
      Map<String, List<Stored<SessionEvent>>> sessions) {
    check.ledger("node-1", ledger);
    sessions.forEach(check::session);
    return check.finish();
  }

  private static LedgerCheck.Report check(
      List<Stored<LedgerCheckpoint>> ledger, Map<String, List<Stored<SessionEvent>>> sessions) {
    return check(new LedgerCheck(Set.of(), Optional.empty(), GRACE), ledger, sessions);
  }

  @Test
  void aWholeJournalMatchesItsCheckpoints() {
    LedgerCheck.Report report = check(ledger(KEY), sessions());
    assertThat(report.findings()).isEmpty();
    assertThat(report.checkpoints()).isEqualTo(3);
    assertThat(report.signers())
        .containsExactly(new LedgerCheck.Signer(KEY.fingerprint(), "node-1", 3, false));
    assertThat(report.tips())
        .singleElement()
        .satisfies(tip -> assertThat(tip.number()).isEqualTo(3));
  }

  @Test
  void anEditedCheckpointNoLongerVerifies() {
    List<Stored<LedgerCheckpoint>> ledger = ledger(KEY);
    LedgerCheckpoint first = ledger.get(0).event();
    ledger.set(
        0,
        new Stored<>(
            1,
            new LedgerCheckpoint(
                first.schema(),
                first.at(),
                first.node(),
                first.number(),
                List.of(head("s-1", 2, false)),
                first.previousHash(),
                first.publicKey(),
                first.signature())));
    assertThat(check(ledger, sessions()).findings())
        .extracting(Finding::toString)
        .contains(
            "ledger of node node-1, checkpoint 1: its signature does not verify: the checkpoint was"
                + " edited")
        .anySatisfy(
            text ->
                assertThat(text)
                    .startsWith("ledger of node node-1, checkpoint 2: does not follow"));
  }

  @Test
  void aDeletedCheckpointLeavesAGap() {
    List<Stored<LedgerCheckpoint>> ledger = ledger(KEY);
    ledger.remove(1);
    assertThat(check(ledger, sessions()).findings())
        .extracting(Finding::toString)
        .anySatisfy(
            text ->
                assertThat(text)
                    .startsWith("ledger of node node-1, checkpoint 2: missing")
                    .endsWith("(deleted)"));
  }

  @Test
  void aDeletedSessionIsFoundWithTheCheckpointThatHoldsIt() {
    Map<String, List<Stored<SessionEvent>>> sessions = sessions();
    sessions.remove("s-2");
    assertThat(check(ledger(KEY), sessions).findings())
        .extracting(Finding::toString)
        .containsExactly(
            "session s-2: missing: checkpoint 2 of node node-1 holds its event 6, but the journal has"
                + " none of its events: the session was deleted");
  }

  @Test
  void aSessionCutShortIsFound() {
    Map<String, List<Stored<SessionEvent>>> sessions = sessions();
    sessions.put("s-1", ChainCheckTest.session().subList(0, 4));
    assertThat(check(ledger(KEY), sessions).findings())
        .extracting(Finding::toString)
        .containsExactly(
            "session s-1, event 6: missing: checkpoint 3 of node node-1 holds it, but the journal ends"
                + " at event 4: the session's last events were deleted");
  }

  @Test
  void aSessionRewrittenWithARecomputedChainIsFound() {
    List<Stored<SessionEvent>> rewritten = new ArrayList<>(ChainCheckTest.session());
    SessionEvent.PolicyDecided decided = (SessionEvent.PolicyDecided) rewritten.get(5).event();
    rewritten.set(
        5,
        new Stored<>(
            6,
            new SessionEvent.PolicyDecided(
                    decided.schema(),
                    decided.at(),
                    decided.statement(),
                    "deny",
                    decided.rules(),
                    decided.policyVersion(),
                    decided.reason(),
                    decided.tables(),
                    decided.approvalId(),
                    null)
                .chainedAfter(decided.previousHash())));
    assertThat(ChainCheck.check("s-1", rewritten)).as("its own chain is whole").isEmpty();
    Map<String, List<Stored<SessionEvent>>> sessions = sessions();
    sessions.put("s-1", rewritten);
    assertThat(check(ledger(KEY), sessions).findings())
        .extracting(Finding::toString)
        .containsExactly(
            "session s-1, event 6: is not the event that checkpoint 3 of node node-1 holds: the"
                + " session was rewritten up to here");
  }

  @Test
  void checkpointsSignedByAnUntrustedKeyAreFound() {
    LedgerKey other = LedgerKey.generate();
    LedgerCheck.Report report =
        check(
            new LedgerCheck(Set.of(KEY.fingerprint()), Optional.empty(), GRACE),
            ledger(other),
            sessions());
    assertThat(report.findings())
        .extracting(Finding::toString)
        .containsExactly(
            "ledger of node node-1: 3 checkpoints are signed by key "
                + other.fingerprint()
                + ", not one of the trusted keys");
    assertThat(report.signers()).extracting(LedgerCheck.Signer::trusted).containsExactly(false);

    LedgerCheck.Report trusted =
        check(
            new LedgerCheck(Set.of(KEY.fingerprint()), Optional.empty(), GRACE),
            ledger(KEY),
            sessions());
    assertThat(trusted.findings()).isEmpty();
    assertThat(trusted.signers()).extracting(LedgerCheck.Signer::trusted).containsExactly(true);
  }

  @Test
  void eventsAfterTheLastCheckpointedHeadAreAWarningUntilTheNodeCheckpointedLongAfterThem() {
    List<Stored<LedgerCheckpoint>> ledger = ledger(KEY).subList(0, 2);
    assertThat(check(ledger, sessions()).findings())
        .extracting(Finding::toString)
        .containsExactly(
            "session s-1, events 4-6: not yet checkpointed (the last event is of " + AT + ")");

    LedgerCheck late = new LedgerCheck(Set.of(), Optional.empty(), Duration.ofSeconds(1));
    assertThat(check(late, ledger, sessions()).findings())
        .extracting(Finding::toString)
        .containsExactly(
            "session s-1, events 4-6: in no checkpoint, though node node-1 made checkpoint 2 at "
                + AT.plusSeconds(2)
                + ", more than 1s after the last event: inserted, or the node stopped before"
                + " checkpointing it");
  }

  @Test
  void aSessionInNoCheckpointIsAWarningUntilItsNodeCheckpointedLongAfterIt() {
    Map<String, List<Stored<SessionEvent>>> sessions = sessions();
    sessions.put("s-4", ChainCheckTest.session());
    List<Stored<LedgerCheckpoint>> ledger = ledger(KEY);
    LedgerCheck.Report recent = check(ledger, sessions);
    assertThat(recent.findings())
        .extracting(Finding::toString)
        .containsExactly("session s-4: not yet checkpointed (the last event is of " + AT + ")");
    assertThat(recent.broken()).isZero();

    LedgerCheck late = new LedgerCheck(Set.of(), Optional.empty(), Duration.ofSeconds(1));
    assertThat(check(late, ledger, sessions).findings())
        .extracting(Finding::toString)
        .singleElement()
        .satisfies(
            text ->
                assertThat(text)
                    .startsWith(
                        "session s-4: in no checkpoint, though node node-1 made checkpoint 3")
                    .endsWith("inserted, or the node stopped before checkpointing it"));
  }

  @Test
  void sinceLimitsTheCheckToLaterCheckpointsAndSessions() {
    LedgerCheck check = new LedgerCheck(Set.of(), Optional.of(AT.plusMillis(1500)), GRACE);
    Map<String, List<Stored<SessionEvent>>> sessions = sessions();
    sessions.put("s-4", ChainCheckTest.session());
    LedgerCheck.Report report = check(check, ledger(KEY), sessions);
    assertThat(report.checkpoints()).isEqualTo(2);
    assertThat(report.findings()).as("s-4 was opened before --since").isEmpty();
    assertThat(check.covers(ChainCheckTest.session())).isFalse();
  }
}
