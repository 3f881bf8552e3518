package io.portcullis.persistence.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.rules.ApprovalTerms;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The approval entity on its own: every command and event goes through Jackson CBOR (the testkit's
 * serialization checks are on), and its state survives a restart by replay.
 */
class ApprovalTest {

  private static final ActorTestKit testKit =
      ActorTestKit.create(
          EventSourcedBehaviorTestKit.config()
              .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
              .withFallback(ConfigFactory.load()));

  private static final Identity BOT =
      new Identity("payments-bot", "https://idp", Set.of("agents"), true);
  private static final Identity CAROL =
      new Identity("carol", "https://idp", Set.of("security-analysts"), false);
  private static final Identity DAVE =
      new Identity("dave", "https://idp", Set.of("security-analysts"), false);
  private static final Identity MALLORY =
      new Identity("mallory", "https://idp", Set.of("analysts"), false);

  private final List<ApprovalView> announced = new java.util.concurrent.CopyOnWriteArrayList<>();
  private EventSourcedBehaviorTestKit<Approval.Command, ApprovalEvent, ApprovalState> entity;

  @BeforeEach
  void fresh() {
    announced.clear();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private ApprovalRequest request(ApprovalTerms terms) {
    return new ApprovalRequest(
        "session-1",
        7,
        BOT,
        "main",
        "SELECT ssn FROM customers WHERE id = $1",
        "select ssn from customers where id = $1",
        List.of("42"),
        List.of("pii"),
        "PII needs approval",
        "sha256:abc",
        terms);
  }

  private static ApprovalTerms terms(int required, Duration timeout, Optional<Duration> grant) {
    return new ApprovalTerms(
        ApprovalTerms.Mode.WAIT, timeout, Set.of("security-analysts"), required, grant);
  }

  private ApprovalRequest start(ApprovalTerms terms) {
    ApprovalRequest request = request(terms);
    entity =
        EventSourcedBehaviorTestKit.create(
            testKit.system(), Approval.create(request.entityId(), announced::add));
    return request;
  }

  private Approval.Outcome submit(ApprovalRequest request) {
    return entity
        .<Approval.Outcome>runCommand(replyTo -> new Approval.Submit(request, replyTo))
        .reply();
  }

  private Approval.Answer decide(String id, Identity who, boolean approve, String reason) {
    return entity
        .<Approval.Answer>runCommand(
            replyTo ->
                new Approval.Decide(
                    ApprovalId.parse(id).orElseThrow(), who, approve, reason, replyTo))
        .reply();
  }

  @Test
  void approvedStatementRunsOnceThenANewRequestIsMade() {
    ApprovalRequest request = start(terms(1, Duration.ofMinutes(10), Optional.empty()));
    Approval.Pending pending = (Approval.Pending) submit(request);
    assertThat(pending.approvalId()).isEqualTo(request.entityId());
    assertThat(announced).hasSize(1);
    assertThat(submit(request))
        .as("the same request again waits on the same approval")
        .isEqualTo(pending);
    assertThat(announced).hasSize(1);

    Approval.Found found = (Approval.Found) decide(pending.approvalId(), CAROL, true, "ok");
    assertThat(found.approval().status()).isEqualTo("approved");

    CommandResultWithReply<Approval.Command, ApprovalEvent, ApprovalState, Approval.Outcome> run =
        entity.runCommand(replyTo -> new Approval.Submit(request, replyTo));
    assertThat(run.reply()).isInstanceOf(Approval.Cleared.class);
    assertThat(run.event()).isInstanceOf(ApprovalEvent.Executed.class);

    Approval.Pending next = (Approval.Pending) submit(request);
    assertThat(next.approvalId()).isEqualTo(request.entityId() + "-2");
  }

  @Test
  void aSessionWhoseClaimAnswerWasLostIsClearedAgainAndNobodyElseIs() {
    ApprovalRequest request = start(terms(1, Duration.ofMinutes(10), Optional.empty()));
    Approval.Pending pending = (Approval.Pending) submit(request);
    decide(pending.approvalId(), CAROL, true, "ok");
    ApprovalId id = ApprovalId.parse(pending.approvalId()).orElseThrow();

    assertThat(claim(id, "session-1")).isInstanceOf(Approval.Cleared.class);
    assertThat(claim(id, "session-1"))
        .as("the same session again: its first answer was lost")
        .isInstanceOf(Approval.Cleared.class);
    assertThat(claim(id, "session-2"))
        .as("another session: the statement has run")
        .isInstanceOf(Approval.Refused.class);
    entity.restart();
    assertThat(claim(id, "session-1")).isInstanceOf(Approval.Cleared.class);
  }

  private Approval.Outcome claim(ApprovalId id, String sessionId) {
    return entity
        .<Approval.Outcome>runCommand(replyTo -> new Approval.Claim(id, sessionId, replyTo))
        .reply();
  }

  @Test
  void approversMustBeOthersInTheRightGroupsAndDistinct() {
    ApprovalRequest request = start(terms(2, Duration.ofMinutes(10), Optional.empty()));
    String id = ((Approval.Pending) submit(request)).approvalId();
    Identity botAsAnalyst =
        new Identity("payments-bot", "https://idp", Set.of("security-analysts"), true);
    assertThat(((Approval.Rejected) decide(id, botAsAnalyst, true, "")).problem())
        .isEqualTo(Approval.Problem.FORBIDDEN);
    assertThat(((Approval.Rejected) decide(id, MALLORY, true, "")).problem())
        .isEqualTo(Approval.Problem.FORBIDDEN);
    assertThat(((Approval.Found) decide(id, CAROL, true, "")).approval().status())
        .isEqualTo("pending");
    assertThat(((Approval.Rejected) decide(id, CAROL, true, "")).problem())
        .isEqualTo(Approval.Problem.CONFLICT);
    assertThat(((Approval.Found) decide(id, DAVE, true, "")).approval().status())
        .isEqualTo("approved");
  }

  @Test
  void denialNeedsAReasonAndReachesTheWaitingSession() {
    ApprovalRequest request = start(terms(1, Duration.ofMinutes(10), Optional.empty()));
    String id = ((Approval.Pending) submit(request)).approvalId();
    TestProbe<Approval.Decided> watcher = testKit.createTestProbe();
    entity.runCommand(new Approval.Watch(ApprovalId.parse(id).orElseThrow(), watcher.getRef()));
    assertThat(((Approval.Rejected) decide(id, CAROL, false, "  ")).problem())
        .isEqualTo(Approval.Problem.INVALID);
    decide(id, CAROL, false, "not needed");
    watcher.expectMessage(new Approval.Decided(id));

    Approval.Refused refused =
        (Approval.Refused)
            entity
                .<Approval.Outcome>runCommand(
                    replyTo ->
                        new Approval.Claim(
                            ApprovalId.parse(id).orElseThrow(), "session-1", replyTo))
                .reply();
    assertThat(refused.status()).isEqualTo(ApprovalStatus.DENIED);
    assertThat(refused.reason()).isEqualTo("not needed");
    assertThat(refused.by()).containsExactly(CAROL);
  }

  @Test
  void unansweredRequestExpiresOnItsOwnAndCannotBeApprovedAfterwards() {
    ApprovalRequest request = start(terms(1, Duration.ofMillis(300), Optional.empty()));
    String id = ((Approval.Pending) submit(request)).approvalId();
    TestProbe<Approval.Decided> watcher = testKit.createTestProbe();
    entity.runCommand(new Approval.Watch(ApprovalId.parse(id).orElseThrow(), watcher.getRef()));
    watcher.expectMessage(Duration.ofSeconds(3), new Approval.Decided(id));
    assertThat(((Approval.Rejected) decide(id, CAROL, true, "")).problem())
        .isEqualTo(Approval.Problem.CONFLICT);
    assertThat(entity.getState().latest().orElseThrow().expiredAt()).isPresent();
  }

  @Test
  void grantClearsEveryRequestWhileItsWindowLasts() {
    ApprovalRequest request =
        start(terms(1, Duration.ofMinutes(10), Optional.of(Duration.ofMinutes(30))));
    String id = ((Approval.Pending) submit(request)).approvalId();
    decide(id, CAROL, true, "incident 7");
    Approval.Cleared first = (Approval.Cleared) submit(request);
    Approval.Cleared second = (Approval.Cleared) submit(request);
    assertThat(first.grantUntil()).isPresent();
    assertThat(second.approvalId()).isEqualTo(id);
  }

  @Test
  void aPendingRequestSurvivesARestart() {
    ApprovalRequest request = start(terms(1, Duration.ofMinutes(10), Optional.empty()));
    String id = ((Approval.Pending) submit(request)).approvalId();
    entity.restart();
    assertThat(submit(request)).isInstanceOf(Approval.Pending.class);
    decide(id, CAROL, true, "");
    entity.restart();
    assertThat(submit(request)).isInstanceOf(Approval.Cleared.class);
  }

  @Test
  void idsNameTheirEntityAndRound() {
    assertThat(ApprovalId.parse("a-0123456789ab")).contains(new ApprovalId("a-0123456789ab", 1));
    assertThat(ApprovalId.parse("a-0123456789ab-3")).contains(new ApprovalId("a-0123456789ab", 3));
    assertThat(ApprovalId.parse("a-0123456789ab-0")).isEmpty();
    assertThat(ApprovalId.parse("a-0123456789ab-1")).as("the first has no suffix").isEmpty();
    assertThat(ApprovalId.parse("a-0123456789AB")).isEmpty();
    assertThat(ApprovalId.parse("x")).isEmpty();
    assertThat(new ApprovalId("a-0123456789ab", 2).toString()).isEqualTo("a-0123456789ab-2");
  }
}
