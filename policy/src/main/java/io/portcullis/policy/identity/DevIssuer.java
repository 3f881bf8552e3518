package io.portcullis.policy.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * A local token issuer for demonstrations and tests: {@code portcullis token mint} signs tokens
 * with its key and a gateway with the dev issuer enabled trusts them. Its tokens say who they are
 * for but nobody vouches for it, so it must never be enabled in production.
 */
public final class DevIssuer {

  public static final String ISSUER = "urn:portcullis:dev";

  private final ECKey key;

  private DevIssuer(ECKey key) {
    this.key = key;
  }

  /** Loads the signing key from {@code keyFile}, creating it (owner-only) on first use. */
  public static DevIssuer load(Path keyFile) throws IOException {
    try {
      if (Files.exists(keyFile)) {
        return new DevIssuer(ECKey.parse(Files.readString(keyFile, StandardCharsets.UTF_8)));
      }
      ECKey key = new ECKeyGenerator(Curve.P_256).keyID("dev-" + UUID.randomUUID()).generate();
      Path parent = keyFile.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path temporary = Files.createTempFile(parent, "dev-issuer", ".tmp");
      Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
      Files.writeString(temporary, key.toJSONString(), StandardCharsets.UTF_8);
      Files.move(temporary, keyFile);
      return new DevIssuer(key);
    } catch (ParseException | JOSEException e) {
      throw new IOException("cannot use the dev issuer key " + keyFile + ": " + e.getMessage(), e);
    }
  }

  /** A token for {@code subject}, in the shape the dev issuer's {@link #issuer} expects. */
  public String mint(
      String subject, Set<String> groups, boolean agent, Duration lifetime, String audience) {
    Instant now = Instant.now();
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .issuer(ISSUER)
            .subject(subject)
            .audience(audience)
            .issueTime(Date.from(now))
            .expirationTime(Date.from(now.plus(lifetime)))
            .jwtID(UUID.randomUUID().toString())
            .claim("preferred_username", subject)
            .claim("groups", List.copyOf(groups))
            .claim("portcullis_kind", agent ? "agent" : "person")
            .build();
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256)
                .type(JOSEObjectType.JWT)
                .keyID(key.getKeyID())
                .build(),
            claims);
    try {
      jwt.sign(new ECDSASigner(key));
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot sign with the dev issuer key", e);
    }
    return jwt.serialize();
  }

  /** The issuer a gateway trusts when its dev issuer is enabled. */
  public OidcIssuer issuer(Set<String> audiences) {
    return new OidcIssuer(
        ISSUER,
        new ImmutableJWKSet<>(new JWKSet(key.toPublicJWK())),
        audiences,
        "preferred_username",
        "groups",
        "portcullis_kind",
        Set.of("agent"),
        Set.of());
  }
}
