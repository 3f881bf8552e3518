package io.portcullis.node.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.util.ResourceLeakDetector;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.RawClient;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.FrontendMessage;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client that stops reading during a 1M-row result must make the gateway stop reading from the
 * upstream: PostgreSQL's backend then blocks writing (wait_event ClientWrite) and the gateway's
 * heap stays flat instead of buffering the result.
 */
class BackpressureTest {

  private static final String QUERY =
      "SELECT g, repeat('x', 200) AS filler FROM generate_series(1, 1000000) g /* backpressure */";
  private static GatewayNode gateway;

  @BeforeAll
  static void start() throws Exception {
    // Paranoid leak detection records a stack trace per buffer: unworkable for a million rows.
    // Sampling still reports leaks; every other test runs paranoid.
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
    gateway = TestGateway.start();
  }

  @AfterAll
  static void stop() {
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    gateway.close();
  }

  @Test
  void pausedClientStopsTheUpstreamAndHeapStaysFlat() throws Exception {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    try (RawClient client = new RawClient(gateway.port())) {
      client
          .send(new FrontendMessage.Startup(3 << 16, Map.of("user", "alice", "database", "main")))
          .readUntil(BackendMessage.ReadyForQuery.class::isInstance);
      System.gc();
      long baseline = memory.getHeapMemoryUsage().getUsed();

      client.send(new FrontendMessage.Query(QUERY));
      AtomicLong rows = new AtomicLong();
      client.readUntil(m -> rows.get() >= 10_000, m -> count(m, rows));

      // The client now reads nothing. The upstream backend must end up blocked on its socket.
      await().atMost(Duration.ofSeconds(20)).until(() -> "ClientWrite".equals(upstreamWaitEvent()));
      System.gc();
      long paused = memory.getHeapMemoryUsage().getUsed();
      // The whole result is about 210 MB; buffering it would show here.
      assertThat(paused - baseline).isLessThan(48L * 1024 * 1024);

      client.readUntil(BackendMessage.ReadyForQuery.class::isInstance, m -> count(m, rows));
      assertThat(rows.get()).isEqualTo(1_000_000);
    }
  }

  private static void count(BackendMessage message, AtomicLong rows) {
    if (message instanceof BackendMessage.DataRow) {
      rows.incrementAndGet();
    }
  }

  private static String upstreamWaitEvent() throws Exception {
    try (Connection c = TestPostgres.direct();
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT wait_event FROM pg_stat_activity"
                        + " WHERE query LIKE '%/* backpressure */' AND pid <> pg_backend_pid()")) {
      return rs.next() ? rs.getString(1) : null;
    }
  }
}
