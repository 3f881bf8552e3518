package io.portcullis.persistence.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.portcullis.persistence.audit.SessionEvent.PolicyDecided;
import io.portcullis.persistence.audit.SessionEvent.SessionClosed;
import io.portcullis.persistence.audit.SessionEvent.SessionOpened;
import io.portcullis.persistence.audit.SessionEvent.StatementCompleted;
import io.portcullis.persistence.audit.SessionEvent.StatementReceived;
import java.time.Instant;
import java.util.Arrays;
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
  private static final Instant AT = Instant.parse("2026-11-26T09:30:00.123456789Z");

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static SessionOpened opened() {
    return new SessionOpened(
        SessionEvent.SCHEMA_VERSION,
        AT,
        "s-1",
        "node-1",
        "recon-bot",
        "https://idp",
        List.of("agents"),
        true,
        "10.1.2.3",
        51234,
        "recon",
        Optional.of("TLSv1.3"),
        Optional.of("TLS_AES_256_GCM_SHA384"),
        "main",
        "portcullis_agents",
        "sha256:abc",
        List.of(),
        null);
  }

  static List<SessionEvent> statement(long number) {
    return List.of(
        new StatementReceived(
            SessionEvent.SCHEMA_VERSION,
            AT,
            number,
            "SELECT ssn FROM bank.customers WHERE id = $1",
            "extended",
            "S_1",
            "",
            List.of("42"),
            Optional.of("aesgcm1.0011223344556677.c2VhbGVk"),
            null),
        new PolicyDecided(
            SessionEvent.SCHEMA_VERSION,
            AT,
            number,
            "allow",
            List.of("agents-read"),
            "sha256:abc",
            "",
            List.of("bank.customers"),
            Optional.empty(),
            null),
        new StatementCompleted(
            SessionEvent.SCHEMA_VERSION,
            AT,
            number,
            Optional.of("SELECT 1"),
            1,
            840,
            Optional.empty(),
            List.of(Arrays.asList("*******6789", null)),
            true,
            "ab12",
            null));
  }

  @Test
  void eventsAreChainedAndTheChainGoesOnAfterARestart() {
    EventSourcedBehaviorTestKit<SessionJournal.Command, SessionEvent, SessionJournal.State>
        journal =
            EventSourcedBehaviorTestKit.create(testKit.system(), SessionJournal.create("s-1"));
    var first =
        journal.<Done>runCommand(replyTo -> new SessionJournal.Append(List.of(opened()), replyTo));
    assertThat(first.reply()).isEqualTo(Done.getInstance());
    assertThat(first.eventOfType(SessionOpened.class).previousHash())
        .isEqualTo(SessionChain.GENESIS);

    var second =
        journal.<Done>runCommand(replyTo -> new SessionJournal.Append(statement(1), replyTo));
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
            replyTo ->
                new SessionJournal.Append(
                    List.of(new SessionClosed(SessionEvent.SCHEMA_VERSION, AT, "terminate", null)),
                    replyTo));
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
        journal.<Done>runCommand(replyTo -> new SessionJournal.Append(List.of(opened()), replyTo));
    ledger.expectMessage(
        new LedgerCheckpointer.HeadMoved(new SessionHead("s-2", 1, opened.state().head(), false)));
    var closed =
        journal.<Done>runCommand(
            replyTo ->
                new SessionJournal.Append(
                    List.of(new SessionClosed(SessionEvent.SCHEMA_VERSION, AT, "terminate", null)),
                    replyTo));
    ledger.expectMessage(
        new LedgerCheckpointer.HeadMoved(new SessionHead("s-2", 2, closed.state().head(), true)));
  }

  @Test
  void anyChangeToAnEventChangesItsHash() {
    SessionOpened event = opened().chainedAfter(SessionChain.GENESIS);
    String hash = SessionChain.hash(event);
    assertThat(SessionChain.hash(opened().chainedAfter(SessionChain.GENESIS))).isEqualTo(hash);
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
