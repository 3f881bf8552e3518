package io.portcullis.node.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.RawClient;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.FrontendMessage;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Sessions end cleanly whichever side goes away, and never take another session with them. */
class SessionLifecycleTest {

  private static GatewayNode gateway;

  @BeforeAll
  static void start() throws Exception {
    gateway = TestGateway.start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  @Test
  void clientVanishingMidResultEndsTheUpstreamBackend() throws Exception {
    try (Connection bystander = TestGateway.connect(gateway)) {
      try (RawClient client = new RawClient(gateway.port())) {
        client
            .send(new FrontendMessage.Startup(3 << 16, Map.of("user", "alice", "database", "main")))
            .readUntil(BackendMessage.ReadyForQuery.class::isInstance);
        client.send(
            new FrontendMessage.Query(
                "SELECT g, repeat('y', 100) FROM generate_series(1, 2000000) g /* vanishing */"));
        AtomicLong rows = new AtomicLong();
        client.readUntil(m -> rows.incrementAndGet() >= 1000, m -> {});
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> backends("/* vanishing */") == 0);
      assertThat(selectOne(bystander)).isEqualTo(1);
    }
  }

  @Test
  void upstreamDyingMidQueryIsReportedToTheClient() throws Exception {
    try (Connection bystander = TestGateway.connect(gateway);
        Connection victim = TestGateway.connect(gateway, "alice", "ApplicationName=victim")) {
      Statement statement = victim.createStatement();
      CompletableFuture<Void> kill =
          CompletableFuture.runAsync(
              () -> {
                await().atMost(Duration.ofSeconds(10)).until(() -> backends("/* victim */") == 1);
                try (Connection direct = TestPostgres.direct()) {
                  direct
                      .createStatement()
                      .execute(
                          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                              + " WHERE query LIKE '%/* victim */' AND pid <> pg_backend_pid()");
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      assertThatThrownBy(() -> statement.execute("SELECT pg_sleep(30) /* victim */"))
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isIn("57P01", "08006"));
      kill.get();
      assertThat(selectOne(bystander)).isEqualTo(1);
    }
  }

  private static int selectOne(Connection c) throws SQLException {
    try (ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static int backends(String marker) throws SQLException {
    try (Connection c = TestPostgres.direct();
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%"
                        + marker
                        + "' AND pid <> pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
