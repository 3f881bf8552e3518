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
 * Where an issuer's signing keys come from. Keys fetched over HTTP are cached for {@link
 * Caching#lifetime()}, so a key that leaves the provider's JWKS stops being accepted at most that
 * long after; an unknown {@code kid} triggers a refresh at most once per {@link
 * Caching#minRefreshInterval()}, so a flood of made-up key ids cannot hammer the identity provider;
 * and the last keys stay in use for {@link #OUTAGE_TOLERANCE} while the provider is unreachable.
 */
public final class OidcKeys {

  /**
   * How long fetched keys are trusted without asking the provider again, and how often an unknown
   * {@code kid} may make the gateway ask.
   */
  public record Caching(Duration lifetime, Duration minRefreshInterval) {
    public static final Caching DEFAULT =
        new Caching(Duration.ofMinutes(5), Duration.ofSeconds(30));

    public Caching {
      if (minRefreshInterval.isNegative() || minRefreshInterval.compareTo(lifetime) >= 0) {
        throw new IllegalArgumentException(
            "the minimum refresh interval must be shorter than the cache lifetime");
      }
    }
  }

  static final Duration OUTAGE_TOLERANCE = Duration.ofHours(1);
  private static final int TIMEOUT_MILLIS = 5_000;
  private static final int SIZE_LIMIT_BYTES = 512 * 1024;

  private OidcKeys() {}

  /** Keys from the JWKS URL. */
  public static JWKSource<SecurityContext> fromUrl(URL jwksUrl, Caching caching) {
    return JWKSourceBuilder.create(jwksUrl, retriever())
        .cache(caching.lifetime().toMillis(), JWKSourceBuilder.DEFAULT_CACHE_REFRESH_TIMEOUT)
        .refreshAheadCache(false)
        .rateLimited(caching.minRefreshInterval().toMillis())
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
  public static JWKSource<SecurityContext> discovered(String issuer, Caching caching) {
    return new Discovered(issuer, caching);
  }

  private static DefaultResourceRetriever retriever() {
    return new DefaultResourceRetriever(TIMEOUT_MILLIS, TIMEOUT_MILLIS, SIZE_LIMIT_BYTES);
  }

  private static final class Discovered implements JWKSource<SecurityContext> {
    private final String issuer;
    private final Caching caching;
    private volatile JWKSource<SecurityContext> keys;

    Discovered(String issuer, Caching caching) {
      this.issuer = issuer;
      this.caching = caching;
    }

    @Override
    public List<JWK> get(JWKSelector selector, SecurityContext context) throws KeySourceException {
      JWKSource<SecurityContext> source = keys;
      if (source == null) {
        synchronized (this) {
          if (keys == null) {
            keys = fromUrl(jwksUri(), caching);
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
