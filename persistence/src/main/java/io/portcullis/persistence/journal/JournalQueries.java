package io.portcullis.persistence.journal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * The journal's reads (replay, highest sequence number) and deletions, on a thread and connection
 * of their own so that they never wait behind the writer's batches, nor it behind them.
 */
final class JournalQueries implements AutoCloseable {

  private static final String REPLAY =
      "SELECT \"sequence_number\", \"deleted\", \"writer\", \"write_timestamp\","
          + " \"adapter_manifest\", \"event_ser_id\", \"event_ser_manifest\", \"event_payload\","
          + " \"meta_ser_id\", \"meta_ser_manifest\", \"meta_payload\" FROM \"event_journal\""
          + " WHERE \"persistence_id\" = ? AND NOT \"deleted\" AND \"sequence_number\" >= ?"
          + " AND \"sequence_number\" <= ? ORDER BY \"sequence_number\" LIMIT ?";
  private static final String HIGHEST =
      "SELECT max(\"sequence_number\") FROM \"event_journal\" WHERE \"persistence_id\" = ?"
          + " AND \"sequence_number\" <= ?";
  private static final String DELETE_BELOW =
      "DELETE FROM \"event_journal\" WHERE \"persistence_id\" = ? AND \"sequence_number\" < ?";
  private static final String MARK_DELETED =
      "UPDATE \"event_journal\" SET \"deleted\" = TRUE WHERE \"persistence_id\" = ?"
          + " AND \"sequence_number\" = ? AND NOT \"deleted\"";

  private final JournalDatabase database;
  private final ExecutorService executor;
  private Connection connection; // the executor's thread's alone

  JournalQueries(JournalDatabase database) {
    this.database = database;
    this.executor =
        Executors.newSingleThreadExecutor(
            task -> {
              Thread thread = new Thread(task, "portcullis-journal-reader");
              thread.setDaemon(true);
              return thread;
            });
    // Connected before the first recovery; one that fails here is tried again by the first query.
    run(this::connection);
  }

  /** The highest sequence number written for {@code persistenceId}, deleted or not; 0 if none. */
  CompletableFuture<Long> highestSequenceNr(String persistenceId) {
    return run(() -> highest(persistenceId, Long.MAX_VALUE));
  }

  /**
   * Hands {@code each} the events of {@code persistenceId} from {@code from} to {@code to}
   * (inclusive) that are not deleted, in order, at most {@code max} of them.
   */
  CompletableFuture<Void> replay(
      String persistenceId, long from, long to, long max, Consumer<JournalRow> each) {
    return run(
        () -> {
          try (PreparedStatement query = connection().prepareStatement(REPLAY)) {
            query.setString(1, persistenceId);
            query.setLong(2, from);
            query.setLong(3, to);
            // H2 refuses a limit beyond an int.
            query.setLong(4, Math.min(max, Integer.MAX_VALUE));
            try (ResultSet rows = query.executeQuery()) {
              while (rows.next()) {
                each.accept(row(persistenceId, rows));
              }
            }
          }
          return null;
        });
  }

  /**
   * Deletes the events of {@code persistenceId} up to {@code to} as pekko-persistence-jdbc does:
   * the last of them stays, marked deleted, so that the highest sequence number is never lost.
   */
  CompletableFuture<Void> deleteTo(String persistenceId, long to) {
    return run(
        () -> {
          Connection connection = connection();
          connection.setAutoCommit(false);
          try {
            long highest = highest(persistenceId, to);
            try (PreparedStatement delete = connection.prepareStatement(DELETE_BELOW);
                PreparedStatement mark = connection.prepareStatement(MARK_DELETED)) {
              delete.setString(1, persistenceId);
              delete.setLong(2, highest);
              delete.executeUpdate();
              mark.setString(1, persistenceId);
              mark.setLong(2, highest);
              mark.executeUpdate();
            }
            connection.commit();
          } catch (SQLException e) {
            connection.rollback();
            throw e;
          } finally {
            connection.setAutoCommit(true);
          }
          return null;
        });
  }

  @Override
  public void close() {
    executor.execute(this::discardConnection);
    executor.shutdown();
  }

  private long highest(String persistenceId, long atMost) throws SQLException {
    try (PreparedStatement query = connection().prepareStatement(HIGHEST)) {
      query.setString(1, persistenceId);
      query.setLong(2, atMost);
      try (ResultSet rows = query.executeQuery()) {
        rows.next();
        return rows.getLong(1);
      }
    }
  }

  private static JournalRow row(String persistenceId, ResultSet rows) throws SQLException {
    byte[] metadata = rows.getBytes(11);
    String adapterManifest = rows.getString(5);
    return new JournalRow(
        persistenceId,
        rows.getLong(1),
        rows.getBoolean(2),
        rows.getString(3),
        rows.getLong(4),
        adapterManifest == null ? "" : adapterManifest,
        new JournalRow.Payload(rows.getInt(6), rows.getString(7), rows.getBytes(8)),
        metadata == null
            ? Optional.empty()
            : Optional.of(new JournalRow.Payload(rows.getInt(9), rows.getString(10), metadata)),
        Set.of());
  }

  @FunctionalInterface
  private interface Query<T> {
    T run() throws Exception;
  }

  /** Runs {@code query} on the reader's thread; a failure drops the connection for a fresh one. */
  private <T> CompletableFuture<T> run(Query<T> query) {
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      executor.execute(
          () -> {
            try {
              result.complete(query.run());
            } catch (Exception e) {
              if (e instanceof SQLException) {
                discardConnection();
              }
              result.completeExceptionally(e);
            }
          });
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(new IllegalStateException("the journal is shutting down", e));
    }
    return result;
  }

  private Connection connection() throws SQLException {
    if (connection == null) {
      connection = database.connectForJournal();
    }
    return connection;
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
}
