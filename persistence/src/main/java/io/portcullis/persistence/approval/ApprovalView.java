package io.portcullis.persistence.approval;

import io.portcullis.persistence.CborSerializable;
import io.portcullis.policy.identity.Identity;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/** An approval request as approvers see it: the admin API's JSON and the CLI's output. */
public record ApprovalView(
    String id,
    String status,
    String kind,
    Identity requester,
    String session,
    long sessionStatement,
    String target,
    String statement,
    List<String> parameters,
    List<String> rules,
    String reason,
    String policyVersion,
    String mode,
    Set<String> approverGroups,
    int required,
    Optional<Duration> grant,
    Optional<Instant> grantUntil,
    List<DecisionView> decisions,
    Instant requestedAt,
    Instant expiresAt,
    Optional<Instant> executedAt)
    implements CborSerializable {

  public record Person(String subject, String issuer) {}

  public record DecisionView(Person approver, String decision, String reason, Instant at) {}

  public static ApprovalView of(String entityId, ApprovalRound round, Instant now) {
    ApprovalRequest request = round.request();
    Optional<Duration> grant = request.terms().grant();
    return new ApprovalView(
        round.id(entityId).toString(),
        round.status(now).apiName(),
        grant.isPresent() ? "grant" : "statement",
        request.requester(),
        request.sessionId(),
        request.sessionStatement(),
        request.target(),
        request.statement(),
        request.parameters(),
        request.ruleIds(),
        request.reason(),
        request.policyVersion(),
        request.terms().mode().name().toLowerCase(Locale.ROOT),
        request.terms().approvers(),
        request.terms().required(),
        grant,
        grant.isPresent() ? round.approvalValidUntil() : Optional.empty(),
        round.decisions().stream()
            .map(
                decision ->
                    new DecisionView(
                        new Person(decision.approver().subject(), decision.approver().issuer()),
                        decision.approve() ? "approve" : "deny",
                        decision.reason(),
                        decision.at()))
            .toList(),
        round.requestedAt(),
        round.expiresAt(),
        round.executedAt());
  }
}
