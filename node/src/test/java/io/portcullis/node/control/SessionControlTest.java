package io.portcullis.node.control;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.portcullis.node.session.SessionActor;
import java.time.Duration;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sharded handle of a session, on a one-node cluster with every message serialized, as it would
 * be between nodes.
 */
class SessionControlTest {

  private static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit =
        ActorTestKit.create(
            ConfigFactory.parseString(
                    """
                    pekko.actor.provider = cluster
                    pekko.actor.serialize-messages = on
                    pekko.remote.artery.canonical.port = 0
                    pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                    """)
                .withFallback(ConfigFactory.load()));
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    SessionControl.init(testKit.system());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static EntityRef<SessionControl.Command> entity(String processId) {
    return ClusterSharding.get(testKit.system()).entityRefFor(SessionControl.ENTITY_KEY, processId);
  }

  private static StatusReply<Done> register(
      String processId, int secret, ActorRef<SessionActor.Command> session) {
    TestProbe<StatusReply<Done>> reply = testKit.createTestProbe();
    entity(processId).tell(new SessionControl.Register(secret, session, reply.getRef()));
    return reply.receiveMessage(Duration.ofSeconds(10));
  }

  @Test
  void cancelWithTheRightSecretReachesTheSessionAndAWrongOneDoesNot() {
    TestProbe<SessionActor.Command> session = testKit.createTestProbe();
    assertThat(register("101", 4242, session.getRef()).isSuccess()).isTrue();
    entity("101").tell(new SessionControl.Cancel(1));
    session.expectNoMessage(Duration.ofMillis(300));
    entity("101").tell(new SessionControl.Cancel(4242));
    session.expectMessage(new SessionActor.CancelQuery());
  }

  @Test
  void aProcessIdCannotBeRegisteredTwice() {
    TestProbe<SessionActor.Command> first = testKit.createTestProbe();
    TestProbe<SessionActor.Command> second = testKit.createTestProbe();
    assertThat(register("202", 1, first.getRef()).isSuccess()).isTrue();
    assertThat(register("202", 2, second.getRef()).isError()).isTrue();
  }

  @Test
  void endIsForwardedAndTheHandleGoesAwayWithItsSession() {
    TestProbe<SessionActor.Command> session = testKit.createTestProbe();
    assertThat(register("303", 7, session.getRef()).isSuccess()).isTrue();
    TestProbe<StatusReply<Done>> reply = testKit.createTestProbe();
    entity("303").tell(new SessionControl.End("maintenance", reply.getRef()));
    session.expectMessage(new SessionActor.EndSession("maintenance"));
    assertThat(reply.receiveMessage().isSuccess()).isTrue();

    session.stop();
    // Once the session has stopped, the id is free again and End finds nobody.
    TestProbe<StatusReply<Done>> later = testKit.createTestProbe();
    reply.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          entity("303").tell(new SessionControl.End("again", later.getRef()));
          assertThat(later.receiveMessage().getError().getMessage()).contains("no such session");
          return null;
        });
  }
}
