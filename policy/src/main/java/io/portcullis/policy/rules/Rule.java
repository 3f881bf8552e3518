package io.portcullis.policy.rules;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * One rule of a policy file.
 *
 * @param id unique within the policy; recorded with every decision it takes part in
 * @param description what the rule is for, for people
 * @param when the conditions
 * @param decision what happens to matching statements
 * @param reason for deny and review, what the client is told
 * @param maxRows for allow, the most rows a statement may return
 * @param approval for review, how approval works
 */
public record Rule(
    String id,
    String description,
    Conditions when,
    Decision decision,
    Optional<String> reason,
    OptionalLong maxRows,
    Optional<ApprovalTerms> approval) {}
