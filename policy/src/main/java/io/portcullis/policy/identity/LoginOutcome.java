package io.portcullis.policy.identity;

import java.time.Instant;
import java.util.Optional;

/** The result of checking a {@link LoginAttempt}. */
public sealed interface LoginOutcome {

  /**
   * @param expiresAt when the credential stops being valid (a token's exp), if it does
   */
  record Authenticated(Identity identity, Optional<Instant> expiresAt) implements LoginOutcome {
    public Authenticated(Identity identity) {
      this(identity, Optional.empty());
    }
  }

  /** Ask the client for a password (AuthenticationCleartextPassword), then try again with it. */
  record PasswordRequired() implements LoginOutcome {}

  /**
   * @param sqlState 28000 (not allowed) or 28P01 (bad credentials)
   * @param reason what the client is told: says what is wrong, never reveals secrets
   */
  record Rejected(String sqlState, String reason) implements LoginOutcome {}
}
