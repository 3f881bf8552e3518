package io.portcullis.persistence.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

/** The journal's tables as PostgreSQL creates and plans them. */
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

  /**
   * The audit indexer checks each (session, statement, table) row for a duplicate before inserting
   * it. A plan made while the table is empty, and then kept for the connection, must still probe
   * the whole key, not scan every row of one table name.
   */
  @Test
  void theIndexersDuplicateCheckProbesTheWholeKeyOnAFreshJournal() throws Exception {
    JournalDatabase journal = TestDatabases.postgres("portcullis_schema_plan");
    try (Connection c =
            DriverManager.getConnection(journal.url(), journal.user(), journal.password());
        Statement statement = c.createStatement()) {
      statement.execute("SET plan_cache_mode = force_generic_plan");
      statement.execute(
          "PREPARE duplicate(varchar, bigint, varchar) AS SELECT 1 FROM audit_statement_tables"
              + " WHERE session = $1 AND statement = $2 AND table_name = $3");
      // Plans it now, while the table is empty; the plan is kept.
      statement.execute("EXECUTE duplicate('s0', 0, 'public.accounts')");
      statement.execute(
          "INSERT INTO audit_statement_tables SELECT 's' || n, n, 'public.accounts'"
              + " FROM generate_series(1, 1000) n");
      StringBuilder plan = new StringBuilder();
      try (ResultSet rs =
          statement.executeQuery("EXPLAIN EXECUTE duplicate('s1', 1, 'public.accounts')")) {
        while (rs.next()) {
          plan.append(rs.getString(1)).append('\n');
        }
      }
      assertThat(plan.toString())
          .contains("Index Cond")
          .contains("session =")
          .contains("statement =")
          .contains("table_name =")
          .doesNotContain("Filter");
    }
  }
}
