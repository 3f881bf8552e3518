package io.portcullis.policy.identity;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The provider rotates its signing key while the gateway runs: tokens signed with the new key work
 * at once, tokens signed with the old one keep working until the old key leaves the JWKS (and the
 * gateway's cache of it expires), and a flood of unknown key ids does not hammer the provider. The
 * provider is a real HTTP server with OIDC discovery and a JWKS endpoint.
 */
class OidcKeyRotationTest {

  private static final OidcKeys.Caching CACHING =
      new OidcKeys.Caching(Duration.ofSeconds(1), Duration.ofMillis(300));

  private HttpServer server;
  private String issuer;
  private volatile JWKSet published;
  private final AtomicInteger jwksFetches = new AtomicInteger();
  private OidcAuthenticator authenticator;

  @BeforeEach
  void startProvider() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    issuer = "http://127.0.0.1:" + server.getAddress().getPort() + "/realm";
    server.createContext(
        "/realm/.well-known/openid-configuration",
        exchange ->
            respond(
                exchange,
                "{\"issuer\":\"%s\",\"jwks_uri\":\"%s/jwks\"}".formatted(issuer, issuer)));
    server.createContext(
        "/realm/jwks",
        exchange -> {
          jwksFetches.incrementAndGet();
          respond(exchange, published.toString(true));
        });
    server.start();
    authenticator =
        new OidcAuthenticator(
            List.of(
                new OidcIssuer(
                    issuer,
                    OidcKeys.discovered(issuer, CACHING),
                    Set.of("portcullis"),
                    "preferred_username",
                    "groups",
                    "",
                    Set.of(),
                    Set.of())),
            Set.of(JWSAlgorithm.RS256),
            Duration.ofSeconds(60),
            false);
  }

  @AfterEach
  void stopProvider() {
    server.stop(0);
  }

  @Test
  void oldTokensWorkUntilTheirKeyLeavesTheJwksAndNewTokensWorkAtOnce() throws Exception {
    RSAKey first = new RSAKeyGenerator(2048).keyID("2026-11-a").generate();
    RSAKey second = new RSAKeyGenerator(2048).keyID("2026-11-b").generate();
    published = new JWKSet(first.toPublicJWK());
    String oldToken = token(first);
    assertThat(login(oldToken)).isInstanceOf(LoginOutcome.Authenticated.class);

    // Rotation: the provider publishes the new key next to the old one and signs with the new.
    published = new JWKSet(List.of(first.toPublicJWK(), second.toPublicJWK()));
    String newToken = token(second);
    assertThat(login(newToken)).isInstanceOf(LoginOutcome.Authenticated.class);
    assertThat(login(oldToken)).isInstanceOf(LoginOutcome.Authenticated.class);

    // The old key is withdrawn: once the cached key set expires, its tokens are refused.
    published = new JWKSet(second.toPublicJWK());
    Thread.sleep(CACHING.lifetime().toMillis() + 200);
    LoginOutcome afterWithdrawal = login(oldToken);
    assertThat(afterWithdrawal).isInstanceOf(LoginOutcome.Rejected.class);
    assertThat(((LoginOutcome.Rejected) afterWithdrawal).reason())
        .contains("key the issuer does not publish");
    assertThat(login(newToken)).isInstanceOf(LoginOutcome.Authenticated.class);
  }

  @Test
  void aFloodOfUnknownKeyIdsFetchesTheJwksAtMostOncePerRefreshInterval() throws Exception {
    RSAKey published = new RSAKeyGenerator(2048).keyID("real").generate();
    this.published = new JWKSet(published.toPublicJWK());
    assertThat(login(token(published))).isInstanceOf(LoginOutcome.Authenticated.class);
    int before = jwksFetches.get();

    RSAKey attacker = new RSAKeyGenerator(2048).generate();
    long start = System.nanoTime();
    for (int i = 0; i < 200; i++) {
      RSAKey madeUp = new RSAKey.Builder(attacker).keyID(UUID.randomUUID().toString()).build();
      assertThat(login(token(madeUp))).isInstanceOf(LoginOutcome.Rejected.class);
    }

    // Nimbus allows two fetches per interval, however many unknown key ids arrive in it.
    // The loop may straddle one more interval boundary than its length covers.
    long intervals =
        Duration.ofNanos(System.nanoTime() - start).toMillis()
                / CACHING.minRefreshInterval().toMillis()
            + 2;
    assertThat(jwksFetches.get() - before)
        .isLessThanOrEqualTo((int) (2 * intervals))
        .isLessThan(20);
    assertThat(login(token(published))).isInstanceOf(LoginOutcome.Authenticated.class);
  }

  @Test
  void keysStayInUseWhileTheProviderIsDown() throws Exception {
    RSAKey key = new RSAKeyGenerator(2048).keyID("k").generate();
    published = new JWKSet(key.toPublicJWK());
    String token = token(key);
    assertThat(login(token)).isInstanceOf(LoginOutcome.Authenticated.class);

    server.stop(0);
    Thread.sleep(CACHING.lifetime().toMillis() + 200);

    assertThat(login(token)).isInstanceOf(LoginOutcome.Authenticated.class);
  }

  private LoginOutcome login(String token) {
    return authenticator.authenticate(
        new LoginAttempt(
            "alice", Optional.of(token), new InetSocketAddress("10.0.0.5", 50000), true));
  }

  private String token(RSAKey key) throws JOSEException {
    Instant now = Instant.now();
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(),
            new JWTClaimsSet.Builder()
                .issuer(issuer)
                .audience("portcullis")
                .claim("preferred_username", "alice")
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(5))))
                .build());
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  private static void respond(HttpExchange exchange, String json) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(200, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
