package io.portcullis.persistence.journal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Writes the journal rows of every entity of the node through one thread and one connection.
 * Whatever is waiting when a commit ends goes into the next one: one JDBC batch (a multi-row INSERT
 * on PostgreSQL, with {@code reWriteBatchedInserts}) and one commit for all of it, so the busier
 * the node, the more events each commit carries, and an idle node waits for nothing.
 *
 * <p>A batch that fails fails every write in it, and the next batch opens a new connection if the
 * old one is broken. The one exception is a constraint violation (an event written twice): the
 * writes of that batch are then retried one by one, so that only the offending write fails.
 */
final class GroupCommitWriter implements AutoCloseable {

  /** A write refused at once because too many are waiting for the database already. */
  static final class OverloadedException extends RuntimeException {
    OverloadedException(int pending) {
      super("the journal is overloaded: " + pending + " writes are waiting for the database");
    }
  }

  static final String INSERT =
      "INSERT INTO \"event_journal\" (\"persistence_id\", \"sequence_number\", \"deleted\","
          + " \"writer\", \"write_timestamp\", \"adapter_manifest\", \"event_ser_id\","
          + " \"event_ser_manifest\", \"event_payload\", \"meta_ser_id\", \"meta_ser_manifest\","
          + " \"meta_payload\") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  private static final String INSERT_TAG =
      "INSERT INTO \"event_tag\" (\"event_id\", \"tag\") VALUES (?, ?)";
  private static final String[] ORDERING = {"ordering"};
  private static final String INTEGRITY_CONSTRAINT_VIOLATION = "23";
  private static final long IDLE_POLL_MILLIS = 200;
  private static final int VALID_TIMEOUT_SECONDS = 2;

  private record Pending(List<JournalRow> rows, CompletableFuture<Void> done) {}

  private final JournalDatabase database;
  private final int maxBatchEvents;
  private final BlockingQueue<Pending> queue;
  private final Thread thread;
  private volatile boolean closed;
  private Connection connection; // the writer thread's alone

  GroupCommitWriter(JournalDatabase database, int maxBatchEvents, int maxPendingWrites) {
    if (maxBatchEvents < 1 || maxPendingWrites < 1) {
      throw new IllegalArgumentException("batch and queue sizes must be positive");
    }
    this.database = database;
    this.maxBatchEvents = maxBatchEvents;
    this.queue = new ArrayBlockingQueue<>(maxPendingWrites);
    this.thread = new Thread(this::run, "portcullis-journal-writer");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Writes {@code rows} in one transaction, in order, with the rows of other writes. Completes once
   * they are committed, or exceptionally if they are not (at once if too many writes are waiting).
   */
  CompletableFuture<Void> write(List<JournalRow> rows) {
    Pending pending = new Pending(List.copyOf(rows), new CompletableFuture<>());
    if (closed) {
      return CompletableFuture.failedFuture(closedException());
    }
    if (!queue.offer(pending)) {
      return CompletableFuture.failedFuture(new OverloadedException(queue.size()));
    }
    if (closed) {
      // Closed while offering: the writer thread may be gone and will not take it.
      pending.done().completeExceptionally(closedException());
    }
    return pending.done();
  }

  /** Stops taking writes and fails those still waiting. A batch being written is finished. */
  @Override
  public void close() {
    closed = true;
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Pending pending = queue.poll(); pending != null; pending = queue.poll()) {
      pending.done().completeExceptionally(closedException());
    }
  }

  private void run() {
    try {
      // Connected before the first write, which then only waits for its commit.
      connection();
    } catch (SQLException e) {
      // The first batch tries again, and fails if it cannot connect either.
    }
    List<Pending> batch = new ArrayList<>();
    while (!closed) {
      Pending first;
      try {
        first = queue.poll(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        break;
      }
      if (first == null) {
        continue;
      }
      batch.add(first);
      int events = first.rows().size();
      for (Pending next = queue.peek();
          next != null && events + next.rows().size() <= maxBatchEvents;
          next = queue.peek()) {
        batch.add(queue.poll());
        events += next.rows().size();
      }
      commit(batch);
      batch.clear();
    }
    discardConnection();
  }

  private void commit(List<Pending> batch) {
    try {
      insert(batch);
    } catch (SQLException | RuntimeException e) {
      rollback();
      if (batch.size() > 1
          && e instanceof SQLException sql
          && sql.getSQLState() != null
          && sql.getSQLState().startsWith(INTEGRITY_CONSTRAINT_VIOLATION)) {
        for (Pending pending : batch) {
          commit(List.of(pending));
        }
      } else {
        batch.forEach(pending -> pending.done().completeExceptionally(e));
      }
      return;
    }
    batch.forEach(pending -> pending.done().complete(null));
  }

  private void insert(List<Pending> batch) throws SQLException {
    List<JournalRow> rows = new ArrayList<>();
    boolean tagged = false;
    for (Pending pending : batch) {
      for (JournalRow row : pending.rows()) {
        rows.add(row);
        tagged |= !row.tags().isEmpty();
      }
    }
    Connection connection = connection();
    // Only a batch with tags needs the orderings the database gives its rows.
    try (PreparedStatement insert =
        tagged
            ? connection.prepareStatement(INSERT, ORDERING)
            : connection.prepareStatement(INSERT)) {
      for (JournalRow row : rows) {
        bind(insert, row);
        insert.addBatch();
      }
      insert.executeBatch();
      if (tagged) {
        insertTags(connection, rows, insert);
      }
    }
    connection.commit();
  }

  private static void bind(PreparedStatement insert, JournalRow row) throws SQLException {
    insert.setString(1, row.persistenceId());
    insert.setLong(2, row.sequenceNr());
    insert.setBoolean(3, row.deleted());
    insert.setString(4, row.writer());
    insert.setLong(5, row.timestamp());
    insert.setString(6, row.adapterManifest());
    insert.setInt(7, row.event().serializerId());
    insert.setString(8, row.event().manifest());
    insert.setBytes(9, row.event().bytes());
    if (row.metadata().isPresent()) {
      JournalRow.Payload metadata = row.metadata().get();
      insert.setInt(10, metadata.serializerId());
      insert.setString(11, metadata.manifest());
      insert.setBytes(12, metadata.bytes());
    } else {
      insert.setNull(10, Types.INTEGER);
      insert.setNull(11, Types.VARCHAR);
      insert.setNull(12, Types.BINARY);
    }
  }

  private static void insertTags(
      Connection connection, List<JournalRow> rows, PreparedStatement insert) throws SQLException {
    try (ResultSet orderings = insert.getGeneratedKeys();
        PreparedStatement tags = connection.prepareStatement(INSERT_TAG)) {
      for (JournalRow row : rows) {
        if (!orderings.next()) {
          throw new SQLException("the journal returned fewer orderings than it inserted rows");
        }
        long ordering = orderings.getLong(1);
        for (String tag : row.tags()) {
          tags.setLong(1, ordering);
          tags.setString(2, tag);
          tags.addBatch();
        }
      }
      tags.executeBatch();
    }
  }

  private Connection connection() throws SQLException {
    if (connection == null) {
      Connection opened = database.connectForJournal();
      try {
        opened.setAutoCommit(false);
      } catch (SQLException e) {
        opened.close();
        throw e;
      }
      connection = opened;
    }
    return connection;
  }

  /** Rolls back what the failed batch wrote; a connection that no longer answers is dropped. */
  private void rollback() {
    if (connection == null) {
      return;
    }
    try {
      connection.rollback();
      if (connection.isValid(VALID_TIMEOUT_SECONDS)) {
        return;
      }
    } catch (SQLException e) {
      // Broken: replaced below.
    }
    discardConnection();
  }

  private void discardConnection() {
    if (connection == null) {
      return;
    }
    try {
      connection.close();
    } catch (SQLException e) {
      // Already broken: nothing more to release.
    }
    connection = null;
  }

  private static IllegalStateException closedException() {
    return new IllegalStateException("the journal is shutting down");
  }
}
