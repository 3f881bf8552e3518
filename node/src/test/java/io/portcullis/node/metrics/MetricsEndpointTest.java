package io.portcullis.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.MetricsScrape;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running gateway's {@code GET /metrics} moves by exactly what a client did through pgjdbc: an
 * allowed statement, a denied one, a masked result and a failing statement.
 */
class MetricsEndpointTest {

  private static final String POLICY =
      """
      default: allow
      rules:
        - id: no-deletes
          when: { kinds: [delete] }
          decision: deny
          reason: nothing is deleted here
      masking:
        columns:
          - {id: ssn, columns: [metrics_bank.customers.ssn], strategy: redact}
      """;

  @TempDir static Path dir;
  private static GatewayNode gateway;

  @BeforeAll
  static void start() throws Exception {
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS metrics_bank CASCADE");
      s.execute("CREATE SCHEMA metrics_bank");
      s.execute("CREATE TABLE metrics_bank.customers (id int PRIMARY KEY, name text, ssn text)");
      s.execute(
          "INSERT INTO metrics_bank.customers VALUES"
              + " (1, 'Ada', '123-45-6789'), (2, 'Bo', '234-56-7891'), (3, 'Cy', NULL)");
    }
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, POLICY);
    gateway = TestGateway.start("portcullis.policy.file = \"" + policy + "\"");
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  @Test
  void countersMoveByWhatTheClientDid() throws Exception {
    MetricsScrape before;
    MetricsScrape after;
    try (Connection c = TestGateway.connect(gateway);
        Statement s = c.createStatement()) {
      before = MetricsScrape.of(gateway.managementPort());
      assertThat(before.value("portcullis_sessions_open")).isEqualTo(1);

      assertThat(column(s.executeQuery("SELECT name FROM metrics_bank.customers ORDER BY id")))
          .containsExactly("Ada", "Bo", "Cy");
      assertThatThrownBy(() -> s.executeUpdate("DELETE FROM metrics_bank.customers"))
          .isInstanceOf(SQLException.class)
          .extracting(e -> ((SQLException) e).getSQLState())
          .isEqualTo("42501");
      assertThat(column(s.executeQuery("SELECT ssn FROM metrics_bank.customers ORDER BY id")))
          .as("two values masked; a NULL stays NULL")
          .containsExactly("****", "****", null);
      assertThatThrownBy(() -> s.executeQuery("SELECT 1 / 0"))
          .isInstanceOf(SQLException.class)
          .extracting(e -> ((SQLException) e).getSQLState())
          .isEqualTo("22012");

      after = MetricsScrape.of(gateway.managementPort());
    }

    assertThat(after.since(before, "portcullis_statements_total", "decision", "allow"))
        .isEqualTo(3);
    assertThat(after.since(before, "portcullis_statements_total", "decision", "deny")).isEqualTo(1);
    assertThat(after.since(before, "portcullis_statements_total", "decision", "review")).isZero();
    assertThat(after.since(before, "portcullis_statements_total", "decision", "error")).isZero();
    assertThat(after.since(before, "portcullis_masked_values_total")).isEqualTo(2);
    assertThat(after.since(before, "portcullis_errors_total", "sqlstate", "42501")).isEqualTo(1);
    assertThat(after.since(before, "portcullis_errors_total", "sqlstate", "22012")).isEqualTo(1);
    assertThat(after.since(before, "portcullis_journal_write_seconds_count"))
        .as("one durable append per statement")
        .isEqualTo(4);
    assertThat(after.since(before, "portcullis_upstream_latency_seconds_count"))
        .as("each statement's first response; the denied one's replacement went upstream too")
        .isEqualTo(4);
    assertThat(after.value("portcullis_upstream_latency_seconds_sum"))
        .isGreaterThan(before.value("portcullis_upstream_latency_seconds_sum"));
    assertThat(after.since(before, "portcullis_client_bytes_received_total")).isPositive();
    assertThat(after.since(before, "portcullis_client_bytes_sent_total")).isPositive();
    assertThat(after.since(before, "portcullis_approval_wait_seconds_count")).isZero();
    assertThat(after.value("portcullis_cluster_members", "status", "up")).isEqualTo(1);
    assertThat(
            after.since(
                before,
                "portcullis_cluster_messages_total",
                "kind",
                "gateway",
                "direction",
                "sent"))
        .isZero();
    assertThat(after.value("portcullis_cluster_messages_per_statement")).isZero();

    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                MetricsScrape.of(gateway.managementPort()).value("portcullis_sessions_open") == 0);
  }

  @Test
  void errorsSentBeforeASessionStartsAreCountedToo() throws Exception {
    MetricsScrape before = MetricsScrape.of(gateway.managementPort());
    assertThatThrownBy(
            () ->
                DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + gateway.port() + "/nowhere", "alice", ""))
        .isInstanceOf(SQLException.class)
        .extracting(e -> ((SQLException) e).getSQLState())
        .isEqualTo("3D000");
    MetricsScrape after = MetricsScrape.of(gateway.managementPort());
    assertThat(after.since(before, "portcullis_errors_total", "sqlstate", "3D000")).isEqualTo(1);
    assertThat(after.since(before, "portcullis_client_bytes_received_total")).isPositive();
    assertThat(after.since(before, "portcullis_client_bytes_sent_total")).isPositive();
  }

  private static List<String> column(ResultSet rows) throws SQLException {
    List<String> values = new ArrayList<>();
    try (rows) {
      while (rows.next()) {
        values.add(rows.getString(1));
      }
    }
    return values;
  }
}
