package io.portcullis.policy.identity;

/** Decides who a connecting client is. The OIDC authenticator and the dev modes implement it. */
public interface ClientAuthenticator {

  /**
   * Called first without a password; an authenticator that needs one answers {@link
   * LoginOutcome.PasswordRequired} and is called again with it. Refusing before asking (for example
   * on a connection without TLS) means no secret is ever sent in clear text.
   */
  LoginOutcome authenticate(LoginAttempt attempt);
}
