package io.portcullis.persistence.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** When a node's checkpoints are written, on the persistence testkit's journal. */
class LedgerCheckpointerTest {

  private static final ActorTestKit testKit =
      ActorTestKit.create(
          PersistenceTestKitPlugin.getInstance()
              .config()
              .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
              .withFallback(ConfigFactory.load()));
  private static final PersistenceTestKit journal = PersistenceTestKit.create(testKit.system());
  private static final AtomicInteger nodes = new AtomicInteger();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void clear() {
    journal.clearAll();
    journal.resetPolicy();
  }

  private static SessionHead head(String session, long sequenceNumber, boolean closed) {
    return new SessionHead(session, sequenceNumber, Long.toHexString(sequenceNumber), closed);
  }

  /** A checkpointer of a node of its own, and its ledger's persistence id. */
  private record Started(ActorRef<LedgerCheckpointer.Command> checkpointer, String ledger) {
    void moved(String session, long sequenceNumber, boolean closed) {
      checkpointer.tell(new LedgerCheckpointer.HeadMoved(head(session, sequenceNumber, closed)));
    }
  }

  private static Started start(Duration every) {
    String node = "node-" + nodes.incrementAndGet();
    return new Started(
        testKit.spawn(LedgerCheckpointer.create(node, LedgerKey.generate(), every)),
        Ledger.persistenceId(node).id());
  }

  @Test
  void closesArrivingTogetherShareOnePromptCheckpoint() {
    Started node = start(Duration.ofHours(1));
    node.moved("s-1", 3, false);
    journal.expectNothingPersisted(node.ledger(), Duration.ofMillis(500));

    node.moved("s-1", 5, true);
    node.moved("s-2", 9, true);
    LedgerCheckpoint checkpoint =
        journal.expectNextPersistedClass(node.ledger(), LedgerCheckpoint.class);
    assertThat(checkpoint.heads()).containsExactly(head("s-1", 5, true), head("s-2", 9, true));
    journal.expectNothingPersisted(node.ledger(), Duration.ofMillis(500));
  }

  @Test
  void headsThatMovedAreCheckpointedEveryIntervalAndNothingWhenNothingMoved() {
    Started node = start(Duration.ofMillis(300));
    node.moved("s-1", 1, false);
    node.moved("s-1", 4, false);
    assertThat(journal.expectNextPersistedClass(node.ledger(), LedgerCheckpoint.class).heads())
        .containsExactly(head("s-1", 4, false));
    journal.expectNothingPersisted(node.ledger(), Duration.ofSeconds(1));

    node.moved("s-1", 6, false);
    LedgerCheckpoint second =
        journal.expectNextPersistedClass(node.ledger(), LedgerCheckpoint.class);
    assertThat(second.number()).isEqualTo(2);
    assertThat(second.heads()).containsExactly(head("s-1", 6, false));
  }

  @Test
  void aFailedCheckpointIsWrittenAgainWithItsHeads() {
    Started node = start(Duration.ofMillis(300));
    journal.failNextPersisted(node.ledger());
    node.moved("s-1", 5, true);
    LedgerCheckpoint retried =
        journal.expectNextPersistedClass(
            node.ledger(), LedgerCheckpoint.class, Duration.ofSeconds(15));
    assertThat(retried.number()).isEqualTo(1);
    assertThat(retried.heads()).containsExactly(head("s-1", 5, true));
  }

  @Test
  void aFlushIsAnsweredOnceEveryHeadIsCheckpointed() {
    Started node = start(Duration.ofHours(1));
    TestProbe<Done> flushed = testKit.createTestProbe();
    node.checkpointer().tell(new LedgerCheckpointer.Flush(flushed.getRef()));
    flushed.expectMessage(Done.getInstance());
    journal.expectNothingPersisted(node.ledger(), Duration.ofMillis(300));

    node.moved("s-1", 2, false);
    node.checkpointer().tell(new LedgerCheckpointer.Flush(flushed.getRef()));
    flushed.expectMessage(Done.getInstance());
    assertThat(journal.expectNextPersistedClass(node.ledger(), LedgerCheckpoint.class).heads())
        .containsExactly(head("s-1", 2, false));
  }
}
