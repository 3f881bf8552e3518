package io.portcullis.persistence.audit;

import io.portcullis.persistence.audit.ChainCheck.Stored;
import io.portcullis.persistence.audit.index.AuditIndexer;
import io.portcullis.persistence.audit.index.AuditQueries;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;

/**
 * Reads sessions back from the journal tables, decoding events with the actor system's own
 * serializers, exactly as recovery would, so that what is checked is what is stored.
 */
public final class JournalReader {

  private static final String SESSION_PREFIX =
      SessionJournal.ENTITY_TYPE + PersistenceId.DefaultSeparator();
  private static final String LOGINS_PREFIX =
      LoginJournal.ENTITY_TYPE + PersistenceId.DefaultSeparator();

  private static final String LEDGER_PREFIX = Ledger.ENTITY_TYPE + PersistenceId.DefaultSeparator();

  private final Connection connection;
  private final Serialization serialization;

  public JournalReader(Connection connection, ActorSystem<?> system) {
    this.connection = connection;
    this.serialization = SerializationExtension.get(system);
  }

  /** Every session in the journal, oldest first. */
  public List<String> sessions() throws SQLException {
    return entities(SESSION_PREFIX);
  }

  /** Every day with failed logins, oldest first. */
  public List<String> loginDays() throws SQLException {
    return entities(LOGINS_PREFIX);
  }

  /** Every node with a ledger, by its name, oldest first. */
  public List<String> ledgers() throws SQLException {
    return entities(LEDGER_PREFIX);
  }

  /** A node's ledger checkpoints in order; one that cannot be decoded is read as null. */
  public List<Stored<LedgerCheckpoint>> checkpoints(String node) throws SQLException {
    return read(Ledger.persistenceId(node).id(), LedgerCheckpoint.class);
  }

  /** A session's events in sequence order; one that cannot be decoded is read as null. */
  public List<Stored<SessionEvent>> events(String session) throws SQLException {
    return read(SessionJournal.persistenceId(session).id(), SessionEvent.class);
  }

  /** A day's failed logins in sequence order; one that cannot be decoded is read as null. */
  public List<Stored<LoginJournal.LoginFailed>> loginFailures(String day) throws SQLException {
    return read(LoginJournal.persistenceId(day).id(), LoginJournal.LoginFailed.class);
  }

  /** The text of a policy version, as stored when it first came into force. */
  public Optional<String> policyText(String version) throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT \"event_ser_id\", \"event_ser_manifest\", \"event_payload\" FROM"
                + " \"event_journal\" WHERE \"persistence_id\" = ? AND \"sequence_number\" = 1")) {
      query.setString(1, PolicyVersion.persistenceId(version).id());
      try (ResultSet rows = query.executeQuery()) {
        if (!rows.next()) {
          return Optional.empty();
        }
        PolicyVersion.PolicyStored stored =
            decode(
                rows.getBytes(3),
                rows.getInt(1),
                rows.getString(2),
                PolicyVersion.PolicyStored.class);
        return Optional.ofNullable(stored).map(PolicyVersion.PolicyStored::text);
      }
    }
  }

  /**
   * Brings the audit index up to date with the journal as it is now, waiting for the gateway's
   * indexer where it is at work.
   *
   * @return the number of events read
   */
  public long catchUpIndex() throws SQLException, InterruptedException {
    return new AuditIndexer(serialization).catchUp(connection);
  }

  /** Queries over the audit index, on this connection. */
  public AuditQueries index() {
    return new AuditQueries(connection);
  }

  private List<String> entities(String prefix) throws SQLException {
    List<String> ids = new ArrayList<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT \"persistence_id\", min(\"ordering\") AS first FROM \"event_journal\""
                + " WHERE \"persistence_id\" LIKE ? GROUP BY \"persistence_id\" ORDER BY first")) {
      query.setString(1, prefix + "%");
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          ids.add(rows.getString(1).substring(prefix.length()));
        }
      }
    }
    return ids;
  }

  private <E extends ChainedEvent> List<Stored<E>> read(String persistenceId, Class<E> type)
      throws SQLException {
    List<Stored<E>> events = new ArrayList<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT \"sequence_number\", \"event_ser_id\", \"event_ser_manifest\","
                + " \"event_payload\" FROM \"event_journal\" WHERE \"persistence_id\" = ?"
                + " AND NOT \"deleted\" ORDER BY \"sequence_number\"")) {
      query.setString(1, persistenceId);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          events.add(
              new Stored<>(
                  rows.getLong(1),
                  decode(rows.getBytes(4), rows.getInt(2), rows.getString(3), type)));
        }
      }
    }
    return events;
  }

  private <E> E decode(byte[] payload, int serializer, String manifest, Class<E> type) {
    try {
      Object event = serialization.deserialize(payload, serializer, manifest).get();
      return type.isInstance(event) ? type.cast(event) : null;
    } catch (Exception e) {
      // Try.get rethrows the decoder's checked exceptions as they are.
      return null;
    }
  }
}
