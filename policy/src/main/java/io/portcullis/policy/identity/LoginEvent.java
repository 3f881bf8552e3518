package io.portcullis.policy.identity;

import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * One login attempt, successful or not, as the audit trail records it. It never holds a password or
 * token, only the authenticator's fingerprint of it.
 *
 * @param outcome {@code succeeded} or {@code failed}
 * @param sqlState for a failure, the SQLSTATE the client was sent
 * @param reason for a failure, what the client was told
 */
public record LoginEvent(
    Instant at,
    String outcome,
    String user,
    String clientAddress,
    boolean tls,
    String target,
    Optional<String> issuer,
    Set<String> groups,
    Optional<Boolean> agent,
    Optional<String> credential,
    Optional<Instant> credentialExpiresAt,
    Optional<String> sqlState,
    Optional<String> reason) {

  public static LoginEvent of(
      LoginAttempt attempt, String target, LoginOutcome outcome, Optional<String> credential) {
    String address =
        attempt.clientAddress().getAddress() == null
            ? attempt.clientAddress().getHostString()
            : attempt.clientAddress().getAddress().getHostAddress();
    String client = address + ":" + attempt.clientAddress().getPort();
    if (outcome instanceof LoginOutcome.Authenticated ok) {
      Identity identity = ok.identity();
      return new LoginEvent(
          Instant.now(),
          "succeeded",
          attempt.user(),
          client,
          attempt.tls(),
          target,
          Optional.of(identity.issuer()),
          identity.groups(),
          Optional.of(identity.agent()),
          credential,
          ok.expiresAt(),
          Optional.empty(),
          Optional.empty());
    }
    LoginOutcome.Rejected rejected = (LoginOutcome.Rejected) outcome;
    return new LoginEvent(
        Instant.now(),
        "failed",
        attempt.user(),
        client,
        attempt.tls(),
        target,
        Optional.empty(),
        Set.of(),
        Optional.empty(),
        credential,
        Optional.empty(),
        Optional.of(rejected.sqlState()),
        Optional.of(rejected.reason()));
  }
}
