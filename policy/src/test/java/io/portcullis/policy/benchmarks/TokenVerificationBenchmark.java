package io.portcullis.policy.benchmarks;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.portcullis.policy.identity.LoginAttempt;
import io.portcullis.policy.identity.LoginOutcome;
import io.portcullis.policy.identity.OidcAuthenticator;
import io.portcullis.policy.identity.OidcIssuer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Verifying one RS256 token with a warm key cache: what every new connection pays. Run with {@code
 * bench/token-verification.sh}; the issue budget is p99 < 200 µs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TokenVerificationBenchmark {

  private OidcAuthenticator authenticator;
  private LoginAttempt attempt;

  @Setup
  public void setUp() throws Exception {
    RSAKey key = new RSAKeyGenerator(2048).keyID("k1").generate();
    OidcIssuer issuer =
        new OidcIssuer(
            "https://idp.bench",
            new ImmutableJWKSet<>(new JWKSet(key.toPublicJWK())),
            Set.of("portcullis"),
            "preferred_username",
            "groups",
            "",
            Set.of(),
            Set.of());
    authenticator =
        new OidcAuthenticator(
            List.of(issuer), Set.of(JWSAlgorithm.RS256), Duration.ofSeconds(60), false);
    SignedJWT token =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").type(JOSEObjectType.JWT).build(),
            new JWTClaimsSet.Builder()
                .issuer("https://idp.bench")
                .audience("portcullis")
                .subject("alice")
                .claim("preferred_username", "alice")
                .claim("groups", List.of("analysts", "readers"))
                .issueTime(new Date())
                .expirationTime(Date.from(Instant.now().plus(Duration.ofHours(2))))
                .build());
    token.sign(new RSASSASigner(key));
    attempt =
        new LoginAttempt(
            "alice",
            Optional.of(token.serialize()),
            new InetSocketAddress("10.0.0.1", 50000),
            true);
    if (!(authenticator.authenticate(attempt) instanceof LoginOutcome.Authenticated)) {
      throw new IllegalStateException("the benchmark token does not verify");
    }
  }

  @Benchmark
  public LoginOutcome verify() {
    return authenticator.authenticate(attempt);
  }
}
