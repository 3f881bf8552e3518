package io.portcullis.node.approval;

import io.portcullis.persistence.approval.Approval;
import io.portcullis.persistence.approval.ApprovalDirectory;
import io.portcullis.persistence.approval.ApprovalId;
import io.portcullis.persistence.approval.ApprovalRequest;
import io.portcullis.persistence.approval.ApprovalStatus;
import io.portcullis.persistence.approval.ApprovalView;
import io.portcullis.policy.identity.Identity;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The node's way to the cluster's approval entities, for sessions (submit, wait, claim) and for
 * approvers (list, show, decide).
 */
public final class Approvals {

  /** How long a request to an approval entity may take before the caller treats it as failed. */
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);

  private final ClusterSharding sharding;
  private final ApprovalDirectory directory;

  private Approvals(ClusterSharding sharding, ApprovalDirectory directory) {
    this.sharding = sharding;
    this.directory = directory;
  }

  /**
   * Starts the approval entities on this node and the read side that lists them.
   *
   * @param announcer told of each new request (webhooks)
   */
  public static Approvals start(ActorSystem<?> system, Consumer<ApprovalView> announcer) {
    ClusterSharding sharding = ClusterSharding.get(system);
    sharding.init(
        Entity.of(Approval.TYPE_KEY, context -> Approval.create(context.getEntityId(), announcer)));
    return new Approvals(sharding, ApprovalDirectory.start(system));
  }

  public CompletionStage<Approval.Outcome> submit(ApprovalRequest request) {
    return entity(request.entityId())
        .ask(replyTo -> new Approval.Submit(request, replyTo), ASK_TIMEOUT);
  }

  public CompletionStage<Approval.Outcome> claim(ApprovalId id, String sessionId) {
    return entity(id.entityId())
        .ask(replyTo -> new Approval.Claim(id, sessionId, replyTo), ASK_TIMEOUT);
  }

  /** Completes when the request is decided or expired, or fails after {@code atMost}. */
  public CompletionStage<Approval.Decided> watch(ApprovalId id, Duration atMost) {
    return entity(id.entityId()).ask(replyTo -> new Approval.Watch(id, replyTo), atMost);
  }

  public CompletionStage<Approval.Answer> get(ApprovalId id) {
    return entity(id.entityId()).ask(replyTo -> new Approval.Get(id, replyTo), ASK_TIMEOUT);
  }

  public CompletionStage<Approval.Answer> decide(
      ApprovalId id, Identity approver, boolean approve, String reason) {
    return entity(id.entityId())
        .ask(replyTo -> new Approval.Decide(id, approver, approve, reason, replyTo), ASK_TIMEOUT);
  }

  /** Requests with that status (all when empty), newest first, as the read side knows them. */
  public List<ApprovalView> list(Optional<ApprovalStatus> status) {
    return directory.list(status, Instant.now());
  }

  private EntityRef<Approval.Command> entity(String entityId) {
    return sharding.entityRefFor(Approval.TYPE_KEY, entityId);
  }
}
