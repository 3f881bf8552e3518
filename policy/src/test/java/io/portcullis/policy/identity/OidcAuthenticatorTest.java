package io.portcullis.policy.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSAEncrypter;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class OidcAuthenticatorTest {

  private static final String ISSUER = "https://idp.test";
  private static final String AUDIENCE = "portcullis";
  private static final Set<JWSAlgorithm> ALGORITHMS =
      Set.of(JWSAlgorithm.RS256, JWSAlgorithm.PS256, JWSAlgorithm.ES256);
  private static final Duration CLOCK_SKEW = Duration.ofSeconds(60);
  private static final InetSocketAddress REMOTE = new InetSocketAddress("10.0.0.5", 50000);
  private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 50000);

  /** The issuer's signing key; only its public half is published. */
  private static RSAKey issuerKey;

  /** A different key that claims the issuer's kid. */
  private static RSAKey impostorKey;

  /** A key with its own kid that the issuer does not publish. */
  private static RSAKey unpublishedKey;

  private final OidcAuthenticator authenticator = authenticator(Set.of(), false);

  @BeforeAll
  static void generateKeys() throws JOSEException {
    issuerKey = new RSAKeyGenerator(2048).keyID("k1").generate();
    impostorKey = new RSAKeyGenerator(2048).keyID("k1").generate();
    unpublishedKey = new RSAKeyGenerator(2048).keyID("k2").generate();
  }

  private static OidcAuthenticator authenticator(
      Set<String> requiredClaims, boolean insecureLoopback) {
    OidcIssuer issuer =
        new OidcIssuer(
            ISSUER,
            new ImmutableJWKSet<SecurityContext>(new JWKSet(issuerKey.toPublicJWK())),
            Set.of(AUDIENCE),
            "preferred_username",
            "realm_access.roles",
            "client_kind",
            Set.of("agent"),
            requiredClaims);
    return new OidcAuthenticator(List.of(issuer), ALGORITHMS, CLOCK_SKEW, insecureLoopback);
  }

  // ---------------------------------------------------------------- valid tokens

  @Test
  void validTokenAuthenticatesWithGroupsAndAgentFlag() {
    LoginOutcome outcome = authenticator.authenticate(overTls(token().sign()));
    assertThat(((LoginOutcome.Authenticated) outcome).expiresAt()).isPresent();

    assertThat(((LoginOutcome.Authenticated) outcome).identity())
        .isEqualTo(new Identity("alice", ISSUER, Set.of("analyst", "reader"), true));
  }

  @Test
  void accessTokenTypeHeaderIsAccepted() {
    String token = token().type(new JOSEObjectType("at+jwt")).sign();

    assertThat(((LoginOutcome.Authenticated) authenticator.authenticate(overTls(token))).identity())
        .isEqualTo(new Identity("alice", ISSUER, Set.of("analyst", "reader"), true));
  }

  @Test
  void tokenWithoutAgentClientKindIsAPerson() {
    String token = token().claim("client_kind", "person").sign();

    assertThat(((LoginOutcome.Authenticated) authenticator.authenticate(overTls(token))).identity())
        .isEqualTo(new Identity("alice", ISSUER, Set.of("analyst", "reader"), false));
  }

  // ---------------------------------------------------------------- transport

  @Test
  void asksForThePasswordOverTls() {
    LoginAttempt attempt = new LoginAttempt("alice", Optional.empty(), REMOTE, true);

    assertThat(authenticator.authenticate(attempt)).isEqualTo(new LoginOutcome.PasswordRequired());
  }

  @Test
  void refusesPlaintextFromARemoteAddressBeforeAskingForThePassword() {
    LoginAttempt attempt = new LoginAttempt("alice", Optional.empty(), REMOTE, false);

    assertRejected(authenticator.authenticate(attempt), "28000", "TLS required", null);
  }

  @Test
  void refusesPlaintextFromARemoteAddressEvenWithAValidToken() {
    String token = token().sign();
    LoginAttempt attempt = new LoginAttempt("alice", Optional.of(token), REMOTE, false);

    assertRejected(authenticator.authenticate(attempt), "28000", "TLS required", token);
  }

  @Test
  void insecureLoopbackAllowsPlaintextFromLocalhost() {
    OidcAuthenticator loopback = authenticator(Set.of(), true);
    String token = token().sign();

    assertThat(loopback.authenticate(new LoginAttempt("alice", Optional.empty(), LOOPBACK, false)))
        .isEqualTo(new LoginOutcome.PasswordRequired());
    assertThat(
            loopback.authenticate(new LoginAttempt("alice", Optional.of(token), LOOPBACK, false)))
        .isInstanceOf(LoginOutcome.Authenticated.class);
  }

  @Test
  void withoutInsecureLoopbackPlaintextFromLocalhostIsRefused() {
    LoginAttempt attempt = new LoginAttempt("alice", Optional.empty(), LOOPBACK, false);

    assertRejected(authenticator.authenticate(attempt), "28000", "TLS required", null);
  }

  @Test
  void insecureLoopbackStillRefusesPlaintextFromARemoteAddress() {
    LoginAttempt attempt = new LoginAttempt("alice", Optional.empty(), REMOTE, false);

    assertRejected(
        authenticator(Set.of(), true).authenticate(attempt), "28000", "TLS required", null);
  }

  // ---------------------------------------------------------------- validity window

  @Test
  void expiredTokenIsRefused() {
    String token = token().expiresIn(Duration.ofMinutes(-10)).sign();

    assertRejected(authenticator.authenticate(overTls(token)), "28P01", "expired", token);
  }

  @Test
  void tokenExpiredWithinTheClockSkewIsAccepted() {
    String token = token().expiresIn(Duration.ofSeconds(-30)).sign();

    assertThat(authenticator.authenticate(overTls(token)))
        .isInstanceOf(LoginOutcome.Authenticated.class);
  }

  @Test
  void tokenNotYetValidIsRefused() {
    String token = token().notBefore(Duration.ofMinutes(10)).sign();

    assertRejected(authenticator.authenticate(overTls(token)), "28P01", "not valid yet", token);
  }

  // ---------------------------------------------------------------- issuer and audience

  @Test
  void unknownIssuerIsRefused() {
    String token = token().claim("iss", "https://evil.test").sign();

    assertRejected(authenticator.authenticate(overTls(token)), "28P01", "issuer", token);
  }

  @Test
  void wrongAudienceIsRefused() {
    String token = token().claim("aud", "someone-else").sign();

    assertRejected(
        authenticator.authenticate(overTls(token)), "28P01", "not meant for this gateway", token);
  }

  // ---------------------------------------------------------------- signature and keys

  @Test
  void tamperedPayloadFailsTheSignature() {
    String[] parts = token().sign().split("\\.");
    String payload = new Base64URL(parts[1]).decodeToString().replace("analyst", "analysT");
    String tampered = parts[0] + "." + Base64URL.encode(payload) + "." + parts[2];

    assertRejected(authenticator.authenticate(overTls(tampered)), "28P01", "signature", tampered);
  }

  @Test
  void tokenSignedByAnotherKeyWithTheSameKidFailsTheSignature() {
    String token = token().signedBy(impostorKey).sign();

    assertRejected(authenticator.authenticate(overTls(token)), "28P01", "signature", token);
  }

  @Test
  void tokenSignedByAnUnpublishedKeyIsRefused() {
    String token = token().signedBy(unpublishedKey).sign();

    assertRejected(
        authenticator.authenticate(overTls(token)),
        "28P01",
        "key the issuer does not publish",
        token);
  }

  @Test
  void unsignedTokenIsRefused() {
    String token = new PlainJWT(token().claims()).serialize();

    assertRejected(authenticator.authenticate(overTls(token)), "28P01", "unsigned", token);
  }

  @Test
  void hmacTokenKeyedWithThePublicKeyIsRefused() throws JOSEException {
    byte[] secret = issuerKey.toRSAPublicKey().getEncoded();
    assertThat(secret.length * 8).isGreaterThanOrEqualTo(256);
    String token = token().algorithm(JWSAlgorithm.HS256).signedWith(new MACSigner(secret)).sign();

    assertRejected(
        authenticator.authenticate(overTls(token)), "28P01", "HS256 is not accepted", token);
  }

  // ---------------------------------------------------------------- user claim

  @Test
  void tokenForAnotherUserIsRefused() {
    String token = token().claim("preferred_username", "bob").sign();

    assertRejected(
        authenticator.authenticate(overTls(token)), "28000", "does not match the user name", token);
  }

  // ---------------------------------------------------------------- not a JWS

  @Test
  void hugePasswordIsRefusedQuickly() {
    String huge = "a".repeat(2 * 1024 * 1024);

    long start = System.nanoTime();
    LoginOutcome outcome = authenticator.authenticate(overTls(huge));
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

    assertThat(elapsed).isLessThan(Duration.ofSeconds(1));
    assertRejected(outcome, "28P01", "not a token", huge);
  }

  @Test
  void dottedGarbageIsRefused() {
    assertRejected(authenticator.authenticate(overTls("not.a.jwt")), "28P01", "not a JWT", null);
  }

  @Test
  void randomBase64IsRefused() {
    SecureRandom random = new SecureRandom();
    byte[] bytes = new byte[300];
    random.nextBytes(bytes);
    String plain = Base64.getEncoder().encodeToString(bytes);
    String dotted =
        Stream.of(plain.substring(0, 100), plain.substring(100, 200), plain.substring(200))
            .map(part -> Base64URL.encode(part).toString())
            .reduce((a, b) -> a + "." + b)
            .orElseThrow();

    assertRejected(authenticator.authenticate(overTls(plain)), "28P01", "not a JWT", plain);
    assertRejected(authenticator.authenticate(overTls(dotted)), "28P01", "not a JWT", dotted);
  }

  @Test
  void encryptedTokenIsRefused() throws JOSEException {
    EncryptedJWT jwe =
        new EncryptedJWT(
            new JWEHeader(JWEAlgorithm.RSA_OAEP_256, EncryptionMethod.A256GCM), token().claims());
    jwe.encrypt(new RSAEncrypter(issuerKey.toRSAPublicKey()));
    String token = jwe.serialize();

    assertRejected(authenticator.authenticate(overTls(token)), "28P01", "encrypted", token);
  }

  // ---------------------------------------------------------------- required claims

  @Test
  void tokenWithoutExpiryIsRefused() {
    String token = token().claim("exp", null).sign();

    assertRejected(authenticator.authenticate(overTls(token)), "28P01", "exp", token);
    assertRejected(
        authenticator.authenticate(overTls(token)), "28P01", "lacks required claims", token);
  }

  @Test
  void tokenWithoutAConfiguredRequiredClaimIsRefused() {
    OidcAuthenticator requiringIat = authenticator(Set.of("iat"), false);
    String token = token().claim("iat", null).sign();

    assertRejected(requiringIat.authenticate(overTls(token)), "28P01", "iat", token);
    assertThat(requiringIat.authenticate(overTls(token().sign())))
        .isInstanceOf(LoginOutcome.Authenticated.class);
  }

  // ---------------------------------------------------------------- configuration

  @Test
  void hmacAlgorithmsCannotBeConfigured() {
    assertThatThrownBy(
            () ->
                new OidcAuthenticator(
                    List.of(), Set.of(JWSAlgorithm.RS256, JWSAlgorithm.HS256), CLOCK_SKEW, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("HS256");
  }

  // ---------------------------------------------------------------- groups

  @Test
  void groupsFollowADottedPathToAStringOrNothing() {
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .claim("group", "admins")
            .claim("realm_access", Map.of("roles", List.of("analyst", "reader")))
            .build();

    assertThat(OidcAuthenticator.groups(claims, "realm_access.roles"))
        .containsExactlyInAnyOrder("analyst", "reader");
    assertThat(OidcAuthenticator.groups(claims, "group")).containsExactly("admins");
    assertThat(OidcAuthenticator.groups(claims, "resource_access.portcullis.roles")).isEmpty();
    assertThat(OidcAuthenticator.groups(claims, "group.nested")).isEmpty();
  }

  // ---------------------------------------------------------------- helpers

  private static LoginAttempt overTls(String token) {
    return new LoginAttempt("alice", Optional.of(token), REMOTE, true);
  }

  /**
   * Asserts a rejection with the given SQLSTATE whose reason is a readable sentence containing
   * {@code fragment} and leaking neither the token nor any key material.
   */
  private static void assertRejected(
      LoginOutcome outcome, String sqlState, String fragment, String token) {
    assertThat(outcome).isInstanceOf(LoginOutcome.Rejected.class);
    LoginOutcome.Rejected rejected = (LoginOutcome.Rejected) outcome;
    assertThat(rejected.sqlState()).isEqualTo(sqlState);
    String reason = rejected.reason();
    assertThat(reason)
        .containsIgnoringCase(fragment)
        .doesNotContain("Exception", "com.nimbusds", "null");
    if (token != null) {
      assertThat(reason).doesNotContain(token);
      for (String part : token.split("\\.")) {
        if (part.length() >= 16) {
          assertThat(reason).doesNotContain(part);
        }
      }
    }
    for (RSAKey key : List.of(issuerKey, impostorKey, unpublishedKey)) {
      assertThat(reason)
          .doesNotContain(key.getModulus().toString())
          .doesNotContain(key.getPrivateExponent().toString())
          .doesNotContain(key.getModulus().decodeToBigInteger().toString());
    }
  }

  private static Token token() {
    return new Token();
  }

  /** A token for alice from the test issuer, valid for five minutes unless changed. */
  private static final class Token {
    private final Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    private final JWTClaimsSet.Builder claims =
        new JWTClaimsSet.Builder()
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .subject("4f1c-alice")
            .claim("preferred_username", "alice")
            .claim("realm_access", Map.of("roles", List.of("analyst", "reader")))
            .claim("client_kind", "agent")
            .issueTime(Date.from(now))
            .expirationTime(Date.from(now.plus(Duration.ofMinutes(5))));
    private JWSAlgorithm algorithm = JWSAlgorithm.RS256;
    private JOSEObjectType type = JOSEObjectType.JWT;
    private RSAKey key = issuerKey;
    private JWSSigner signer;

    /** Sets a claim; {@code null} removes it. */
    Token claim(String name, Object value) {
      claims.claim(name, value);
      return this;
    }

    Token expiresIn(Duration fromNow) {
      return claim("exp", Date.from(now.plus(fromNow)));
    }

    Token notBefore(Duration fromNow) {
      return claim("nbf", Date.from(now.plus(fromNow)));
    }

    Token type(JOSEObjectType type) {
      this.type = type;
      return this;
    }

    Token algorithm(JWSAlgorithm algorithm) {
      this.algorithm = algorithm;
      return this;
    }

    /** Signs with this RSA key and puts its kid in the header. */
    Token signedBy(RSAKey key) {
      this.key = key;
      return this;
    }

    /** Signs with an arbitrary signer, keeping the issuer key's kid in the header. */
    Token signedWith(JWSSigner signer) {
      this.signer = signer;
      return this;
    }

    JWTClaimsSet claims() {
      return claims.build();
    }

    String sign() {
      JWSHeader header = new JWSHeader.Builder(algorithm).keyID(key.getKeyID()).type(type).build();
      SignedJWT jwt = new SignedJWT(header, claims());
      try {
        jwt.sign(signer != null ? signer : new RSASSASigner(key));
      } catch (JOSEException e) {
        throw new IllegalStateException(e);
      }
      return jwt.serialize();
    }
  }
}
