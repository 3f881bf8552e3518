package io.portcullis.policy.identity;

import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jose.util.JSONObjectUtils;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Where an issuer's signing keys come from. Keys fetched over HTTP are cached; an unknown {@code
 * kid} triggers a refresh at most once per {@link #MIN_REFRESH_INTERVAL}, so a flood of made-up key
 * ids cannot hammer the identity provider; and the last keys stay in use for {@link
 * #OUTAGE_TOLERANCE} while the provider is unreachable.
 */
public final class OidcKeys {

  static final Duration MIN_REFRESH_INTERVAL = Duration.ofSeconds(30);
  static final Duration OUTAGE_TOLERANCE = Duration.ofHours(1);
  private static final int TIMEOUT_MILLIS = 5_000;
  private static final int SIZE_LIMIT_BYTES = 512 * 1024;

  private OidcKeys() {}

  /** Keys from the JWKS URL. */
  public static JWKSource<SecurityContext> fromUrl(URL jwksUrl) {
    return JWKSourceBuilder.create(jwksUrl, retriever())
        .rateLimited(MIN_REFRESH_INTERVAL.toMillis())
        .outageTolerant(OUTAGE_TOLERANCE.toMillis())
        .retrying(true)
        .build();
  }

  /** Keys from a JWKS file, for issuers without an HTTP endpoint; read once at start. */
  public static JWKSource<SecurityContext> fromFile(Path file) throws IOException, ParseException {
    return new ImmutableJWKSet<>(JWKSet.load(file.toFile()));
  }

  /**
   * Keys found through OIDC discovery ({@code /.well-known/openid-configuration} → {@code
   * jwks_uri}), looked up on first use so that the gateway starts while the provider is down.
   */
  public static JWKSource<SecurityContext> discovered(String issuer) {
    return new Discovered(issuer);
  }

  private static DefaultResourceRetriever retriever() {
    return new DefaultResourceRetriever(TIMEOUT_MILLIS, TIMEOUT_MILLIS, SIZE_LIMIT_BYTES);
  }

  private static final class Discovered implements JWKSource<SecurityContext> {
    private final String issuer;
    private volatile JWKSource<SecurityContext> keys;

    Discovered(String issuer) {
      this.issuer = issuer;
    }

    @Override
    public List<JWK> get(JWKSelector selector, SecurityContext context) throws KeySourceException {
      JWKSource<SecurityContext> source = keys;
      if (source == null) {
        synchronized (this) {
          if (keys == null) {
            keys = fromUrl(jwksUri());
          }
          source = keys;
        }
      }
      return source.get(selector, context);
    }

    private URL jwksUri() throws KeySourceException {
      String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
      try {
        URL metadataUrl = URI.create(base + "/.well-known/openid-configuration").toURL();
        Map<String, Object> metadata =
            JSONObjectUtils.parse(retriever().retrieveResource(metadataUrl).getContent());
        if (!issuer.equals(metadata.get("issuer"))) {
          throw new KeySourceException(
              "discovery document of "
                  + issuer
                  + " names another issuer: "
                  + metadata.get("issuer"));
        }
        return URI.create(JSONObjectUtils.getString(metadata, "jwks_uri")).toURL();
      } catch (IOException | ParseException | IllegalArgumentException e) {
        throw new KeySourceException(
            "OIDC discovery failed for " + issuer + ": " + e.getMessage(), e);
      }
    }
  }
}
