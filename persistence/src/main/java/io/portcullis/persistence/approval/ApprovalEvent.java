package io.portcullis.persistence.approval;

import io.portcullis.persistence.CborSerializable;
import io.portcullis.policy.identity.Identity;
import java.time.Instant;

/** What happened to an approval: its journal. Each event belongs to one request (round). */
public sealed interface ApprovalEvent extends CborSerializable {

  int round();

  record Requested(int round, ApprovalRequest request, Instant at, Instant expiresAt)
      implements ApprovalEvent {}

  /** One approver agreed; the request is approved once the rule's required number have. */
  record Approved(int round, Identity approver, String reason, Instant at)
      implements ApprovalEvent {}

  record Denied(int round, Identity approver, String reason, Instant at) implements ApprovalEvent {}

  /** Nobody decided in time, or an approved statement was not run in time. */
  record Expired(int round, Instant at) implements ApprovalEvent {}

  /** The approved statement was sent to the upstream, by {@code sessionId}. */
  record Executed(int round, String sessionId, Instant at) implements ApprovalEvent {}
}
