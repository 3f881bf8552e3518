package io.portcullis.node.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.portcullis.node.approval.WebhookSettings.Endpoint;
import io.portcullis.node.approval.WebhookSettings.Format;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

/** Webhook mistakes are refused at start with the key that is wrong, and secrets stay unprinted. */
class WebhookSettingsTest {

  /** The defaults the gateway ships in gateway.conf. */
  private static final String DEFAULTS =
      "webhooks = []\n"
          + "webhook-timeout = 5s\n"
          + "webhook-max-attempts = 5\n"
          + "webhook-first-retry-delay = 1s\n";

  private static final Map<String, String> ENVIRONMENT = Map.of("SIEM_AUTH", "Bearer s3cret");

  private static WebhookSettings load(String hocon) {
    return WebhookSettings.from(
        ConfigFactory.parseString(hocon).withFallback(ConfigFactory.parseString(DEFAULTS)),
        ENVIRONMENT::get);
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> refused(String hocon) {
    return assertThatThrownBy(() -> load(hocon)).isInstanceOf(ConfigException.BadValue.class);
  }

  @Test
  void theDefaultsAnnounceNowhere() {
    WebhookSettings settings = load("");
    assertThat(settings.endpoints()).isEmpty();
    assertThat(settings.timeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(settings.maxAttempts()).isEqualTo(5);
    assertThat(settings.firstRetryDelay()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void endpointsAreReadWithTheirFormatAndHeaders() {
    WebhookSettings settings =
        load(
            "webhooks = [{ url = \"https://hooks.slack.com/services/T000/B000/XXX\", format = SLACK },"
                + " { url = \"http://siem.bank.example:8080/portcullis\","
                + " headers { X-Tenant = bank, X-Priority = 2 },"
                + " headers-env { Authorization = SIEM_AUTH } }]\n"
                + "webhook-timeout = 2s, webhook-max-attempts = 1, webhook-first-retry-delay = 0s");
    assertThat(settings.endpoints())
        .containsExactly(
            new Endpoint(
                URI.create("https://hooks.slack.com/services/T000/B000/XXX"),
                Format.SLACK,
                Map.of()),
            new Endpoint(
                URI.create("http://siem.bank.example:8080/portcullis"),
                Format.GENERIC,
                Map.of("X-Tenant", "bank", "X-Priority", "2", "Authorization", "Bearer s3cret")));
    assertThat(settings.timeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(settings.maxAttempts()).isEqualTo(1);
    assertThat(settings.firstRetryDelay()).isZero();
    assertThat(settings.endpoints().get(1).displayName()).isEqualTo("siem.bank.example:8080");
  }

  @Test
  void printedSettingsShowNeitherTheUrlPathNorHeaderValues() {
    WebhookSettings settings =
        load(
            "webhooks = [{ url = \"https://hooks.slack.com/services/T000/B000/XXX\","
                + " headers-env { Authorization = SIEM_AUTH } }]");
    assertThat(settings.toString())
        .contains("hooks.slack.com", "Authorization")
        .doesNotContain("XXX", "s3cret");
  }

  @Test
  void aUrlMustBeHttpOrHttpsWithAHost() {
    refused("webhooks = [{ url = \"ftp://files.bank.example/secret-token\" }]")
        .hasMessageContaining("portcullis.approvals.webhooks[0].url")
        .hasMessageContaining("http:// or https://")
        .hasMessageNotContaining("secret-token");
    refused("webhooks = [{ url = \"https:///no-host\" }]")
        .hasMessageContaining("portcullis.approvals.webhooks[0].url")
        .hasMessageContaining("no host");
    refused("webhooks = [{ url = \"https://hooks.slack.com/a b\" }]")
        .hasMessageContaining("not a URL");
    refused("webhooks = [{ format = slack }]")
        .hasMessageContaining("portcullis.approvals.webhooks[0].url")
        .hasMessageContaining("missing");
  }

  @Test
  void anUnknownFormatIsRefused() {
    refused(
            "webhooks = [{ url = \"https://a.example\" }, { url = \"https://b.example\", format = teams }]")
        .hasMessageContaining("portcullis.approvals.webhooks[1].format")
        .hasMessageContaining("unknown format 'teams'; expected generic or slack");
  }

  @Test
  void limitsMustBeSensible() {
    refused("webhook-max-attempts = 0")
        .hasMessageContaining("portcullis.approvals.webhook-max-attempts")
        .hasMessageContaining("at least 1");
    refused("webhook-timeout = 0s")
        .hasMessageContaining("portcullis.approvals.webhook-timeout")
        .hasMessageContaining("positive");
    refused("webhook-first-retry-delay = -1s")
        .hasMessageContaining("portcullis.approvals.webhook-first-retry-delay")
        .hasMessageContaining("negative");
  }

  @Test
  void aHeaderFromAnUnsetEnvironmentVariableIsRefused() {
    refused("webhooks = [{ url = \"https://a.example\", headers-env { Authorization = NOT_SET } }]")
        .hasMessageContaining("portcullis.approvals.webhooks[0].headers-env.Authorization")
        .hasMessageContaining("environment variable NOT_SET is not set or empty");
  }

  @Test
  void headersTheGatewayCannotOrWillNotSendAreRefused() {
    refused("webhooks = [{ url = \"https://a.example\", headers { Host = evil.example } }]")
        .hasMessageContaining("portcullis.approvals.webhooks[0].headers.Host")
        .hasMessageContaining("not a header the gateway can send");
    refused("webhooks = [{ url = \"https://a.example\", headers { Content-Type = text/plain } }]")
        .hasMessageContaining("application/json");
    refused(
            "webhooks = [{ url = \"https://a.example\", headers { authorization = x },"
                + " headers-env { Authorization = SIEM_AUTH } }]")
        .hasMessageContaining("given twice");
    refused("webhooks = [{ url = \"https://a.example\", headers { X-List = [a, b] } }]")
        .hasMessageContaining("headers.X-List")
        .hasMessageContaining("must be a string");
  }
}
