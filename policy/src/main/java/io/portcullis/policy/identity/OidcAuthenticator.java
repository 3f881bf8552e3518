package io.portcullis.policy.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimNames;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Verifies an OIDC access or ID token that the client sends as its password. The token must be a
 * JWS signed with an allowed algorithm by a key of a configured issuer, be within its validity
 * window (with bounded clock skew), name an accepted audience, and carry the StartupMessage's user
 * name in the issuer's user claim. Passwords are only asked for over TLS.
 */
public final class OidcAuthenticator implements ClientAuthenticator {

  /** Far above any real JWT; anything larger is refused before parsing. */
  static final int MAX_TOKEN_CHARS = 16 * 1024;

  private final Map<String, Verifier> verifiers = new LinkedHashMap<>();
  private final Set<JWSAlgorithm> algorithms;
  private final boolean insecureLoopback;

  private record Verifier(OidcIssuer issuer, DefaultJWTProcessor<SecurityContext> processor) {}

  /**
   * @param algorithms the only JWS algorithms accepted; {@code none} and HMAC are never accepted
   * @param insecureLoopback accept tokens without TLS from loopback addresses (development only)
   */
  public OidcAuthenticator(
      List<OidcIssuer> issuers,
      Set<JWSAlgorithm> algorithms,
      Duration clockSkew,
      boolean insecureLoopback) {
    Set<JWSAlgorithm> refused = new HashSet<>(algorithms);
    refused.retainAll(JWSAlgorithm.Family.HMAC_SHA);
    if (!refused.isEmpty()) {
      throw new IllegalArgumentException(
          "HMAC algorithms " + refused + " cannot be accepted: they need a shared secret");
    }
    this.algorithms = Set.copyOf(algorithms);
    this.insecureLoopback = insecureLoopback;
    for (OidcIssuer issuer : issuers) {
      verifiers.put(issuer.issuer(), new Verifier(issuer, processor(issuer, clockSkew)));
    }
  }

  private DefaultJWTProcessor<SecurityContext> processor(OidcIssuer issuer, Duration clockSkew) {
    DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
    processor.setJWSTypeVerifier(
        new DefaultJOSEObjectTypeVerifier<>(
            JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null));
    processor.setJWSKeySelector(new JWSVerificationKeySelector<>(algorithms, issuer.keys()));
    Set<String> required = new HashSet<>(issuer.requiredClaims());
    required.addAll(Set.of(JWTClaimNames.EXPIRATION_TIME, issuer.userClaim()));
    DefaultJWTClaimsVerifier<SecurityContext> claims =
        new DefaultJWTClaimsVerifier<>(
            issuer.audiences(),
            new JWTClaimsSet.Builder().issuer(issuer.issuer()).build(),
            required,
            null);
    claims.setMaxClockSkew((int) clockSkew.toSeconds());
    processor.setJWTClaimsSetVerifier(claims);
    return processor;
  }

  @Override
  public LoginOutcome authenticate(LoginAttempt attempt) {
    if (!attempt.tls() && !(insecureLoopback && fromLoopback(attempt))) {
      return new LoginOutcome.Rejected(
          "28000", "TLS required: connect with sslmode=require (or verify-full) to send a token");
    }
    if (attempt.password().isEmpty()) {
      return new LoginOutcome.PasswordRequired();
    }
    try {
      Verified verified = verify(attempt.password().get().strip());
      return identity(verified.issuer(), verified.claims(), attempt.user());
    } catch (TokenRefused e) {
      return refused(e.getMessage());
    }
  }

  /**
   * Verifies a bearer token of an HTTP request (the admin API), where no user name comes with it:
   * the identity is whoever the token's user claim names.
   */
  public LoginOutcome verifyBearer(String token) {
    try {
      Verified verified = verify(token.strip());
      String user = String.valueOf(verified.claims().getClaim(verified.issuer().userClaim()));
      return identity(verified.issuer(), verified.claims(), user);
    } catch (TokenRefused e) {
      return refused(e.getMessage());
    }
  }

  private record Verified(OidcIssuer issuer, JWTClaimsSet claims) {}

  /** Why a token is not accepted, in words for the person who sent it. */
  private static final class TokenRefused extends Exception {
    TokenRefused(String reason) {
      super(reason, null, false, false);
    }
  }

  private Verified verify(String token) throws TokenRefused {
    if (token.length() > MAX_TOKEN_CHARS) {
      throw new TokenRefused(
          "the password is not a token: "
              + token.length()
              + " characters, at most "
              + MAX_TOKEN_CHARS
              + " accepted");
    }
    JWT jwt;
    try {
      jwt = JWTParser.parse(token);
    } catch (ParseException e) {
      throw new TokenRefused(
          "the password is not a JWT; send an OIDC access or ID token as the password");
    }
    if (jwt instanceof PlainJWT) {
      throw new TokenRefused("unsigned tokens (alg none) are never accepted");
    }
    if (jwt instanceof EncryptedJWT) {
      throw new TokenRefused("encrypted tokens (JWE) are not accepted; send a signed JWT (JWS)");
    }
    SignedJWT signed = (SignedJWT) jwt;
    JWSAlgorithm algorithm = signed.getHeader().getAlgorithm();
    if (!algorithms.contains(algorithm)) {
      throw new TokenRefused(
          "token algorithm " + algorithm + " is not accepted; accepted: " + names(algorithms));
    }
    Verifier verifier;
    try {
      verifier = verifiers.get(signed.getJWTClaimsSet().getIssuer());
    } catch (ParseException e) {
      throw new TokenRefused("the token's claims are not valid JSON");
    }
    if (verifier == null) {
      throw new TokenRefused("the token's issuer is not trusted by this gateway");
    }
    JWTClaimsSet claims;
    try {
      claims = verifier.processor().process(signed, null);
    } catch (BadJOSEException e) {
      throw new TokenRefused(reason(e));
    } catch (JOSEException e) {
      throw new TokenRefused(
          "the token could not be verified: it is signed by a key the issuer does not publish,"
              + " or the issuer's keys are unavailable");
    }
    return new Verified(verifier.issuer(), claims);
  }

  /**
   * What audit records show instead of the token: its {@code jti} if it has one, else the first 16
   * hex digits of its SHA-256, enough to correlate with the identity provider's logs.
   */
  @Override
  public Optional<String> fingerprint(LoginAttempt attempt) {
    if (attempt.password().isEmpty()) {
      return Optional.empty();
    }
    String token = attempt.password().get().strip();
    if (token.length() <= MAX_TOKEN_CHARS) {
      try {
        String jti = JWTParser.parse(token).getJWTClaimsSet().getJWTID();
        if (jti != null) {
          return Optional.of("jti:" + jti);
        }
      } catch (ParseException e) {
        // Not a JWT: the hash still identifies what was sent.
      }
    }
    return Optional.of("sha256:" + Sha256.hexPrefix(token.getBytes(StandardCharsets.UTF_8), 8));
  }

  private static boolean fromLoopback(LoginAttempt attempt) {
    var address = attempt.clientAddress().getAddress();
    return address != null && address.isLoopbackAddress();
  }

  private static LoginOutcome identity(OidcIssuer issuer, JWTClaimsSet claims, String user) {
    Object subject = claims.getClaim(issuer.userClaim());
    if (!user.equals(String.valueOf(subject))) {
      return new LoginOutcome.Rejected(
          "28000",
          "the token's " + issuer.userClaim() + " does not match the user name \"" + user + "\"");
    }
    Object kind = issuer.agentClaim().isEmpty() ? null : claims.getClaim(issuer.agentClaim());
    boolean agent = kind != null && issuer.agentValues().contains(String.valueOf(kind));
    return new LoginOutcome.Authenticated(
        new Identity(user, issuer.issuer(), groups(claims, issuer.groupsClaim()), agent),
        Optional.of(claims.getExpirationTime().toInstant()));
  }

  /** Follows a dotted path ({@code realm_access.roles}) to a string or an array of strings. */
  static Set<String> groups(JWTClaimsSet claims, String path) {
    Object value = claims.getClaims();
    for (String part : path.split("\\.")) {
      if (!(value instanceof Map<?, ?> map)) {
        return Set.of();
      }
      value = map.get(part);
    }
    if (value instanceof Collection<?> values) {
      return values.stream().map(String::valueOf).collect(Collectors.toUnmodifiableSet());
    }
    return value == null ? Set.of() : Set.of(String.valueOf(value));
  }

  /** Nimbus' reasons, in words a person connecting with psql can act on. */
  private static String reason(BadJOSEException e) {
    String message = String.valueOf(e.getMessage());
    if (message.contains("Expired JWT")) {
      return "the token has expired; get a new one";
    }
    if (message.contains("before use time")) {
      return "the token is not valid yet (nbf in the future); check the clocks";
    }
    if (message.contains("aud claim") || message.contains("audience")) {
      return "the token is not meant for this gateway (aud does not match)";
    }
    if (message.contains("missing required claims")) {
      return "the token lacks required claims: " + message.replaceAll(".*claims:?\\s*", "");
    }
    if (message.contains("Invalid signature")) {
      return "the token's signature is not valid";
    }
    if (message.contains("no matching key")) {
      return "the token is signed by a key the issuer does not publish";
    }
    if (message.contains("type")) {
      return "the token's typ header is not JWT or at+jwt";
    }
    return "the token was rejected: " + message;
  }

  private static LoginOutcome.Rejected refused(String reason) {
    return new LoginOutcome.Rejected("28P01", reason);
  }

  private static String names(Set<JWSAlgorithm> algorithms) {
    return algorithms.stream()
        .map(JWSAlgorithm::getName)
        .sorted()
        .collect(Collectors.joining(", "));
  }
}
