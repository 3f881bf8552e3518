package io.portcullis.persistence.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.portcullis.persistence.audit.LoginJournal.LoginFailed;
import java.time.Instant;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A day's failed logins go through Jackson CBOR, chained, and the chain goes on after a restart.
 */
class LoginJournalTest {

  private static final ActorTestKit testKit =
      ActorTestKit.create(
          EventSourcedBehaviorTestKit.config()
              .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
              .withFallback(ConfigFactory.load()));

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static LoginFailed failure(String user) {
    return new LoginFailed(
        SessionEvent.SCHEMA_VERSION,
        Instant.parse("2026-11-26T09:30:00Z"),
        user,
        "10.1.2.3",
        true,
        "main",
        Optional.of("https://idp.bank.example"),
        Optional.of("sha256:5f1c"),
        "28P01",
        "the token's signature does not verify",
        null);
  }

  @Test
  void failuresAreChainedAcrossARestart() {
    EventSourcedBehaviorTestKit<LoginJournal.Command, LoginFailed, LoginJournal.State> day =
        EventSourcedBehaviorTestKit.create(testKit.system(), LoginJournal.create("2026-11-26"));

    LoginFailed first = day.runCommand(new LoginJournal.Record(failure("mallory"))).events().get(0);
    assertThat(first.previousHash()).isEqualTo(SessionChain.GENESIS);

    day.restart();
    LoginFailed second = day.runCommand(new LoginJournal.Record(failure("eve"))).events().get(0);
    assertThat(second.previousHash()).isEqualTo(SessionChain.hash(first));
    assertThat(second.credential()).contains("sha256:5f1c");
  }
}
