package io.portcullis.policy.rules;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The policy's answer for one statement (or for a message of several: the most severe).
 *
 * @param decision allow, review or deny
 * @param ruleIds the rules that decided it (every matching rule of the winning decision); empty
 *     when the default applied
 * @param reason for deny and review, what the client is told
 * @param policyVersion the version (content hash) of the policy that decided
 * @param maxRows for allow, the most rows the statement may return, if limited
 * @param approval for review, how it is approved
 */
public record Verdict(
    Decision decision,
    List<String> ruleIds,
    String reason,
    String policyVersion,
    OptionalLong maxRows,
    Optional<ApprovalTerms> approval) {

  public Verdict {
    ruleIds = List.copyOf(ruleIds);
  }
}
