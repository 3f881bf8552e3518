package io.portcullis.node.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.portcullis.node.config.TargetSettings;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.policy.catalog.CatalogDependencies;
import io.portcullis.policy.catalog.CatalogDependencies.References;
import io.portcullis.policy.catalog.Relations;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.StatementAnalysis;
import java.io.IOException;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class TargetCatalogsTest {

  private static final String SCHEMA =
      "catalog_refresh_" + UUID.randomUUID().toString().substring(0, 8);
  private static final Duration HOURLY = Duration.ofHours(1);
  private static final SqlAnalyzer ANALYZER = new SqlAnalyzer();

  private final ScheduledExecutorService blocking = Executors.newScheduledThreadPool(2);

  @BeforeAll
  static void createSchema() throws SQLException {
    execute("CREATE SCHEMA " + SCHEMA + "; CREATE TABLE " + SCHEMA + ".ledger (amount numeric)");
  }

  @AfterAll
  static void dropSchema() throws SQLException {
    execute("DROP SCHEMA " + SCHEMA + " CASCADE");
  }

  @AfterEach
  void stopExecutor() {
    blocking.shutdownNow();
  }

  private static void execute(String sql) throws SQLException {
    try (Connection connection = TestPostgres.direct();
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private static Set<String> readBy(CatalogDependencies catalog, String sql) {
    StatementAnalysis statement = ANALYZER.analyze(sql, true).get(0);
    return catalog.expand(statement).tablesRead();
  }

  @Test
  void aViewCreatedThroughTheGatewayIsKnownSoonAfter() throws SQLException {
    TargetSettings main = CatalogReaderTest.target("main", TestPostgres.server().port());
    try (TargetCatalogs catalogs =
        new TargetCatalogs(Map.of("main", main), CatalogReader::load, HOURLY, blocking)) {
      assertThat(catalogs.current("main")).isEmpty();
      catalogs.start(Duration.ofSeconds(10));
      assertThat(catalogs.current("main")).as("read before start returns").isPresent();

      execute("CREATE VIEW " + SCHEMA + ".totals AS SELECT sum(amount) FROM " + SCHEMA + ".ledger");
      catalogs.changed("main");

      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(
              () ->
                  assertThat(
                          readBy(
                              catalogs.current("main").orElseThrow().dependencies(),
                              "SELECT * FROM " + SCHEMA + ".totals"))
                      .contains(SCHEMA + ".ledger"));
    }
  }

  @Test
  void anUnreachableTargetStaysEmptyAndIsReported() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    Logger logger = (Logger) LoggerFactory.getLogger(TargetCatalogs.class);
    logger.addAppender(events);
    try (TargetCatalogs catalogs =
        new TargetCatalogs(
            Map.of("ledger-db", CatalogReaderTest.target("ledger-db", closedPort)),
            CatalogReader::load,
            HOURLY,
            blocking)) {
      catalogs.start(Duration.ofSeconds(5));
      await().atMost(Duration.ofSeconds(10)).until(() -> !events.list.isEmpty());
      ILoggingEvent warning = events.list.get(0);
      assertThat(warning.getLevel()).isEqualTo(Level.WARN);
      assertThat(warning.getFormattedMessage()).contains("ledger-db", "refused");
      assertThat(catalogs.current("ledger-db")).as("unknown, not empty").isEmpty();
    } finally {
      logger.detachAppender(events);
    }
  }

  @Test
  void aFailedReadKeepsThePreviousSnapshot() {
    TargetCatalog first =
        new TargetCatalog(
            CatalogDependencies.of(
                Map.of("s.v", new References(Set.of("s.t"), Set.of(), Set.of())),
                Map.of(),
                Set.of()),
            Relations.empty());
    AtomicInteger reads = new AtomicInteger();
    TargetCatalogs.Loader failingAfterFirst =
        target -> {
          if (reads.incrementAndGet() > 1) {
            throw new SQLException("the database system is shutting down");
          }
          return first;
        };
    try (TargetCatalogs catalogs =
        new TargetCatalogs(
            Map.of("main", CatalogReaderTest.target("main", 1)),
            failingAfterFirst,
            Duration.ofMillis(50),
            blocking)) {
      catalogs.start(Duration.ofSeconds(5));
      await().atMost(Duration.ofSeconds(5)).until(() -> reads.get() >= 3);
      assertThat(catalogs.current("main")).containsSame(first);
    }
  }

  @Test
  void aBurstOfChangesCostsOneRead() throws InterruptedException {
    AtomicInteger reads = new AtomicInteger();
    try (TargetCatalogs catalogs =
        new TargetCatalogs(
            Map.of("main", CatalogReaderTest.target("main", 1)),
            target -> {
              reads.incrementAndGet();
              return TargetCatalog.empty();
            },
            HOURLY,
            blocking)) {
      catalogs.start(Duration.ofSeconds(5));
      await().atMost(Duration.ofSeconds(5)).until(() -> reads.get() == 1);
      for (int i = 0; i < 20; i++) {
        catalogs.changed("main");
      }
      catalogs.changed("unknown-target");
      await().atMost(Duration.ofSeconds(5)).until(() -> reads.get() == 2);
      Thread.sleep(TargetCatalogs.AFTER_CHANGE.toMillis() * 3);
      assertThat(reads.get()).isEqualTo(2);
    }
  }
}
