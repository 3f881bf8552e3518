package io.portcullis.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.persistence.journal.JournalDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration mistakes are refused at start with the key that is wrong. */
class GatewaySettingsTest {

  /** A complete target: targets given in configuration replace the built-in one entirely. */
  private static final String MAIN =
      "portcullis.targets.main { host = db, database = d, user = u }\n";

  private static GatewaySettings load(String hocon) {
    return GatewaySettings.from(
        ConfigLoader.load(Optional.empty(), ConfigFactory.parseString(hocon)));
  }

  @Test
  void defaultsDescribeALocalGateway() {
    GatewaySettings settings = load("");
    assertThat(settings.listener().host()).isEqualTo("127.0.0.1");
    assertThat(settings.listener().port()).isEqualTo(6432);
    assertThat(settings.listener().tlsEnabled()).isFalse();
    assertThat(settings.listener().ioThreads()).isPositive();
    assertThat(settings.targets()).containsOnlyKeys("main");
    assertThat(settings.targets().get("main").tls().mode())
        .isEqualTo(TargetSettings.TlsMode.DISABLE);
  }

  @Test
  void aFileWithTargetsReplacesTheBuiltInOne(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("gateway.conf");
    Files.writeString(
        file, "portcullis.targets.ledger { host = db.internal, database = ledger, user = gw }");
    GatewaySettings settings =
        GatewaySettings.from(ConfigLoader.load(Optional.of(file), ConfigFactory.empty()));
    assertThat(settings.targets()).containsOnlyKeys("ledger");
    TargetSettings ledger = settings.targets().get("ledger");
    assertThat(ledger.port()).isEqualTo(5432);
    assertThat(ledger.password()).isEqualTo(new TargetSettings.PasswordSource.None());
  }

  @Test
  void passwordSourcesAreExclusiveAndNeverPrinted() {
    assertThatThrownBy(
            () -> load(MAIN + "portcullis.targets.main { password = a, password-env = B }"))
        .isInstanceOf(ConfigException.BadValue.class)
        .hasMessageContaining("portcullis.targets.main");
    TargetSettings main =
        load(MAIN + "portcullis.targets.main.password = hunter2").targets().get("main");
    assertThat(main.toString()).doesNotContain("hunter2");
  }

  @Test
  void clusterDiscoveryIsSeedNodesOrKubernetesAndTheDrainDeadlineNotNegative() {
    assertThat(load("").cluster())
        .isEqualTo(
            new GatewaySettings.ClusterSettings(
                GatewaySettings.Discovery.SEED_NODES, Duration.ofSeconds(30)));
    assertThat(load("portcullis.cluster.discovery = kubernetes-api").cluster().discovery())
        .isEqualTo(GatewaySettings.Discovery.KUBERNETES_API);
    assertThatThrownBy(() -> load("portcullis.cluster.discovery = dns"))
        .isInstanceOf(ConfigException.BadValue.class)
        .hasMessageContaining("portcullis.cluster.discovery");
    assertThatThrownBy(() -> load("portcullis.shutdown.drain-deadline = -1s"))
        .isInstanceOf(ConfigException.BadValue.class)
        .hasMessageContaining("drain-deadline");
  }

  @Test
  void verifyFullNeedsACaFile() {
    assertThatThrownBy(() -> load(MAIN + "portcullis.targets.main.tls.mode = verify-full"))
        .hasMessageContaining("ca-file");
  }

  @Test
  void unknownTlsModeIsRefused() {
    assertThatThrownBy(() -> load(MAIN + "portcullis.targets.main.tls.mode = prefer"))
        .hasMessageContaining("disable, require or verify-full");
  }

  @Test
  void certificateWithoutKeyIsRefused() {
    assertThatThrownBy(() -> load("portcullis.listener.tls.certificate-file = /tmp/cert.pem"))
        .hasMessageContaining("set together");
  }

  @Test
  void aPolicyReloadIntervalMustBePositive() {
    assertThatThrownBy(() -> load("portcullis.policy.reload-interval = 0s"))
        .hasMessageContaining("portcullis.policy.reload-interval")
        .hasMessageContaining("must be positive");
  }

  @Test
  void aCatalogRefreshIntervalMustBePositive() {
    assertThatThrownBy(() -> load("portcullis.policy.catalog-refresh-interval = 0s"))
        .hasMessageContaining("portcullis.policy.catalog-refresh-interval")
        .hasMessageContaining("must be positive");
  }

  @Test
  void adminTlsNeedsCertificateAndKeyTogether() {
    assertThatThrownBy(() -> load("portcullis.admin.tls.certificate-file = /etc/admin.crt"))
        .hasMessageContaining("portcullis.admin.tls")
        .hasMessageContaining("set together");
  }

  @Test
  void aJournalThatIsNeitherPostgresqlNorH2IsRefusedWithoutItsPassword() {
    Config config =
        ConfigLoader.load(
            Optional.empty(),
            ConfigFactory.parseString(
                "portcullis.journal.url = \"jdbc:mysql://auditor:s3cret@db/journal\""));
    assertThatThrownBy(() -> JournalDatabase.from(config))
        .isInstanceOf(ConfigException.BadValue.class)
        .hasMessageContaining("PostgreSQL")
        .hasMessageContaining("H2")
        .hasMessageNotContaining("s3cret");
  }

  private static AuditSettings audit(String hocon) {
    return AuditSettings.from(
        ConfigLoader.load(Optional.empty(), ConfigFactory.parseString(hocon))
            .getConfig("portcullis.journal"),
        "node-1");
  }

  @Test
  void journalDefaultsKeepAHundredRowsAndWaitFiveSeconds() {
    AuditSettings settings = audit("");
    assertThat(settings.writeTimeout()).isEqualTo(java.time.Duration.ofSeconds(5));
    assertThat(settings.sampleLimits().rows()).isEqualTo(100);
    assertThat(settings.sampleLimits().bytes()).isEqualTo(64 * 1024);
    assertThat(settings.checkpointInterval()).isEqualTo(java.time.Duration.ofSeconds(10));
    assertThat(settings.signingKeyFile()).isEmpty();
  }

  @Test
  void badJournalWriteTimeoutsAndSampleSizesAreRefused() {
    assertThatThrownBy(() -> audit("portcullis.journal.write-timeout = 0s"))
        .isInstanceOf(ConfigException.BadValue.class)
        .hasMessageContaining("write-timeout");
    assertThatThrownBy(() -> audit("portcullis.journal.checkpoint-interval = 0s"))
        .isInstanceOf(ConfigException.BadValue.class)
        .hasMessageContaining("checkpoint-interval");
    assertThatThrownBy(() -> audit("portcullis.journal.sample-rows = -1"))
        .isInstanceOf(ConfigException.BadValue.class)
        .hasMessageContaining("sample-rows");
    assertThatThrownBy(() -> audit("portcullis.journal.sample-bytes = lots"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("sample-bytes");
  }

  @Test
  void aMaskingKeyShorterThan32BytesStopsTheStart(@TempDir Path dir) throws Exception {
    Path key = dir.resolve("masking.key");
    Files.write(key, new byte[16]);
    assertThatThrownBy(
            () -> TestGateway.start("portcullis.policy.masking-key-file = \"%s\"".formatted(key)))
        .hasMessageContaining("holds 16 bytes")
        .hasMessageContaining("at least 32 random bytes");
  }

  @Test
  void aClientCaNeedsListenerTls() {
    assertThatThrownBy(() -> load("portcullis.listener.tls.client-ca-file = /tmp/ca.pem"))
        .hasMessageContaining("client certificates need TLS");
  }

  @Test
  void anUnknownCertificateUserFieldIsRefused() {
    assertThatThrownBy(
            () ->
                load(
                    "portcullis.listener.tls { certificate-file = /tmp/c.pem,"
                        + " private-key-file = /tmp/k.pem, client-ca-file = /tmp/ca.pem }\n"
                        + "portcullis.client-authentication.certificates.user-field = serial"))
        .hasMessageContaining("expected CN, email, dns or uri");
  }

  @Test
  void aKeyRefreshIntervalMustBeShorterThanTheCacheLifetime() {
    assertThatThrownBy(
            () ->
                load(
                    OIDC
                        + "portcullis.client-authentication.oidc.issuers = [{ issuer = \"https://idp\","
                        + " keys-cache-lifetime = 10s, keys-min-refresh-interval = 1m }]"))
        .hasMessageContaining("shorter than the cache lifetime");
  }

  @Test
  void unknownClientAuthenticationModeIsRefused() {
    assertThatThrownBy(() -> load("portcullis.client-authentication.mode = ldap"))
        .hasMessageContaining("trust or password-list");
  }

  @Test
  void aMissingConfigurationFileIsAnError() {
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    Optional.of(Path.of("/nonexistent/gateway.conf")), ConfigFactory.empty()))
        .isInstanceOf(ConfigException.class);
  }

  @Test
  void emptyTargetsAreRefused() {
    assertThatThrownBy(() -> load("portcullis.targets = {}"))
        .hasMessageContaining("at least one upstream target");
  }

  private static final String OIDC = "portcullis.client-authentication.mode = oidc\n";

  @Test
  void oidcWithoutAnyIssuerIsRefused() {
    assertThatThrownBy(() -> load(OIDC))
        .isInstanceOf(ConfigException.BadValue.class)
        .hasMessageContaining("at least one issuer");
  }

  @Test
  void hmacAlgorithmsAreRefusedAtStart() {
    assertThatThrownBy(
            () ->
                load(
                    OIDC
                        + "portcullis.client-authentication.oidc {"
                        + " algorithms = [RS256, HS256], issuers = [{ issuer = \"https://idp\" }] }"))
        .isInstanceOf(ConfigException.BadValue.class)
        .hasMessageContaining("HS256");
  }

  @Test
  void anIssuerCannotHaveBothAJwksUrlAndAFile() {
    assertThatThrownBy(
            () ->
                load(
                    OIDC
                        + "portcullis.client-authentication.oidc.issuers = [{ issuer = \"https://idp\","
                        + " jwks-url = \"https://idp/jwks\", jwks-file = \"/tmp/jwks.json\" }]"))
        .hasMessageContaining("not both");
  }

  @Test
  void anUnreadableJwksFileIsRefused() {
    assertThatThrownBy(
            () ->
                load(
                    OIDC
                        + "portcullis.client-authentication.oidc.issuers = [{ issuer = \"https://idp\","
                        + " jwks-file = \"/nonexistent/jwks.json\" }]"))
        .isInstanceOf(ConfigException.BadValue.class)
        .hasMessageContaining("jwks-file");
  }

  @Test
  void aNegativeTokenExpiryGraceIsRefused() {
    assertThatThrownBy(() -> load("portcullis.client-authentication.token-expiry-grace = -5s"))
        .isInstanceOf(ConfigException.BadValue.class)
        .hasMessageContaining("token-expiry-grace");
  }

  @Test
  void aGroupLoginNeedsAUserAndOnePasswordSource() {
    assertThatThrownBy(() -> load(MAIN + "portcullis.targets.main.group-logins = [{ group = g }]"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("user");
    assertThatThrownBy(
            () ->
                load(
                    MAIN
                        + "portcullis.targets.main.group-logins ="
                        + " [{ group = g, user = u, password = a, password-file = b }]"))
        .hasMessageContaining("group-logins[0]");
  }

  @Test
  void groupLoginsPickTheFirstMatchingGroupAndSetRoleFillsInTheUser() {
    TargetSettings main =
        load(MAIN
                + "portcullis.targets.main { set-role = \"agent_{user}\","
                + " group-logins = [{ group = a, user = ua }, { group = b, user = ub }] }")
            .targets()
            .get("main");
    assertThat(main.loginFor(java.util.Set.of("b", "a")).user()).isEqualTo("ua");
    assertThat(main.loginFor(java.util.Set.of("c")).user()).isEqualTo("u");
    assertThat(main.setRoleFor("alice")).contains("agent_alice");
  }
}
