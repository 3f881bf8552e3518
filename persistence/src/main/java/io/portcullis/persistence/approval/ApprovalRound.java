package io.portcullis.persistence.approval;

import io.portcullis.policy.identity.Identity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One request of an approval entity, and what approvers did with it.
 *
 * @param expiredAt when an {@code Expired} event closed it; a request past its time counts as
 *     expired before that event is written (see {@link #status})
 * @param executedBy the session that ran the approved statement
 */
public record ApprovalRound(
    int number,
    ApprovalRequest request,
    Instant requestedAt,
    Instant expiresAt,
    List<Decision> decisions,
    Optional<Instant> expiredAt,
    Optional<Instant> executedAt,
    Optional<String> executedBy) {

  public record Decision(Identity approver, boolean approve, String reason, Instant at) {}

  public ApprovalRound {
    decisions = List.copyOf(decisions);
  }

  static ApprovalRound requested(
      int number, ApprovalRequest request, Instant requestedAt, Instant expiresAt) {
    return new ApprovalRound(
        number,
        request,
        requestedAt,
        expiresAt,
        List.of(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }

  public ApprovalId id(String entityId) {
    return new ApprovalId(entityId, number);
  }

  ApprovalRound decided(Decision decision) {
    List<Decision> all = new ArrayList<>(decisions);
    all.add(decision);
    return new ApprovalRound(
        number, request, requestedAt, expiresAt, all, expiredAt, executedAt, executedBy);
  }

  ApprovalRound expired(Instant at) {
    return new ApprovalRound(
        number,
        request,
        requestedAt,
        expiresAt,
        decisions,
        Optional.of(at),
        executedAt,
        executedBy);
  }

  ApprovalRound executed(String sessionId, Instant at) {
    return new ApprovalRound(
        number,
        request,
        requestedAt,
        expiresAt,
        decisions,
        expiredAt,
        Optional.of(at),
        Optional.of(sessionId));
  }

  /** When the last required approver approved. */
  public Optional<Instant> approvedAt() {
    int required = request.terms().required();
    int approvals = 0;
    for (Decision decision : decisions) {
      if (!decision.approve()) {
        return Optional.empty();
      }
      if (++approvals == required) {
        return Optional.of(decision.at());
      }
    }
    return Optional.empty();
  }

  /**
   * Until when an approval holds: for a grant, the end of its window; for a statement, the time the
   * client has to run it (the rule's timeout again, counted from the approval).
   */
  public Optional<Instant> approvalValidUntil() {
    return approvedAt()
        .map(at -> at.plus(request.terms().grant().orElse(request.terms().timeout())));
  }

  public List<Identity> approvers() {
    return decisions.stream().filter(Decision::approve).map(Decision::approver).toList();
  }

  public boolean approvedBy(Identity person) {
    return decisions.stream()
        .anyMatch(decision -> decision.approve() && samePerson(decision.approver(), person));
  }

  public Optional<Decision> denial() {
    return decisions.stream().filter(decision -> !decision.approve()).findFirst();
  }

  public ApprovalStatus status(Instant now) {
    if (executedAt.isPresent()) {
      return ApprovalStatus.EXECUTED;
    }
    if (denial().isPresent()) {
      return ApprovalStatus.DENIED;
    }
    if (expiredAt.isPresent()) {
      return ApprovalStatus.EXPIRED;
    }
    Optional<Instant> validUntil = approvalValidUntil();
    if (validUntil.isPresent()) {
      return now.isBefore(validUntil.get()) ? ApprovalStatus.APPROVED : ApprovalStatus.EXPIRED;
    }
    return now.isBefore(expiresAt) ? ApprovalStatus.PENDING : ApprovalStatus.EXPIRED;
  }

  static boolean samePerson(Identity a, Identity b) {
    return a.subject().equals(b.subject()) && a.issuer().equals(b.issuer());
  }
}
