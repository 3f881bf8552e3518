package io.portcullis.node.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.portcullis.node.testing.GatewayProcess;
import io.portcullis.node.testing.JournalContents;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.persistence.audit.SessionEvent;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM drains a node: it turns not ready and stops accepting at once, lets open work finish
 * until the drain deadline, then ends what is left with 57P01 and exits.
 */
class DrainTest {

  private static final Duration DEADLINE = Duration.ofSeconds(8);

  @TempDir Path dir;

  @Test
  void sigtermLetsAnOpenTransactionCommitAndEndsIdleSessionsAtTheDeadline() throws Exception {
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS drain_log");
      s.execute("CREATE TABLE drain_log (n int)");
    }
    try (GatewayProcess node =
        GatewayProcess.start(
            dir,
            "draining",
            TestGateway.hocon(
                "portcullis.shutdown.drain-deadline = %ds\nportcullis.journal.url = \"%s\""
                    .formatted(DEADLINE.toSeconds(), journalUrl())))) {
      assertThat(node.management("/ready")).isEqualTo(200);
      assertThat(node.management("/alive")).isEqualTo(200);
      Connection inTransaction = DriverManager.getConnection(node.jdbcUrl(), "alice", "");
      Connection idle = DriverManager.getConnection(node.jdbcUrl(), "bob", "");
      inTransaction.setAutoCommit(false);
      inTransaction.createStatement().execute("INSERT INTO drain_log VALUES (1)");

      long terminated = System.nanoTime();
      node.terminate();
      await().atMost(Duration.ofSeconds(3)).until(() -> node.management("/ready") != 200);
      await()
          .atMost(Duration.ofSeconds(3))
          .untilAsserted(
              () ->
                  assertThatThrownBy(
                          () -> DriverManager.getConnection(node.jdbcUrl(), "carol", "").close())
                      .isInstanceOf(SQLException.class));

      inTransaction.createStatement().execute("INSERT INTO drain_log VALUES (2)");
      inTransaction.commit();
      assertThat(rows()).isEqualTo(2);

      assertThatThrownBy(
              () ->
                  idle.createStatement()
                      .execute("SELECT pg_sleep(" + 2 * DEADLINE.toSeconds() + ")"))
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57P01"))
          .hasMessageContaining("shutting down");
      assertThat(Duration.ofNanos(System.nanoTime() - terminated))
          .isBetween(DEADLINE.minusSeconds(1), DEADLINE.plusSeconds(5));
      assertThat(node.awaitExit(Duration.ofSeconds(20))).as(node.log()).isTrue();
      inTransaction.close();
      idle.close();
      assertThat(node.log()).doesNotContain("Failed to persist");
    }
    try (Connection journal = DriverManager.getConnection(journalUrl(), "portcullis", "")) {
      List<SessionEvent> last =
          JournalContents.sessions(journal).stream()
              .map(events -> events.get(events.size() - 1).event())
              .toList();
      assertThat(last)
          .as("both sessions' journals end with their close, written while the node drained")
          .hasSize(2)
          .allMatch(SessionEvent.SessionClosed.class::isInstance);
    }
  }

  /** The single-node default: an embedded H2 file, which must stay open while the node drains. */
  private String journalUrl() {
    return "jdbc:h2:file:" + dir.resolve("journal").toAbsolutePath();
  }

  private static int rows() throws SQLException {
    try (Connection c = TestPostgres.direct();
        ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM drain_log")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
