package io.portcullis.policy.identity;

import java.util.Optional;

/** Decides who a connecting client is. The OIDC authenticator and the dev modes implement it. */
public interface ClientAuthenticator {

  /**
   * Called first without a password; an authenticator that needs one answers {@link
   * LoginOutcome.PasswordRequired} and is called again with it. Refusing before asking (for example
   * on a connection without TLS) means no secret is ever sent in clear text.
   */
  LoginOutcome authenticate(LoginAttempt attempt);

  /**
   * A value that identifies the attempt's credential (token or certificate) in logs and audit
   * records without revealing it, or empty where even that is unsafe (a hash of a low-entropy
   * password invites guessing).
   */
  default Optional<String> fingerprint(LoginAttempt attempt) {
    return Optional.empty();
  }
}
