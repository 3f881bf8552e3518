package io.portcullis.node.testing;

import io.portcullis.persistence.audit.SessionChain;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionJournal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;

/**
 * Real session events, chained and serialized as the gateway's journal writes them, for tests and
 * benchmarks that need a journal without running sessions.
 */
public final class JournalRows {

  /**
   * A row of {@code event_journal}.
   *
   * @param ordering its global ordering, or 0 to let the database assign it
   */
  public record Row(
      long ordering,
      String persistenceId,
      long sequenceNumber,
      int serializer,
      String manifest,
      byte[] payload) {}

  private final Serialization serialization;

  public JournalRows(ActorSystem<?> system) {
    this.serialization = SerializationExtension.get(system);
  }

  /** A session's events from its first, chained and serialized, with database orderings. */
  public List<Row> session(String session, List<SessionEvent> events) {
    List<Row> rows = new ArrayList<>(events.size());
    String head = SessionChain.GENESIS;
    for (SessionEvent event : events) {
      SessionEvent chained = event.chainedAfter(head);
      head = SessionChain.hash(chained);
      rows.add(row(0, session, rows.size() + 1, chained));
    }
    return rows;
  }

  public Row row(long ordering, String session, long sequenceNumber, SessionEvent event) {
    Serializer serializer = serialization.findSerializerFor(event);
    return new Row(
        ordering,
        SessionJournal.persistenceId(session).id(),
        sequenceNumber,
        serializer.identifier(),
        Serializers.manifestFor(serializer, event),
        serializer.toBinary(event));
  }

  /** Inserts the rows in one transaction; those with an ordering get it. */
  public static void insert(Connection connection, List<Row> rows) throws SQLException {
    String columns =
        "\"persistence_id\", \"sequence_number\", \"writer\", \"write_timestamp\","
            + " \"adapter_manifest\", \"event_ser_id\", \"event_ser_manifest\", \"event_payload\"";
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try (PreparedStatement assigned =
            connection.prepareStatement(
                "INSERT INTO \"event_journal\" (" + columns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        PreparedStatement given =
            connection.prepareStatement(
                "INSERT INTO \"event_journal\" (\"ordering\", "
                    + columns
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      for (Row row : rows) {
        PreparedStatement insert = row.ordering() == 0 ? assigned : given;
        int i = 1;
        if (row.ordering() != 0) {
          insert.setLong(i++, row.ordering());
        }
        insert.setString(i++, row.persistenceId());
        insert.setLong(i++, row.sequenceNumber());
        insert.setString(i++, "test");
        insert.setLong(i++, System.currentTimeMillis());
        insert.setString(i++, "");
        insert.setInt(i++, row.serializer());
        insert.setString(i++, row.manifest());
        insert.setBytes(i, row.payload());
        insert.executeUpdate();
      }
      connection.commit();
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  public static SessionEvent.SessionOpened opened(
      String session, String subject, String clientAddress, Instant at) {
    return new SessionEvent.SessionOpened(
        SessionEvent.SCHEMA_VERSION,
        at,
        session,
        "pekko://portcullis@127.0.0.1:7355",
        subject,
        "https://login.bank.example",
        List.of("analysts"),
        false,
        clientAddress,
        50000,
        "psql",
        Optional.empty(),
        Optional.empty(),
        "main",
        "postgres",
        "v1",
        List.of(),
        null);
  }

  /**
   * A statement's StatementReceived (with a sealed value, which queries never show) and decision.
   */
  public static List<SessionEvent> statement(
      long statement,
      String sql,
      String decision,
      List<String> tables,
      Optional<String> approval,
      Instant at) {
    return List.of(
        new SessionEvent.StatementReceived(
            SessionEvent.SCHEMA_VERSION,
            at,
            statement,
            sql,
            "extended",
            "",
            "",
            List.of("****"),
            Optional.of("sealed-value-ciphertext"),
            null),
        new SessionEvent.PolicyDecided(
            SessionEvent.SCHEMA_VERSION,
            at,
            statement,
            decision,
            List.of("rule-" + decision),
            "v1",
            "",
            tables,
            approval,
            null));
  }

  public static SessionEvent.StatementCompleted completed(
      long statement, long rows, Optional<String> sqlState, Instant at) {
    return new SessionEvent.StatementCompleted(
        SessionEvent.SCHEMA_VERSION,
        at,
        statement,
        sqlState.isPresent() ? Optional.empty() : Optional.of("SELECT " + rows),
        rows,
        120,
        sqlState,
        List.of(),
        true,
        "0".repeat(64),
        null);
  }

  public static SessionEvent.SessionClosed closed(Instant at) {
    return new SessionEvent.SessionClosed(SessionEvent.SCHEMA_VERSION, at, "client", null);
  }
}
