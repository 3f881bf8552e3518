package io.portcullis.policy.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Set;

/**
 * Local-development client authentication: either trust every user name, or check a static user →
 * password list. Identities it produces have issuer {@code dev} so that audit records show they
 * were not verified by an identity provider.
 */
public final class DevAuthenticator implements ClientAuthenticator {

  public static final String ISSUER = "dev";

  private final Map<String, String> passwords;
  private final boolean trust;

  private DevAuthenticator(boolean trust, Map<String, String> passwords) {
    this.trust = trust;
    this.passwords = Map.copyOf(passwords);
  }

  public static DevAuthenticator trust() {
    return new DevAuthenticator(true, Map.of());
  }

  public static DevAuthenticator passwords(Map<String, String> passwords) {
    return new DevAuthenticator(false, passwords);
  }

  @Override
  public LoginOutcome authenticate(LoginAttempt attempt) {
    if (attempt.user().isEmpty()) {
      return new LoginOutcome.Rejected("28000", "no user name given in the startup message");
    }
    if (!trust && attempt.password().isEmpty()) {
      return new LoginOutcome.PasswordRequired();
    }
    if (!trust && !passwordMatches(attempt)) {
      return new LoginOutcome.Rejected(
          "28P01", "password authentication failed for user \"" + attempt.user() + "\"");
    }
    return new LoginOutcome.Authenticated(new Identity(attempt.user(), ISSUER, Set.of(), false));
  }

  private boolean passwordMatches(LoginAttempt attempt) {
    String expected = passwords.get(attempt.user());
    String offered = attempt.password().orElse("");
    // Compare even for unknown users so that timing does not reveal which user names exist.
    byte[] expectedBytes =
        (expected == null ? "\0unknown" : expected).getBytes(StandardCharsets.UTF_8);
    boolean equal = MessageDigest.isEqual(expectedBytes, offered.getBytes(StandardCharsets.UTF_8));
    return expected != null && equal;
  }
}
