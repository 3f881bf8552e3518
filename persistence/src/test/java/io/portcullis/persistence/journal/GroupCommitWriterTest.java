package io.portcullis.persistence.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer and the queries on their own, against real databases. */
class GroupCommitWriterTest {

  private static final int SERIALIZER = 33;

  @TempDir Path directory;

  static JournalRow row(String persistenceId, long sequenceNr, Set<String> tags) {
    return new JournalRow(
        persistenceId,
        sequenceNr,
        false,
        "writer-1",
        1_700_000_000_000L + sequenceNr,
        "",
        new JournalRow.Payload(
            SERIALIZER,
            "Event",
            (persistenceId + "#" + sequenceNr).getBytes(StandardCharsets.UTF_8)),
        Optional.empty(),
        tags);
  }

  private static List<JournalRow> statement(String persistenceId, long first, boolean tagged) {
    List<JournalRow> rows = new ArrayList<>();
    for (long sequenceNr = first; sequenceNr < first + 3; sequenceNr++) {
      rows.add(
          row(
              persistenceId,
              sequenceNr,
              tagged && sequenceNr == first ? Set.of(persistenceId + ":" + sequenceNr) : Set.of()));
    }
    return rows;
  }

  @Test
  void concurrentWritesShareCommitsAndEachEntityKeepsItsOrder() throws Exception {
    JournalDatabase database = TestDatabases.postgres("portcullis_writer_concurrent");
    int entities = 32;
    int writes = 30;
    ExecutorService clients = Executors.newFixedThreadPool(entities);
    try (GroupCommitWriter writer = new GroupCommitWriter(database, 1000, 10_000)) {
      List<Future<?>> done = new ArrayList<>();
      for (int entity = 0; entity < entities; entity++) {
        String persistenceId = "Session|" + entity;
        done.add(
            clients.submit(
                () -> {
                  for (int write = 0; write < writes; write++) {
                    // Every fifth write carries a tag, as openings and closings do.
                    writer.write(statement(persistenceId, write * 3L + 1, write % 5 == 0)).join();
                  }
                  return null;
                }));
      }
      for (Future<?> each : done) {
        each.get(60, TimeUnit.SECONDS);
      }
    } finally {
      clients.shutdown();
    }
    try (Connection connection = database.connect();
        Statement statement = connection.createStatement()) {
      assertThat(count(statement, "SELECT count(*) FROM event_journal"))
          .isEqualTo(entities * writes * 3L);
      assertThat(
              count(
                  statement,
                  "SELECT count(*) FROM (SELECT persistence_id, sequence_number, row_number() OVER"
                      + " (PARTITION BY persistence_id ORDER BY ordering) AS position"
                      + " FROM event_journal) AS stored WHERE sequence_number <> position"))
          .as("each entity's events are stored in order")
          .isZero();
      assertThat(
              count(
                  statement,
                  "SELECT count(*) FROM event_tag JOIN event_journal ON ordering = event_id"
                      + " WHERE tag = persistence_id || ':' || sequence_number"))
          .as("every tag is on its own event")
          .isEqualTo(count(statement, "SELECT count(*) FROM event_tag"))
          .isEqualTo(entities * writes / 5L);
      long commits = count(statement, "SELECT count(DISTINCT xmin::text) FROM event_journal");
      assertThat(commits)
          .as("commits for %d writes", entities * writes)
          .isLessThan(entities * writes / 2L);
    }
  }

  @Test
  void writesWaitingForAStuckDatabaseAreBoundedAndAllCommitOnceItMoves() throws Exception {
    JournalDatabase database = TestDatabases.postgres("portcullis_writer_bounded");
    try (GroupCommitWriter writer = new GroupCommitWriter(database, 1000, 4);
        Connection lock = database.connect()) {
      List<CompletableFuture<Void>> writes = new ArrayList<>();
      lockJournal(lock);
      writes.add(writer.write(statement("Session|0", 1, false)));
      awaitWriterWaitingForLock(database);
      for (int entity = 1; entity <= 4; entity++) {
        writes.add(writer.write(statement("Session|" + entity, 1, false)));
      }
      CompletableFuture<Void> refused = writer.write(statement("Session|5", 1, false));
      assertThat(refused).isCompletedExceptionally();
      assertThatThrownBy(refused::join)
          .hasCauseInstanceOf(GroupCommitWriter.OverloadedException.class);
      assertThat(writes).noneMatch(CompletableFuture::isDone);

      lock.rollback();
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
      assertThat(count(lock.createStatement(), "SELECT count(*) FROM event_journal")).isEqualTo(15);
    }
  }

  @Test
  void anEventWrittenTwiceFailsOnlyItsOwnWrite() throws Exception {
    JournalDatabase database = TestDatabases.postgres("portcullis_writer_duplicate");
    try (GroupCommitWriter writer = new GroupCommitWriter(database, 1000, 100);
        Connection lock = database.connect()) {
      lockJournal(lock);
      CompletableFuture<Void> first = writer.write(statement("Session|a", 1, false));
      awaitWriterWaitingForLock(database);
      // These three wait behind the lock and go into one batch.
      CompletableFuture<Void> other = writer.write(statement("Session|b", 1, true));
      CompletableFuture<Void> duplicate = writer.write(statement("Session|a", 1, false));
      CompletableFuture<Void> another = writer.write(statement("Session|c", 1, false));
      lock.rollback();

      first.get(10, TimeUnit.SECONDS);
      other.get(10, TimeUnit.SECONDS);
      another.get(10, TimeUnit.SECONDS);
      assertThatThrownBy(() -> duplicate.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("23505"));
      assertThat(count(lock.createStatement(), "SELECT count(*) FROM event_journal")).isEqualTo(9);
      assertThat(count(lock.createStatement(), "SELECT count(*) FROM event_tag")).isEqualTo(1);
    }
  }

  @Test
  void aLostConnectionFailsItsWriteAndTheNextOneReconnects() throws Exception {
    JournalDatabase database = TestDatabases.postgres("portcullis_writer_reconnect");
    try (GroupCommitWriter writer = new GroupCommitWriter(database, 1000, 100);
        Connection other = database.connect()) {
      writer.write(statement("Session|a", 1, false)).get(10, TimeUnit.SECONDS);
      other
          .createStatement()
          .execute(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                  + " WHERE datname = current_database() AND pid <> pg_backend_pid()");

      assertThatThrownBy(() -> writer.write(statement("Session|a", 4, false)).join())
          .isInstanceOf(CompletionException.class)
          .hasCauseInstanceOf(SQLException.class);
      writer.write(statement("Session|a", 4, false)).get(10, TimeUnit.SECONDS);
      assertThat(count(other.createStatement(), "SELECT count(*) FROM event_journal")).isEqualTo(6);
    }
  }

  /**
   * A journal whose network stops answering, with no reset or close: the write in flight fails
   * after the answer timeout instead of holding the writer for as long as the kernel keeps the
   * socket, and the next write goes through a new connection.
   */
  @Test
  void aJournalThatStopsAnsweringFailsTheWriteInSecondsAndTheNextOneReconnects() throws Exception {
    JournalDatabase direct = TestDatabases.postgres("portcullis_writer_stalled");
    URI location = URI.create(direct.url().substring("jdbc:".length()));
    try (StallingRelay relay = new StallingRelay(location.getHost(), location.getPort())) {
      JournalDatabase relayed =
          new JournalDatabase(
              "jdbc:postgresql://127.0.0.1:" + relay.port() + location.getPath(),
              direct.user(),
              direct.password(),
              false);
      try (GroupCommitWriter writer = new GroupCommitWriter(relayed, 1000, 100);
          Connection check = direct.connect()) {
        writer.write(statement("Session|a", 1, false)).get(10, TimeUnit.SECONDS);
        relay.stall();

        long started = System.nanoTime();
        assertThatThrownBy(
                () -> writer.write(statement("Session|a", 4, false)).get(30, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(SQLException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - started))
            .isGreaterThanOrEqualTo(JournalDatabase.ANSWER_TIMEOUT)
            .isLessThan(JournalDatabase.ANSWER_TIMEOUT.plusSeconds(10));
        writer.write(statement("Session|b", 1, false)).get(10, TimeUnit.SECONDS);
        assertThat(
                count(
                    check.createStatement(),
                    "SELECT count(*) FROM event_journal WHERE persistence_id = 'Session|b'"))
            .isEqualTo(3);
      }
    }
  }

  @Test
  void postgresReadsBackWhatWasWritten() throws Exception {
    readsBackWhatWasWritten(TestDatabases.postgres("portcullis_writer_read"));
  }

  @Test
  void h2ReadsBackWhatWasWritten() throws Exception {
    readsBackWhatWasWritten(TestDatabases.h2(directory));
  }

  private static void readsBackWhatWasWritten(JournalDatabase database) throws Exception {
    JournalRow tagged = row("Session|a", 1, Set.of("session", "other"));
    JournalRow withMetadata =
        new JournalRow(
            "Session|a",
            2,
            false,
            "writer-2",
            1_700_000_000_002L,
            "adapted",
            new JournalRow.Payload(SERIALIZER, "", new byte[] {0, 1, 2}),
            Optional.of(new JournalRow.Payload(7, "Meta", new byte[] {9})),
            Set.of());
    JournalRow last = row("Session|a", 3, Set.of());
    try (GroupCommitWriter writer = new GroupCommitWriter(database, 1000, 100);
        JournalQueries queries = new JournalQueries(database)) {
      writer.write(List.of(tagged, withMetadata)).get(10, TimeUnit.SECONDS);
      writer.write(List.of(last, row("Session|b", 1, Set.of("session")))).get(10, TimeUnit.SECONDS);

      assertThat(queries.highestSequenceNr("Session|a").get()).isEqualTo(3);
      assertThat(queries.highestSequenceNr("Session|none").get()).isZero();
      assertSameRows(replay(queries, "Session|a", 1, 3, 100), List.of(tagged, withMetadata, last));
      assertSameRows(replay(queries, "Session|a", 2, 3, 100), List.of(withMetadata, last));
      assertSameRows(replay(queries, "Session|a", 1, 2, 100), List.of(tagged, withMetadata));
      assertSameRows(replay(queries, "Session|a", 1, 3, 1), List.of(tagged));
      try (Connection connection = database.connect();
          ResultSet tags =
              connection
                  .createStatement()
                  .executeQuery(
                      "SELECT \"persistence_id\", \"sequence_number\", \"tag\" FROM \"event_tag\""
                          + " JOIN \"event_journal\" ON \"ordering\" = \"event_id\""
                          + " ORDER BY \"persistence_id\", \"tag\"")) {
        List<String> found = new ArrayList<>();
        while (tags.next()) {
          found.add(tags.getString(1) + "/" + tags.getLong(2) + "/" + tags.getString(3));
        }
        assertThat(found)
            .containsExactly("Session|a/1/other", "Session|a/1/session", "Session|b/1/session");
      }

      queries.deleteTo("Session|a", 2).get(10, TimeUnit.SECONDS);
      assertSameRows(replay(queries, "Session|a", 1, 3, 100), List.of(last));
      assertThat(queries.highestSequenceNr("Session|a").get()).isEqualTo(3);
      try (Connection connection = database.connect()) {
        assertThat(
                count(
                    connection.createStatement(),
                    "SELECT count(*) FROM \"event_journal\" WHERE \"persistence_id\" = 'Session|a'"
                        + " AND \"sequence_number\" = 2 AND \"deleted\""))
            .as("the last deleted event stays, marked")
            .isEqualTo(1);
      }
    }
  }

  private static List<JournalRow> replay(
      JournalQueries queries, String persistenceId, long from, long to, long max) throws Exception {
    List<JournalRow> rows = new ArrayList<>();
    queries.replay(persistenceId, from, to, max, rows::add).get(10, TimeUnit.SECONDS);
    return rows;
  }

  private static void assertSameRows(List<JournalRow> read, List<JournalRow> written) {
    assertThat(read).hasSameSizeAs(written);
    for (int i = 0; i < read.size(); i++) {
      JournalRow expected = written.get(i);
      assertThat(read.get(i)).usingRecursiveComparison().ignoringFields("tags").isEqualTo(expected);
    }
  }

  private static void lockJournal(Connection lock) throws SQLException {
    lock.setAutoCommit(false);
    lock.createStatement().execute("LOCK TABLE event_journal IN EXCLUSIVE MODE");
  }

  private static void awaitWriterWaitingForLock(JournalDatabase database) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    // Outside the locking transaction, which sees pg_stat_activity as it was when it began.
    try (Connection connection = database.connect()) {
      while (count(
              connection.createStatement(),
              "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                  + " AND wait_event_type = 'Lock'")
          == 0) {
        assertThat(System.nanoTime()).as("the writer waits for the lock").isLessThan(deadline);
        Thread.sleep(20);
      }
    }
  }

  private static long count(Statement statement, String sql) throws SQLException {
    try (ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    }
  }
}
