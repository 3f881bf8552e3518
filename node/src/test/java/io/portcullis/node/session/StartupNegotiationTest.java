package io.portcullis.node.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.node.config.GatewaySettings;
import io.portcullis.node.config.GatewaySettings.StartupPolicy;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.protocol.BackendMessage.NegotiateProtocolVersion;
import io.portcullis.protocol.FrontendMessage.Startup;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StartupNegotiationTest {

  private final StartupNegotiation negotiation =
      new StartupNegotiation(
          new StartupPolicy(Set.of("application_name", "DateStyle"), Set.of("statement_timeout")),
          GatewaySettings.from(TestGateway.config("")).targets());

  private StartupNegotiation.Outcome negotiate(int version, String... keyValues) {
    Map<String, String> params = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      params.put(keyValues[i], keyValues[i + 1]);
    }
    return negotiation.negotiate(new Startup(version, params));
  }

  @Test
  void forwardsAllowedParametersAndForcesUtf8() {
    var accepted =
        (StartupNegotiation.Accepted)
            negotiate(
                3 << 16,
                "user",
                "alice",
                "database",
                "main",
                "datestyle",
                "ISO",
                "application_name",
                "psql");
    assertThat(accepted.user()).isEqualTo("alice");
    assertThat(accepted.target().name()).isEqualTo("main");
    assertThat(accepted.upstreamParameters())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("datestyle", "ISO", "application_name", "psql", "client_encoding", "UTF8"));
    assertThat(accepted.negotiation()).isEmpty();
  }

  @Test
  void databaseDefaultsToTheUserNameAsInPostgreSQL() {
    assertThat(negotiate(3 << 16, "user", "main")).isInstanceOf(StartupNegotiation.Accepted.class);
    assertThat(negotiate(3 << 16, "user", "alice"))
        .isEqualTo(
            new StartupNegotiation.Refused(
                "3D000", "database \"alice\" is not a target of this gateway"));
  }

  @Test
  void missingUserIsRefused() {
    assertThat(negotiate(3 << 16, "database", "main"))
        .isEqualTo(
            new StartupNegotiation.Refused(
                "28000", "no PostgreSQL user name specified in startup packet"));
  }

  @Test
  void replicationFalseIsHarmlessButAnyOtherValueIsRefused() {
    assertThat(negotiate(3 << 16, "user", "a", "database", "main", "replication", "off"))
        .isInstanceOf(StartupNegotiation.Accepted.class);
    for (String value : List.of("true", "database", "on", "1")) {
      assertThat(negotiate(3 << 16, "user", "a", "database", "main", "replication", value))
          .isInstanceOf(StartupNegotiation.Refused.class);
    }
  }

  @Test
  void optionsAreParsedLikePostgreSQL() {
    assertThat(StartupNegotiation.splitOptions("  -c a=b   --c-d=e\\ f "))
        .containsExactly("-c", "a=b", "--c-d=e f");
    var accepted =
        (StartupNegotiation.Accepted)
            negotiate(
                3 << 16, "user", "a", "database", "main", "options", "-cstatement_timeout=5s");
    assertThat(accepted.upstreamParameters()).containsEntry("statement_timeout", "5s");
  }

  @Test
  void optionsOtherThanSettingsAreRefused() {
    for (String options :
        List.of("-B 100", "-c search_path=x", "--search-path=x", "-c statement_timeout", "-e")) {
      assertThat(negotiate(3 << 16, "user", "a", "database", "main", "options", options))
          .as(options)
          .isInstanceOf(StartupNegotiation.Refused.class);
    }
  }

  @Test
  void newerMinorVersionAndProtocolExtensionsAreNegotiatedDown() {
    var accepted =
        (StartupNegotiation.Accepted)
            negotiate((3 << 16) | 2, "user", "a", "database", "main", "_pq_.x", "1");
    assertThat(accepted.negotiation()).contains(new NegotiateProtocolVersion(0, List.of("_pq_.x")));
    assertThat(accepted.upstreamParameters()).doesNotContainKey("_pq_.x");
  }
}
