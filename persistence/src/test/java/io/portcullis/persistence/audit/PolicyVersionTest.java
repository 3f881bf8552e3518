package io.portcullis.persistence.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.portcullis.persistence.audit.PolicyVersion.PolicyEnforced;
import io.portcullis.persistence.audit.PolicyVersion.PolicyStored;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A policy version's text is stored once, however many nodes put it in force, also after a restart.
 */
class PolicyVersionTest {

  private static final ActorTestKit testKit =
      ActorTestKit.create(
          EventSourcedBehaviorTestKit.config()
              .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
              .withFallback(ConfigFactory.load()));
  private static final String TEXT = "default: deny\nrules: []\n";

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void theTextIsStoredOnceAndEveryNodeThatEnforcesItIsRecorded() {
    EventSourcedBehaviorTestKit<PolicyVersion.Command, PolicyVersion.Event, PolicyVersion.State>
        version =
            EventSourcedBehaviorTestKit.create(
                testKit.system(), PolicyVersion.create("sha256:0123"));

    var first =
        version.<Done>runCommand(replyTo -> new PolicyVersion.InForce(TEXT, "node-1", replyTo));
    assertThat(first.reply()).isEqualTo(Done.getInstance());
    assertThat(first.events()).hasSize(2);
    PolicyStored stored = (PolicyStored) first.events().get(0);
    assertThat(stored.version()).isEqualTo("sha256:0123");
    assertThat(stored.text()).isEqualTo(TEXT);
    assertThat(((PolicyEnforced) first.events().get(1)).node()).isEqualTo("node-1");

    version.restart();
    var second =
        version.<Done>runCommand(replyTo -> new PolicyVersion.InForce(TEXT, "node-2", replyTo));
    assertThat(second.events())
        .singleElement()
        .isInstanceOfSatisfying(
            PolicyEnforced.class, enforced -> assertThat(enforced.node()).isEqualTo("node-2"));
  }
}
