package io.portcullis.persistence.approval;

import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.rules.ApprovalTerms;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * What a session asks approvers to agree to: one statement (or, for a rule that grants just-in-time
 * access, the rule itself) for one identity on one target.
 *
 * @param sessionId the session that asked
 * @param sessionStatement the statement's number in that session's journal
 * @param statement the statement as the client sent it
 * @param normalized the statement as its tokens (comments, spacing and case of keywords do not
 *     matter), which identifies it
 * @param parameters the values bound to it, as text ({@code \x…} hex for binary values)
 * @param reason what the policy tells the client and the approvers
 */
public record ApprovalRequest(
    String sessionId,
    long sessionStatement,
    Identity requester,
    String target,
    String statement,
    String normalized,
    List<String> parameters,
    List<String> ruleIds,
    String reason,
    String policyVersion,
    ApprovalTerms terms) {

  public ApprovalRequest {
    parameters = List.copyOf(parameters);
    ruleIds = List.copyOf(ruleIds);
  }

  /**
   * The entity that decides this request: the same for every identical request of the same
   * identity, so that a re-sent statement finds the approval it is waiting for (or was granted), on
   * whichever node and in whichever session it arrives.
   */
  public String entityId() {
    StringBuilder key = new StringBuilder();
    key.append(requester.issuer()).append('\0').append(requester.subject()).append('\0');
    key.append(target).append('\0');
    if (terms.grant().isPresent()) {
      key.append("grant\0").append(String.join(",", ruleIds));
    } else {
      key.append(normalized);
      for (String parameter : parameters) {
        key.append('\0').append(parameter);
      }
    }
    return ApprovalId.PREFIX + sha256Hex(key.toString()).substring(0, 12);
  }

  private static String sha256Hex(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}
