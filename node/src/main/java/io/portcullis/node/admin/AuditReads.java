package io.portcullis.node.admin;

import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.JournalReader;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.index.AuditQueries;
import io.portcullis.persistence.audit.index.SessionQuery;
import io.portcullis.persistence.audit.index.SessionSummary;
import io.portcullis.persistence.audit.index.StatementExport;
import io.portcullis.persistence.audit.index.TimeRange;
import io.portcullis.persistence.journal.JournalDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * What auditors read through the admin API, each call on a connection of its own (blocking): the
 * audit index, which the gateway's indexer keeps up to date, and sessions' timelines from the
 * journal itself.
 */
public final class AuditReads {

  private final JournalDatabase journal;
  private final ActorSystem<?> system;

  public AuditReads(JournalDatabase journal, ActorSystem<?> system) {
    this.journal = journal;
    this.system = system;
  }

  public SessionSummary.Page sessions(SessionQuery query) throws SQLException {
    try (Connection connection = journal.connect()) {
      return new AuditQueries(connection).sessions(query);
    }
  }

  /** A session's events in order, null for one that does not decode; empty for no session. */
  public List<SessionEvent> timeline(String session) throws SQLException {
    try (Connection connection = journal.connect()) {
      return new JournalReader(connection, system)
          .events(session).stream().map(ChainCheck.Stored::event).toList();
    }
  }

  /** The export holds its connection until it is closed. */
  public StatementExport export(TimeRange range, StatementExport.Format format)
      throws SQLException {
    Connection connection = journal.connect();
    try {
      return new AuditQueries(connection).export(range, format);
    } catch (SQLException | RuntimeException e) {
      connection.close();
      throw e;
    }
  }
}
