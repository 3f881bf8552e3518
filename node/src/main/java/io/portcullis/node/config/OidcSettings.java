package io.portcullis.node.config;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.portcullis.policy.identity.DevIssuer;
import io.portcullis.policy.identity.OidcAuthenticator;
import io.portcullis.policy.identity.OidcIssuer;
import io.portcullis.policy.identity.OidcKeys;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads {@code portcullis.client-authentication.oidc} into an {@link OidcAuthenticator}. */
public final class OidcSettings {

  private static final String PATH = "portcullis.client-authentication.oidc";
  private static final Logger log = LoggerFactory.getLogger(OidcSettings.class);

  private OidcSettings() {}

  static OidcAuthenticator authenticator(Config clientAuthentication) {
    Config oidc = clientAuthentication.getConfig("oidc");
    Config defaults = oidc.getConfig("issuer-defaults");
    List<OidcIssuer> issuers = new ArrayList<>();
    List<? extends Config> entries = oidc.getConfigList("issuers");
    for (int i = 0; i < entries.size(); i++) {
      issuers.add(issuer(entries.get(i).withFallback(defaults), PATH + ".issuers[" + i + "]"));
    }
    devIssuer(oidc)
        .ifPresent(dev -> issuers.add(dev.issuer(Set.copyOf(defaults.getStringList("audiences")))));
    if (issuers.isEmpty()) {
      throw new ConfigException.BadValue(
          PATH + ".issuers", "mode = oidc needs at least one issuer");
    }
    Set<JWSAlgorithm> algorithms =
        oidc.getStringList("algorithms").stream()
            .map(JWSAlgorithm::parse)
            .collect(Collectors.toUnmodifiableSet());
    try {
      return new OidcAuthenticator(
          issuers,
          algorithms,
          oidc.getDuration("clock-skew"),
          clientAuthentication.getBoolean("insecure-loopback"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(PATH + ".algorithms", e.getMessage());
    }
  }

  /** The dev issuer, when enabled; loading it creates its key on first use. */
  public static Optional<DevIssuer> devIssuer(Config oidc) {
    if (!oidc.getBoolean("dev-issuer.enabled")) {
      return Optional.empty();
    }
    Path keyFile = Path.of(oidc.getString("dev-issuer.key-file"));
    log.warn(
        "DEV ISSUER ENABLED: tokens minted with `portcullis token mint` (key {}) are accepted."
            + " Never enable portcullis.client-authentication.oidc.dev-issuer in production.",
        keyFile.toAbsolutePath());
    try {
      return Optional.of(DevIssuer.load(keyFile));
    } catch (IOException e) {
      throw new ConfigException.BadValue(PATH + ".dev-issuer.key-file", e.getMessage());
    }
  }

  private static OidcIssuer issuer(Config entry, String path) {
    String issuer = entry.getString("issuer");
    return new OidcIssuer(
        issuer,
        keys(entry, path, issuer),
        Set.copyOf(entry.getStringList("audiences")),
        entry.getString("user-claim"),
        entry.getString("groups-claim"),
        entry.getString("agent-claim"),
        Set.copyOf(entry.getStringList("agent-values")),
        Set.copyOf(entry.getStringList("required-claims")));
  }

  private static JWKSource<SecurityContext> keys(Config entry, String path, String issuer) {
    String url = entry.getString("jwks-url");
    String file = entry.getString("jwks-file");
    if (!url.isEmpty() && !file.isEmpty()) {
      throw new ConfigException.BadValue(path, "set jwks-url or jwks-file, not both");
    }
    OidcKeys.Caching caching;
    try {
      caching =
          new OidcKeys.Caching(
              entry.getDuration("keys-cache-lifetime"),
              entry.getDuration("keys-min-refresh-interval"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(path + ".keys-min-refresh-interval", e.getMessage());
    }
    try {
      if (!url.isEmpty()) {
        return OidcKeys.fromUrl(URI.create(url).toURL(), caching);
      }
      if (!file.isEmpty()) {
        return OidcKeys.fromFile(Path.of(file));
      }
      return OidcKeys.discovered(issuer, caching);
    } catch (MalformedURLException | IllegalArgumentException e) {
      throw new ConfigException.BadValue(path + ".jwks-url", "not a URL: " + url);
    } catch (IOException | ParseException e) {
      throw new ConfigException.BadValue(
          path + ".jwks-file", "cannot read a JWKS from " + file + ": " + e.getMessage());
    }
  }
}
