package io.portcullis.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A misspelled setting stops the start instead of leaving its default silently in force. */
class UnknownSettingsTest {

  private static final String MAIN =
      "portcullis.targets.main { host = db, database = d, user = u }\n";

  private static void load(String hocon) {
    ConfigLoader.load(Optional.empty(), ConfigFactory.parseString(hocon));
  }

  @Test
  void aMisspelledKeyInTheFileIsRefusedWithWhereItIsAndWhatIsKnownThere(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("gateway.conf");
    Files.writeString(
        file,
        """
        portcullis {
          client-authentication {
            mode = oidc
            insecure-loopbak = true
          }
        }
        """);
    assertThatThrownBy(() -> ConfigLoader.load(Optional.of(file), ConfigFactory.empty()))
        .isInstanceOf(ConfigException.ValidationFailed.class)
        .hasMessageContaining("portcullis.client-authentication.insecure-loopbak")
        .hasMessageContaining("gateway.conf: 4")
        .hasMessageContaining("insecure-loopback")
        .hasMessageContaining("docs/configuration.md");
  }

  @Test
  void everyUnknownKeyIsNamedAtOnce() {
    assertThatThrownBy(
            () ->
                load(
                    """
                    portcullis.listener.tls.certficate-file = "/etc/tls.crt"
                    portcullis.jornal.url = "jdbc:h2:mem:x"
                    """))
        .isInstanceOf(ConfigException.ValidationFailed.class)
        .hasMessageContaining("portcullis.listener.tls.certficate-file")
        .hasMessageContaining("portcullis.jornal");
  }

  @Test
  void targetsIssuersGroupLoginsAndWebhooksAreCheckedAgainstTheirOwnKeys() {
    assertThatThrownBy(() -> load(MAIN + "portcullis.targets.main.tls.verify = full"))
        .hasMessageContaining("portcullis.targets.main.tls.verify")
        .hasMessageContaining("known here: ca-file, mode");
    assertThatThrownBy(() -> load(MAIN + "portcullis.targets.main.pasword = secret"))
        .hasMessageContaining("portcullis.targets.main.pasword");
    assertThatThrownBy(
            () ->
                load(
                    "portcullis.client-authentication.oidc.issuers ="
                        + " [{ issuer = \"https://idp\", audience = [portcullis] }]"))
        .hasMessageContaining("portcullis.client-authentication.oidc.issuers[0].audience");
    assertThatThrownBy(
            () ->
                load(
                    MAIN
                        + "portcullis.targets.main.group-logins ="
                        + " [{ group = g, user = u, passwd-file = \"/p\" }]"))
        .hasMessageContaining("portcullis.targets.main.group-logins[0].passwd-file");
    assertThatThrownBy(
            () ->
                load(
                    "portcullis.approvals.webhooks ="
                        + " [{ url = \"https://hooks.example\", header { A = b } }]"))
        .hasMessageContaining("portcullis.approvals.webhooks[0].header");
  }

  @Test
  void namesTheOperatorChoosesAreNotSettings() {
    assertThatCode(
            () ->
                load(
                    """
                    portcullis.targets.ledger-eu { host = db, database = d, user = u, port = 5433 }
                    portcullis.client-authentication.passwords { alice = "x", "bob.smith" = "y" }
                    portcullis.approvals.webhooks = [{
                      url = "https://siem.example", format = generic,
                      headers { X-Team = risk }, headers-env { Authorization = SIEM_AUTH }
                    }]
                    portcullis.targets.ledger-eu.group-logins = [
                      { group = analysts, user = ro, password-env = RO_PASSWORD }
                    ]
                    """))
        .doesNotThrowAnyException();
  }

  /**
   * Every {@code hocon} example of the README and docs/ holds only settings the gateway knows. The
   * identity guide's issuer examples are fragments of {@code
   * portcullis.client-authentication.oidc}.
   */
  @Test
  void everyExampleInTheDocumentationHoldsOnlyKnownSettings() throws Exception {
    List<Path> pages = new ArrayList<>(List.of(Path.of("..", "README.md")));
    try (Stream<Path> docs = Files.list(Path.of("..", "docs"))) {
      docs.filter(page -> page.toString().endsWith(".md")).sorted().forEach(pages::add);
    }
    int examples = 0;
    for (Path page : pages) {
      Matcher block = HOCON_BLOCK.matcher(Files.readString(page));
      while (block.find()) {
        String example = block.group(1);
        String hocon =
            example.stripLeading().startsWith("issuer")
                ? "portcullis.client-authentication.oidc {\n" + example + "\n}"
                : example;
        assertThat(hocon)
            .as(page + ": an example whose place in the configuration is unknown")
            .matches("(?s)(portcullis|pekko).*");
        assertThatCode(
                () ->
                    UnknownSettings.check(
                        ConfigFactory.parseString(hocon), ConfigLoader.builtInDefaults().resolve()))
            .as(page + ":\n" + example)
            .doesNotThrowAnyException();
        examples++;
      }
    }
    assertThat(examples).isGreaterThan(10);
  }

  private static final Pattern HOCON_BLOCK = Pattern.compile("```hocon\n(.*?)```", Pattern.DOTALL);

  /** What deploy/ ships for Docker Compose and Kubernetes holds only settings the gateway knows. */
  @Test
  void theShippedDeploymentConfigurationsHoldOnlyKnownSettings() throws Exception {
    Path deploy = Path.of("..", "deploy");
    String compose = Files.readString(deploy.resolve("compose/portcullis.conf"));
    String configMap = Files.readString(deploy.resolve("k8s/configmap-config.yaml"));
    String k8s = configMap.substring(configMap.indexOf("portcullis.conf: |") + 18);
    assertThat(k8s).contains("targets.main");
    for (String shipped : new String[] {compose, k8s}) {
      assertThatCode(
              () ->
                  UnknownSettings.check(
                      ConfigFactory.parseString(shipped), ConfigLoader.builtInDefaults().resolve()))
          .doesNotThrowAnyException();
    }
  }
}
