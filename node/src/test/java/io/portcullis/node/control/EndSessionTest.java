package io.portcullis.node.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.AdminClient;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.policy.identity.DevIssuer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An operator ends a client session by its id through the admin API; nobody else may. */
class EndSessionTest {

  @TempDir static Path dir;

  private static GatewayNode gateway;
  private static DevIssuer issuer;
  private static AdminClient admin;

  @BeforeAll
  static void start() throws Exception {
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, "default: allow\nrules: []\n");
    Path key = dir.resolve("dev.jwk");
    gateway = TestGateway.start(TestGateway.policyWithDevTokens(policy, key));
    issuer = DevIssuer.load(key);
    admin = new AdminClient(gateway);
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  private static String token(String user, Set<String> groups) {
    return issuer.mint(user, groups, false, Duration.ofMinutes(5), "portcullis");
  }

  private static Connection connect(String user) throws SQLException {
    return DriverManager.getConnection(
        TestGateway.jdbcUrl(gateway, ""), user, token(user, Set.of("agents")));
  }

  /** The id of the one session of {@code user}, once the audit index has it. */
  private static String sessionOf(String user) {
    String auditor = token("audrey", Set.of("auditor"));
    return await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () -> admin.get("/api/v1/audit/sessions?user=" + user, auditor).body().get("sessions"),
            sessions -> sessions.size() == 1)
        .get(0)
        .get("session")
        .asText();
  }

  @Test
  void anOperatorEndsASessionByIdAndTheJournalSaysWhoAndWhy() throws Exception {
    try (Connection victim = connect("mallory")) {
      victim.createStatement().execute("SELECT 1");
      String session = sessionOf("mallory");

      AdminClient.Reply ended =
          admin.post(
              "/api/v1/sessions/" + session + "/end",
              token("olga", Set.of("gateway-operator")),
              "{\"reason\": \"suspicious queries\"}");

      assertThat(ended.status()).isEqualTo(200);
      assertThatThrownBy(() -> victim.createStatement().execute("SELECT 1"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("ended by olga")
          .hasMessageContaining("suspicious queries");
      String auditor = token("audrey", Set.of("auditor"));
      await()
          .atMost(Duration.ofSeconds(15))
          .untilAsserted(
              () -> {
                JsonNode events =
                    admin.get("/api/v1/audit/sessions/" + session, auditor).body().get("events");
                JsonNode last = events.get(events.size() - 1);
                assertThat(last.path("type").asText()).isEqualTo("SessionClosed");
                assertThat(last.path("reason").asText())
                    .contains("ended by olga")
                    .contains("suspicious queries");
              });
    }
  }

  @Test
  void onlyOperatorsMayEndSessionsWithAJsonBodyAndAnUnknownIdIsNotFound() throws Exception {
    try (Connection c = connect("trent")) {
      String session = sessionOf("trent");
      assertThat(
              admin
                  .post(
                      "/api/v1/sessions/" + session + "/end",
                      token("trent", Set.of("agents")),
                      "{}")
                  .status())
          .isEqualTo(403);
      assertThat(c.createStatement().execute("SELECT 1")).isTrue();
    }
    try (Connection c = connect("trudy")) {
      String session = sessionOf("trudy");
      assertThat(
              admin
                  .post(
                      "/api/v1/sessions/" + session + "/end",
                      token("olga", Set.of("gateway-operator")),
                      "{\"reason\": ")
                  .status())
          .as("a body that is not JSON")
          .isEqualTo(400);
      assertThat(c.createStatement().execute("SELECT 1")).isTrue();
    }
    assertThat(
            admin
                .post(
                    "/api/v1/sessions/no-such-session/end",
                    token("olga", Set.of("gateway-operator")),
                    "{}")
                .status())
        .isEqualTo(404);
  }
}
