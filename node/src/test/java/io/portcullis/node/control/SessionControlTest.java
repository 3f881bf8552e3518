package io.portcullis.node.control;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.portcullis.node.control.SessionControl.EndOutcome;
import io.portcullis.node.session.SessionActor;
import java.time.Duration;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two nodes' session controls in a two-node cluster, every message serialized as between nodes: a
 * cancel or an "end session" that reaches one node acts on the session of the other.
 */
class SessionControlTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(15);

  private static ActorTestKit node1;
  private static ActorTestKit node2;
  private static ActorRef<SessionControl.Command> control1;
  private static ActorRef<SessionControl.Command> control2;

  @BeforeAll
  static void formCluster() {
    node1 = node();
    node2 = node();
    Cluster first = Cluster.get(node1.system());
    first.manager().tell(Join.create(first.selfMember().address()));
    Cluster.get(node2.system()).manager().tell(Join.create(first.selfMember().address()));
    TestProbe<Object> probe = node1.createTestProbe();
    probe.awaitAssert(
        TIMEOUT,
        () -> {
          assertThat(first.state().getMembers())
              .hasSize(2)
              .allMatch(member -> member.status() == MemberStatus.up());
          return null;
        });
    control1 = node1.spawn(SessionControl.create(), "session-control");
    control2 = node2.spawn(SessionControl.create(), "session-control");
    TestProbe<Receptionist.Listing> listing = node1.createTestProbe();
    listing.awaitAssert(
        TIMEOUT,
        () -> {
          node1
              .system()
              .receptionist()
              .tell(Receptionist.find(SessionControl.SERVICE_KEY, listing.getRef()));
          assertThat(listing.receiveMessage().getServiceInstances(SessionControl.SERVICE_KEY))
              .hasSize(2);
          node2
              .system()
              .receptionist()
              .tell(Receptionist.find(SessionControl.SERVICE_KEY, listing.getRef()));
          assertThat(listing.receiveMessage().getServiceInstances(SessionControl.SERVICE_KEY))
              .hasSize(2);
          return null;
        });
  }

  private static ActorTestKit node() {
    return ActorTestKit.create(
        ConfigFactory.parseString(
                """
                pekko.actor.provider = cluster
                pekko.actor.serialize-messages = on
                pekko.remote.artery.canonical.port = 0
                pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                """)
            .withFallback(ConfigFactory.load()));
  }

  @AfterAll
  static void stop() {
    node2.shutdownTestKit();
    node1.shutdownTestKit();
  }

  private static SessionControl.BackendKey register(
      ActorTestKit node,
      ActorRef<SessionControl.Command> control,
      String sessionId,
      ActorRef<SessionActor.Command> session) {
    TestProbe<SessionControl.Registration> reply = node.createTestProbe();
    control.tell(new SessionControl.Register(sessionId, session, reply.getRef()));
    return reply.receiveMessage(TIMEOUT).key().orElseThrow();
  }

  private static EndOutcome end(String sessionId) {
    TestProbe<EndOutcome> reply = node2.createTestProbe();
    control2.tell(new SessionControl.End(sessionId, "maintenance", reply.getRef()));
    return reply.receiveMessage(TIMEOUT);
  }

  @Test
  void aCancelSentToAnotherNodeReachesTheSessionOnlyWithTheRightSecret() {
    TestProbe<SessionActor.Command> session = node1.createTestProbe();
    SessionControl.BackendKey key = register(node1, control1, "s-cancel", session.getRef());
    control2.tell(new SessionControl.Cancel(key.processId(), key.secretKey() + 1));
    session.expectNoMessage(Duration.ofMillis(500));
    control2.tell(new SessionControl.Cancel(key.processId(), key.secretKey()));
    session.expectMessage(TIMEOUT, new SessionActor.CancelQuery());
  }

  @Test
  void sessionsOfANodeGetDistinctKeys() {
    TestProbe<SessionActor.Command> first = node1.createTestProbe();
    TestProbe<SessionActor.Command> second = node1.createTestProbe();
    assertThat(register(node1, control1, "s-a", first.getRef()).processId())
        .isNotEqualTo(register(node1, control1, "s-b", second.getRef()).processId());
  }

  @Test
  void endingASessionByIdWorksFromAnotherNodeAndIsUnknownOnceItIsGone() {
    TestProbe<SessionActor.Command> session = node1.createTestProbe();
    register(node1, control1, "s-end", session.getRef());
    assertThat(end("s-end")).isEqualTo(EndOutcome.ENDED);
    session.expectMessage(TIMEOUT, new SessionActor.EndSession("maintenance"));

    session.stop();
    session.awaitAssert(
        TIMEOUT,
        () -> {
          assertThat(end("s-end")).isEqualTo(EndOutcome.NO_SUCH_SESSION);
          return null;
        });
  }

  @Test
  void aDrainingNodeRefusesNewSessionsAndEndsTheOpenOnesAtTheDeadline() {
    ActorTestKit node = node();
    Cluster cluster = Cluster.get(node.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    ActorRef<SessionControl.Command> control = node.spawn(SessionControl.create());
    TestProbe<SessionActor.Command> open = node.createTestProbe();
    register(node, control, "s-open", open.getRef());

    TestProbe<Done> drained = node.createTestProbe();
    control.tell(
        new SessionControl.Drain(Duration.ofSeconds(1), "shutting down", drained.getRef()));
    TestProbe<SessionControl.Registration> refused = node.createTestProbe();
    control.tell(
        new SessionControl.Register(
            "s-late", node.<SessionActor.Command>createTestProbe().getRef(), refused.getRef()));
    assertThat(refused.receiveMessage(TIMEOUT).key()).isEmpty();

    open.expectNoMessage(Duration.ofMillis(700));
    open.expectMessage(TIMEOUT, new SessionActor.EndSession("shutting down"));
    drained.expectNoMessage(Duration.ofMillis(200));
    open.stop();
    drained.expectMessage(TIMEOUT, Done.getInstance());
    node.shutdownTestKit();
  }
}
