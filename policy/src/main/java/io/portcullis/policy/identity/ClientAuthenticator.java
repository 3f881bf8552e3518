package io.portcullis.policy.identity;

/** Decides who a connecting client is. The OIDC authenticator and the dev modes implement it. */
public interface ClientAuthenticator {

  /** Whether the gateway must ask the client for a password (AuthenticationCleartextPassword). */
  boolean requiresPassword();

  LoginOutcome authenticate(LoginAttempt attempt);
}
