package io.portcullis.persistence.audit;

import io.portcullis.persistence.audit.ChainCheck.Stored;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;

/**
 * Reads sessions back from the journal tables, decoding events with the actor system's own
 * serializers, exactly as recovery would, so that what is checked is what is stored.
 */
public final class JournalReader {

  private static final String PREFIX =
      SessionJournal.ENTITY_TYPE + PersistenceId.DefaultSeparator();

  private final Connection connection;
  private final Serialization serialization;

  public JournalReader(Connection connection, ActorSystem<?> system) {
    this.connection = connection;
    this.serialization = SerializationExtension.get(system);
  }

  /** Every session in the journal, oldest first. */
  public List<String> sessions() throws SQLException {
    List<String> sessions = new ArrayList<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT \"persistence_id\", min(\"ordering\") AS first FROM \"event_journal\""
                + " WHERE \"persistence_id\" LIKE ? GROUP BY \"persistence_id\" ORDER BY first")) {
      query.setString(1, PREFIX + "%");
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          sessions.add(rows.getString(1).substring(PREFIX.length()));
        }
      }
    }
    return sessions;
  }

  /** A session's events in sequence order; one that cannot be decoded is read as null. */
  public List<Stored> events(String session) throws SQLException {
    List<Stored> events = new ArrayList<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT \"sequence_number\", \"event_ser_id\", \"event_ser_manifest\","
                + " \"event_payload\" FROM \"event_journal\" WHERE \"persistence_id\" = ?"
                + " AND NOT \"deleted\" ORDER BY \"sequence_number\"")) {
      query.setString(1, SessionJournal.persistenceId(session).id());
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          events.add(
              new Stored(
                  rows.getLong(1), decode(rows.getBytes(4), rows.getInt(2), rows.getString(3))));
        }
      }
    }
    return events;
  }

  private SessionEvent decode(byte[] payload, int serializer, String manifest) {
    try {
      return serialization.deserialize(payload, serializer, manifest).get()
              instanceof SessionEvent event
          ? event
          : null;
    } catch (Exception e) {
      // Try.get rethrows the decoder's checked exceptions as they are.
      return null;
    }
  }
}
