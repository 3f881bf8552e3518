package io.portcullis.persistence.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

/** The nodes of a cluster that start at once all create the journal's tables, without conflict. */
class JournalSchemaTest {

  @Test
  void nodesStartingTogetherCreateTheSchemaOnceWithoutError() throws Exception {
    JournalDatabase first = TestDatabases.postgres("portcullis_schema_race");
    try (Connection c = DriverManager.getConnection(first.url(), first.user(), first.password())) {
      c.createStatement().execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    }
    int nodes = 4;
    CyclicBarrier together = new CyclicBarrier(nodes);
    List<CompletableFuture<Void>> starts = new ArrayList<>();
    for (int node = 0; node < nodes; node++) {
      starts.add(
          CompletableFuture.runAsync(
              () -> {
                try {
                  together.await();
                  new JournalDatabase(first.url(), first.user(), first.password(), true)
                      .ensureSchema();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new)).join();
    try (Connection c = DriverManager.getConnection(first.url(), first.user(), first.password());
        ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM event_journal")) {
      rs.next();
      assertThat(rs.getInt(1)).isZero();
    }
  }
}
