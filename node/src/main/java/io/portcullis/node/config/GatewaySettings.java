package io.portcullis.node.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.portcullis.node.approval.WebhookSettings;
import io.portcullis.node.session.SessionLifetime;
import io.portcullis.policy.identity.CertificateAuthenticator;
import io.portcullis.policy.identity.ClientAuthenticator;
import io.portcullis.policy.identity.DevAuthenticator;
import io.portcullis.policy.identity.OidcAuthenticator;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** The {@code portcullis} section of the configuration, read once at start and validated. */
public record GatewaySettings(
    ListenerSettings listener,
    Limits limits,
    ClientAuthenticator clientAuthenticator,
    SessionLifetime sessionLifetime,
    StartupPolicy startup,
    PolicySettings policy,
    AdminSettings admin,
    Optional<OidcAuthenticator> approverTokens,
    WebhookSettings webhooks,
    Map<String, TargetSettings> targets,
    ClusterSettings cluster) {

  /**
   * The admin HTTP API (approvals, audit queries), served over TLS when a certificate and key are
   * given.
   *
   * @param port 0 picks a free port
   * @param auditorGroups callers in any of these groups may read the audit trail
   * @param operatorGroups callers in any of these groups may end sessions
   */
  public record AdminSettings(
      boolean enabled,
      String host,
      int port,
      Optional<Path> certificateFile,
      Optional<Path> privateKeyFile,
      Set<String> auditorGroups,
      Set<String> operatorGroups) {
    public AdminSettings {
      auditorGroups = Set.copyOf(auditorGroups);
      operatorGroups = Set.copyOf(operatorGroups);
    }
  }

  /**
   * @param file the policy file; empty means every statement is allowed
   * @param reloadInterval how often the file is checked for changes
   * @param catalogRefreshInterval how often each target's views and functions are read again
   * @param maskingKeyFile the secret of the masking strategy {@code hash}; without it a random key
   *     is made at start
   */
  public record PolicySettings(
      Optional<Path> file,
      java.time.Duration reloadInterval,
      java.time.Duration catalogRefreshInterval,
      Optional<Path> maskingKeyFile) {}

  /**
   * Where clients connect; TLS is on when a certificate and key are given, and clients may then
   * present certificates signed by the client CA.
   */
  public record ListenerSettings(
      String host,
      int port,
      int ioThreads,
      Optional<Path> certificateFile,
      Optional<Path> privateKeyFile,
      Optional<Path> clientCaFile) {
    public boolean tlsEnabled() {
      return certificateFile.isPresent();
    }
  }

  /**
   * How the node finds the others, and how long it lets sessions finish when it stops.
   *
   * @param drainDeadline 0 ends open sessions at once
   */
  public record ClusterSettings(Discovery discovery, java.time.Duration drainDeadline) {}

  public enum Discovery {
    /** {@code pekko.cluster.seed-nodes}; none means a cluster of one. */
    SEED_NODES,
    /** Pekko Management Cluster Bootstrap over the Kubernetes API. */
    KUBERNETES_API
  }

  public record Limits(
      int maxStartupPacketBytes, int maxAuthenticationMessageBytes, int maxMessageBytes) {}

  /** Startup parameters and {@code options} settings a client may pass to the upstream. */
  public record StartupPolicy(Set<String> allowedParameters, Set<String> allowedOptions) {
    public StartupPolicy {
      allowedParameters = caseInsensitive(allowedParameters);
      allowedOptions = caseInsensitive(allowedOptions);
    }

    private static Set<String> caseInsensitive(Set<String> names) {
      Set<String> set = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
      set.addAll(names);
      return java.util.Collections.unmodifiableSet(set);
    }
  }

  public static GatewaySettings from(Config root) {
    Config config = root.getConfig("portcullis");
    ListenerSettings listener = listener(config.getConfig("listener"));
    Config clientAuthentication = config.getConfig("client-authentication");
    Optional<OidcAuthenticator> oidc =
        usesOidc(clientAuthentication)
            ? Optional.of(OidcSettings.authenticator(clientAuthentication))
            : Optional.empty();
    GatewaySettings settings =
        new GatewaySettings(
            listener,
            new Limits(
                config.getInt("limits.max-startup-packet-bytes"),
                config.getInt("limits.max-authentication-message-bytes"),
                (int) Math.min(Integer.MAX_VALUE, config.getBytes("limits.max-message-bytes"))),
            clientAuthenticator(clientAuthentication, listener, oidc),
            sessionLifetime(config),
            new StartupPolicy(
                Set.copyOf(config.getStringList("startup.allowed-parameters")),
                Set.copyOf(config.getStringList("startup.allowed-options"))),
            policy(config),
            admin(config.getConfig("admin")),
            oidc,
            WebhookSettings.from(config.getConfig("approvals")),
            targets(config.getConfig("targets"), config.getConfig("target-defaults")),
            cluster(config));
    if (settings.targets.isEmpty()) {
      throw new ConfigException.BadValue(
          "portcullis.targets", "at least one upstream target must be configured");
    }
    return settings;
  }

  private static ClusterSettings cluster(Config config) {
    String discovery = config.getString("cluster.discovery");
    java.time.Duration drain = config.getDuration("shutdown.drain-deadline");
    if (drain.isNegative()) {
      throw new ConfigException.BadValue(
          "portcullis.shutdown.drain-deadline", "must not be negative");
    }
    return switch (discovery) {
      case "seed-nodes" -> new ClusterSettings(Discovery.SEED_NODES, drain);
      case "kubernetes-api" -> new ClusterSettings(Discovery.KUBERNETES_API, drain);
      default ->
          throw new ConfigException.BadValue(
              "portcullis.cluster.discovery",
              "'" + discovery + "' is not seed-nodes or kubernetes-api");
    };
  }

  private static PolicySettings policy(Config config) {
    java.time.Duration interval = config.getDuration("policy.reload-interval");
    if (interval.isNegative() || interval.isZero()) {
      throw new ConfigException.BadValue("portcullis.policy.reload-interval", "must be positive");
    }
    java.time.Duration catalog = config.getDuration("policy.catalog-refresh-interval");
    if (catalog.isNegative() || catalog.isZero()) {
      throw new ConfigException.BadValue(
          "portcullis.policy.catalog-refresh-interval", "must be positive");
    }
    return new PolicySettings(
        optionalPath(config, "policy.file"),
        interval,
        catalog,
        optionalPath(config, "policy.masking-key-file"));
  }

  private static SessionLifetime sessionLifetime(Config config) {
    String key = "client-authentication.token-expiry-grace";
    java.time.Duration grace = config.getDuration(key);
    if (grace.isNegative()) {
      throw new ConfigException.BadValue("portcullis." + key, "must not be negative");
    }
    return new SessionLifetime(grace);
  }

  private static ListenerSettings listener(Config config) {
    Optional<Path> certificate = optionalPath(config, "tls.certificate-file");
    Optional<Path> key = optionalPath(config, "tls.private-key-file");
    if (certificate.isPresent() != key.isPresent()) {
      throw new ConfigException.BadValue(
          "portcullis.listener.tls", "certificate-file and private-key-file must be set together");
    }
    Optional<Path> clientCa = optionalPath(config, "tls.client-ca-file");
    if (clientCa.isPresent() && certificate.isEmpty()) {
      throw new ConfigException.BadValue(
          "portcullis.listener.tls.client-ca-file",
          "client certificates need TLS: set certificate-file and private-key-file too");
    }
    int ioThreads = config.getInt("io-threads");
    return new ListenerSettings(
        config.getString("host"),
        config.getInt("port"),
        ioThreads > 0 ? ioThreads : Math.max(1, Runtime.getRuntime().availableProcessors() / 2),
        certificate,
        key,
        clientCa);
  }

  /** OIDC verifies client tokens in mode oidc, and approvers' tokens whenever issuers exist. */
  private static boolean usesOidc(Config clientAuthentication) {
    Config oidc = clientAuthentication.getConfig("oidc");
    return clientAuthentication.getString("mode").equals("oidc")
        || !oidc.getConfigList("issuers").isEmpty()
        || oidc.getBoolean("dev-issuer.enabled");
  }

  private static AdminSettings admin(Config config) {
    Optional<Path> certificate = optionalPath(config, "tls.certificate-file");
    Optional<Path> key = optionalPath(config, "tls.private-key-file");
    if (certificate.isPresent() != key.isPresent()) {
      throw new ConfigException.BadValue(
          "portcullis.admin.tls", "certificate-file and private-key-file must be set together");
    }
    return new AdminSettings(
        config.getBoolean("enabled"),
        config.getString("host"),
        config.getInt("port"),
        certificate,
        key,
        Set.copyOf(config.getStringList("auditor-groups")),
        Set.copyOf(config.getStringList("operator-groups")));
  }

  private static ClientAuthenticator clientAuthenticator(
      Config config, ListenerSettings listener, Optional<OidcAuthenticator> oidc) {
    ClientAuthenticator byMode = authenticatorForMode(config, oidc);
    if (listener.clientCaFile().isEmpty()) {
      return byMode;
    }
    Config certificates = config.getConfig("certificates");
    String field = certificates.getString("user-field");
    CertificateAuthenticator.UserField userField;
    try {
      userField = CertificateAuthenticator.UserField.valueOf(field.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(
          "portcullis.client-authentication.certificates.user-field",
          "unknown field '" + field + "'; expected CN, email, dns or uri");
    }
    return new CertificateAuthenticator(
        new CertificateAuthenticator.Mapping(
            userField,
            certificates.getString("groups-attribute"),
            certificates.getBoolean("agent")),
        byMode);
  }

  private static ClientAuthenticator authenticatorForMode(
      Config config, Optional<OidcAuthenticator> oidc) {
    String mode = config.getString("mode");
    return switch (mode) {
      case "trust" -> DevAuthenticator.trust();
      case "password-list" -> {
        Map<String, String> passwords = new LinkedHashMap<>();
        Config list = config.getConfig("passwords");
        list.root().keySet().forEach(user -> passwords.put(user, list.getString(quoted(user))));
        yield DevAuthenticator.passwords(passwords);
      }
      case "oidc" -> oidc.orElseThrow();
      default ->
          throw new ConfigException.BadValue(
              "portcullis.client-authentication.mode",
              "unknown mode '" + mode + "'; expected oidc, trust or password-list");
    };
  }

  private static Map<String, TargetSettings> targets(Config config, Config defaults) {
    Map<String, TargetSettings> targets = new LinkedHashMap<>();
    for (String name : config.root().keySet()) {
      targets.put(
          name, TargetSettings.from(name, config.getConfig(quoted(name)).withFallback(defaults)));
    }
    return Map.copyOf(targets);
  }

  static Optional<Path> optionalPath(Config config, String key) {
    String value = config.getString(key);
    return value.isBlank() ? Optional.empty() : Optional.of(Path.of(value));
  }

  private static String quoted(String key) {
    return "\"" + key + "\"";
  }
}
