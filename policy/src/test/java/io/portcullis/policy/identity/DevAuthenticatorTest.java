package io.portcullis.policy.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DevAuthenticatorTest {

  private static LoginAttempt attempt(String user, String password) {
    return new LoginAttempt(
        user, Optional.ofNullable(password), new InetSocketAddress("127.0.0.1", 50000), false);
  }

  @Test
  void trustAcceptsAnyUserWithoutPassword() {
    DevAuthenticator trust = DevAuthenticator.trust();
    assertThat(trust.authenticate(attempt("alice", null)))
        .isEqualTo(
            new LoginOutcome.Authenticated(
                new Identity("alice", DevAuthenticator.ISSUER, java.util.Set.of(), false)));
  }

  @Test
  void trustStillRequiresAUserName() {
    assertThat(DevAuthenticator.trust().authenticate(attempt("", null)))
        .isInstanceOf(LoginOutcome.Rejected.class);
  }

  @Test
  void passwordListAcceptsOnlyTheRightPassword() {
    DevAuthenticator list = DevAuthenticator.passwords(Map.of("alice", "s3cret"));
    assertThat(list.authenticate(attempt("alice", null)))
        .isEqualTo(new LoginOutcome.PasswordRequired());
    assertThat(list.authenticate(attempt("alice", "s3cret")))
        .isInstanceOf(LoginOutcome.Authenticated.class);
    assertThat(list.authenticate(attempt("alice", "wrong")))
        .isEqualTo(
            new LoginOutcome.Rejected(
                "28P01", "password authentication failed for user \"alice\""));
    assertThat(list.authenticate(attempt("alice", ""))).isInstanceOf(LoginOutcome.Rejected.class);
  }

  @Test
  void unknownUserIsRejectedLikeAWrongPassword() {
    DevAuthenticator list = DevAuthenticator.passwords(Map.of("alice", "s3cret"));
    assertThat(list.authenticate(attempt("mallory", "s3cret")))
        .isEqualTo(
            new LoginOutcome.Rejected(
                "28P01", "password authentication failed for user \"mallory\""));
  }
}
