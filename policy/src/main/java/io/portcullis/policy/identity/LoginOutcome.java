package io.portcullis.policy.identity;

/** The result of checking a {@link LoginAttempt}. */
public sealed interface LoginOutcome {

  record Authenticated(Identity identity) implements LoginOutcome {}

  /** Ask the client for a password (AuthenticationCleartextPassword), then try again with it. */
  record PasswordRequired() implements LoginOutcome {}

  /**
   * @param sqlState 28000 (not allowed) or 28P01 (bad credentials)
   * @param reason what the client is told: says what is wrong, never reveals secrets
   */
  record Rejected(String sqlState, String reason) implements LoginOutcome {}
}
