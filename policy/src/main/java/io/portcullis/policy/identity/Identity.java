package io.portcullis.policy.identity;

import java.util.Set;

/**
 * Who is behind a session: every policy decision, approval and audit record is made about this.
 *
 * @param subject the authenticated principal (the StartupMessage user once verified)
 * @param issuer who vouched for it: an OIDC issuer URL, or {@code dev} for the local dev modes
 * @param groups groups or roles, used by policy rules and upstream role mapping
 * @param agent true for an AI agent or service, false for a person
 */
public record Identity(String subject, String issuer, Set<String> groups, boolean agent) {
  public Identity {
    groups = Set.copyOf(groups);
  }
}
