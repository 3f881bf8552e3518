package io.portcullis.node.masking;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * A session whose identity sees some protected values in clear, as the audit trail records it: once
 * when the session starts and again whenever a new policy changes its exemptions.
 *
 * @param exemptRules the masking rules the identity's groups are exempt from
 */
public record ExemptionEvent(
    Instant at,
    String session,
    String subject,
    String issuer,
    Set<String> groups,
    String target,
    String policyVersion,
    List<String> exemptRules) {}
