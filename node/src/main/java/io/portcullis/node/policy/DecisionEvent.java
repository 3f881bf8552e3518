package io.portcullis.node.policy;

import java.time.Instant;
import java.util.List;

/**
 * One policy decision, as the audit trail records it.
 *
 * @param statements the exact SQL of each statement judged together (one message)
 * @param kinds what the statements do, as policy names them
 * @param rules the rules that decided; empty when the default applied
 */
public record DecisionEvent(
    Instant at,
    String subject,
    String issuer,
    String target,
    String decision,
    List<String> rules,
    String policyVersion,
    List<String> kinds,
    String reason,
    List<String> statements) {}
