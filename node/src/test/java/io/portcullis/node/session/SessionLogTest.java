package io.portcullis.node.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.portcullis.node.testing.GatewayProcess;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node started as an operator starts it, with {@code PORTCULLIS_LOG_FORMAT=json}, writes one JSON
 * object per line, and every line a session writes carries that session's id: the session actor's
 * own lines and the audit lines its policy writes on the shared event-loop thread alike.
 */
class SessionLogTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void everyLineOfASessionCarriesItsIdInJsonLogs() throws Exception {
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS session_log_orders");
      s.execute("CREATE TABLE session_log_orders (id int)");
    }
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(
        policy,
        """
        default: allow
        rules:
          - id: no-deletes
            when: { kinds: [delete] }
            decision: deny
        """);
    try (GatewayProcess node =
        GatewayProcess.start(
            dir,
            "json-logs",
            TestGateway.hocon("portcullis.policy.file = \"" + policy + "\""),
            GatewayProcess.Ports.free(),
            Map.of("PORTCULLIS_LOG_FORMAT", "json"))) {
      for (String user : List.of("alice", "bob")) {
        try (Connection c = DriverManager.getConnection(node.jdbcUrl(), user, "")) {
          c.createStatement().executeQuery("SELECT count(*) FROM session_log_orders").close();
          assertThatThrownBy(
                  () -> c.createStatement().executeUpdate("DELETE FROM session_log_orders"))
              .isInstanceOf(SQLException.class);
        }
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> lines(node).stream().filter(this::closesSession).count() == 2);
      List<JsonNode> lines = lines(node);

      assertThat(lines).allSatisfy(line -> assertThat(line.has("level")).isTrue());
      Map<String, List<JsonNode>> bySession =
          lines.stream()
              .filter(line -> line.path("mdc").has("sessionId"))
              .collect(Collectors.groupingBy(line -> line.path("mdc").get("sessionId").asText()));
      assertThat(bySession).hasSize(2);
      for (String user : List.of("alice", "bob")) {
        List<JsonNode> session =
            bySession.values().stream()
                .filter(l -> l.stream().anyMatch(line -> message(line).contains("for " + user)))
                .findFirst()
                .orElseThrow();
        Set<String> loggers =
            session.stream()
                .map(line -> line.get("loggerName").asText())
                .collect(Collectors.toSet());
        assertThat(loggers)
            .as("the login, the policy's refusal (on the event loop) and the actor's own lines")
            .contains("io.portcullis.audit.login", "io.portcullis.audit.decision");
        assertThat(session)
            .anySatisfy(line -> assertThat(message(line)).matches("session \\d+ opened for .*"))
            .anySatisfy(line -> assertThat(message(line)).matches("session \\d+ closed"));
        assertThat(session)
            .filteredOn(line -> line.get("loggerName").asText().startsWith("io.portcullis.audit"))
            .allSatisfy(line -> assertThat(message(line)).contains("\"" + user + "\""));
      }
      List<JsonNode> unattributed = new ArrayList<>();
      for (JsonNode line : lines) {
        if (!line.path("mdc").has("sessionId") && message(line).matches("session \\d+ .*")) {
          unattributed.add(line);
        }
      }
      assertThat(unattributed).as("session lines without a session id").isEmpty();
    }
  }

  private boolean closesSession(JsonNode line) {
    return message(line).matches("session \\d+ closed");
  }

  private static String message(JsonNode line) {
    return line.path("formattedMessage").asText();
  }

  /** The log's JSON lines; the JVM may write a line of its own that is not JSON. */
  private static List<JsonNode> lines(GatewayProcess node) throws Exception {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : node.log().split("\n")) {
      if (line.startsWith("{")) {
        lines.add(JSON.readTree(line));
      }
    }
    return lines;
  }
}
