package io.portcullis.persistence.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The ledger entity on its own: checkpoints go through Jackson CBOR (the testkit's serialization
 * checks are on), are numbered, chained and signed, and the chain goes on after a restart.
 */
class LedgerTest {

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
  void checkpointsAreNumberedChainedSignedAndGoOnAfterARestart() {
    LedgerKey key = LedgerKey.generate();
    EventSourcedBehaviorTestKit<Ledger.Command, LedgerCheckpoint, Ledger.State> ledger =
        EventSourcedBehaviorTestKit.create(testKit.system(), Ledger.create("node-1", key));
    List<SessionHead> heads =
        List.of(
            new SessionHead("s-1", 4, "ab".repeat(32), false),
            new SessionHead("s-2", 7, "cd".repeat(32), true));

    var first = ledger.<Done>runCommand(replyTo -> new Ledger.Checkpoint(heads, replyTo));
    assertThat(first.reply()).isEqualTo(Done.getInstance());
    LedgerCheckpoint one = first.eventOfType(LedgerCheckpoint.class);
    assertThat(one.number()).isEqualTo(1);
    assertThat(one.node()).isEqualTo("node-1");
    assertThat(one.heads()).isEqualTo(heads);
    assertThat(one.previousHash()).isEqualTo(SessionChain.GENESIS);
    assertThat(one.publicKey()).isEqualTo(key.publicKey());
    assertThat(LedgerKey.verifies(one)).isTrue();
    assertThat(first.state()).isEqualTo(new Ledger.State(SessionChain.hash(one), 1));

    ledger.restart();
    var second =
        ledger.<Done>runCommand(
            replyTo ->
                new Ledger.Checkpoint(
                    List.of(new SessionHead("s-1", 6, "ef".repeat(32), true)), replyTo));
    LedgerCheckpoint two = second.eventOfType(LedgerCheckpoint.class);
    assertThat(two.number()).as("recovered count").isEqualTo(2);
    assertThat(two.previousHash()).as("recovered head").isEqualTo(SessionChain.hash(one));
    assertThat(LedgerKey.verifies(two)).isTrue();
  }
}
