package io.portcullis.persistence.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.portcullis.persistence.audit.SessionEvent.SessionClosed;
import io.portcullis.persistence.audit.SessionEvent.SessionOpened;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The session journal entity on its own: every event goes through Jackson CBOR (the testkit's
 * serialization checks are on), each is chained to the one before, and the chain goes on after a
 * restart.
 */
class SessionJournalTest {

  private static final ActorTestKit testKit =
      ActorTestKit.create(
          EventSourcedBehaviorTestKit.config()
              .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
              .withFallback(ConfigFactory.load()));

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void eventsAreChainedAndTheChainGoesOnAfterARestart() {
    EventSourcedBehaviorTestKit<SessionJournal.Command, SessionEvent, SessionJournal.State>
        journal =
            EventSourcedBehaviorTestKit.create(testKit.system(), SessionJournal.create("s-1"));
    var first =
        journal.<Done>runCommand(
            replyTo -> new SessionJournal.Append(List.of(TestEvents.opened("s-1")), replyTo));
    assertThat(first.reply()).isEqualTo(Done.getInstance());
    assertThat(first.eventOfType(SessionOpened.class).previousHash())
        .isEqualTo(SessionChain.GENESIS);

    var second =
        journal.<Done>runCommand(
            replyTo -> new SessionJournal.Append(TestEvents.statement(1), replyTo));
    List<SessionEvent> events = second.events();
    assertThat(events).hasSize(3);
    assertThat(events.get(0).previousHash()).isEqualTo(first.state().head());
    assertThat(events.get(1).previousHash()).isEqualTo(SessionChain.hash(events.get(0)));
    assertThat(events.get(2).previousHash()).isEqualTo(SessionChain.hash(events.get(1)));
    assertThat(second.state())
        .isEqualTo(new SessionJournal.State(SessionChain.hash(events.get(2)), 4));

    journal.restart();
    var closed =
        journal.<Done>runCommand(
            replyTo -> new SessionJournal.Append(List.of(TestEvents.closed()), replyTo));
    assertThat(closed.eventOfType(SessionClosed.class).previousHash())
        .as("recovered head")
        .isEqualTo(SessionChain.hash(events.get(2)));
  }

  @Test
  void theNodesLedgerIsToldEachNewHead() {
    TestProbe<LedgerCheckpointer.HeadMoved> ledger = testKit.createTestProbe();
    EventSourcedBehaviorTestKit<SessionJournal.Command, SessionEvent, SessionJournal.State>
        journal =
            EventSourcedBehaviorTestKit.create(
                testKit.system(), SessionJournal.create("s-2", Optional.of(ledger.getRef())));
    var opened =
        journal.<Done>runCommand(
            replyTo -> new SessionJournal.Append(List.of(TestEvents.opened("s-2")), replyTo));
    ledger.expectMessage(
        new LedgerCheckpointer.HeadMoved(new SessionHead("s-2", 1, opened.state().head(), false)));
    var closed =
        journal.<Done>runCommand(
            replyTo -> new SessionJournal.Append(List.of(TestEvents.closed()), replyTo));
    ledger.expectMessage(
        new LedgerCheckpointer.HeadMoved(new SessionHead("s-2", 2, closed.state().head(), true)));
  }

  @Test
  void anyChangeToAnEventChangesItsHash() {
    SessionOpened event = TestEvents.opened("s-1").chainedAfter(SessionChain.GENESIS);
    String hash = SessionChain.hash(event);
    assertThat(SessionChain.hash(TestEvents.opened("s-1").chainedAfter(SessionChain.GENESIS)))
        .isEqualTo(hash);
    assertThat(hash).matches("[0-9a-f]{64}");
    SessionOpened other =
        new SessionOpened(
            event.schema(),
            event.at(),
            event.session(),
            event.node(),
            "someone-else",
            event.issuer(),
            event.groups(),
            event.agent(),
            event.clientAddress(),
            event.clientPort(),
            event.applicationName(),
            event.tlsVersion(),
            event.tlsCipher(),
            event.target(),
            event.upstreamRole(),
            event.policyVersion(),
            event.maskingExemptions(),
            event.previousHash());
    assertThat(SessionChain.hash(other)).isNotEqualTo(hash);
    assertThat(SessionChain.hash(event.chainedAfter("f".repeat(64)))).isNotEqualTo(hash);
  }
}
