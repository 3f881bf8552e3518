package io.portcullis.policy.identity;

import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import java.util.Set;

/**
 * An identity provider whose tokens the gateway accepts.
 *
 * @param issuer the exact {@code iss} of its tokens
 * @param keys where its signing keys come from (discovery, a JWKS URL, or a file)
 * @param audiences the token's {@code aud} must contain one of these
 * @param userClaim the claim that must equal the StartupMessage user name
 * @param groupsClaim dotted path to the groups or roles array, e.g. {@code realm_access.roles}
 * @param agentClaim claim telling agents from people; empty when every identity is a person
 * @param agentValues values of {@code agentClaim} that mark an agent
 * @param requiredClaims claims that must be present besides iss, aud, exp and the user claim
 */
public record OidcIssuer(
    String issuer,
    JWKSource<SecurityContext> keys,
    Set<String> audiences,
    String userClaim,
    String groupsClaim,
    String agentClaim,
    Set<String> agentValues,
    Set<String> requiredClaims) {

  public OidcIssuer {
    audiences = Set.copyOf(audiences);
    agentValues = Set.copyOf(agentValues);
    requiredClaims = Set.copyOf(requiredClaims);
  }
}
