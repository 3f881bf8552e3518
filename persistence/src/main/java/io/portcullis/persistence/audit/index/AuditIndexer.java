package io.portcullis.persistence.audit.index;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionJournal;
import io.portcullis.persistence.journal.JournalDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.serialization.Serialization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the audit index tables ({@code audit_sessions}, {@code audit_statements}, {@code
 * audit_statement_tables}) up to date with the journal.
 *
 * <p>It follows {@code event_journal} by its global {@code ordering} column, not by tag: only
 * session openings and closings are tagged (tagging every event halves the journal's write rate),
 * and reading the table directly lets the index rows and the new offset commit in one transaction
 * of the same database, so every event takes effect exactly once. Each batch locks the offset row
 * ({@code SELECT … FOR UPDATE}), so the gateway's indexer and a CLI catching up never index the
 * same events twice; the writes are idempotent besides, so indexing an event again changes nothing.
 *
 * <p>Concurrent writers commit out of order: ordering 12 may be visible while 11 is still being
 * written. The indexer stops before such a gap and waits for it to fill; a gap that stays open for
 * the gap timeout is a value that was never committed (a rolled-back write) and is skipped, as the
 * JDBC plugin's own {@code JournalSequenceActor} does for the read journal. A write that commits
 * more than the gap timeout after taking its ordering would then be missed by the index (never by
 * the journal, nor by {@code audit verify|show}); the journal's writer gives up on an unanswered
 * write after {@link JournalDatabase#ANSWER_TIMEOUT}.
 */
public final class AuditIndexer {

  /** The name of the indexer's row in {@code audit_offsets}. */
  public static final String OFFSET_NAME = "audit-index";

  private static final Logger log = LoggerFactory.getLogger(AuditIndexer.class);
  private static final String SESSION_PREFIX =
      SessionJournal.ENTITY_TYPE + PersistenceId.DefaultSeparator();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration GAP_POLL = Duration.ofMillis(100);

  /** The most events indexed in one transaction, which holds the offset row's lock meanwhile. */
  public static final int BATCH_SIZE = 2_000;

  /** How long an ordering gap may stay open: longer than {@link JournalDatabase#ANSWER_TIMEOUT}. */
  public static final Duration GAP_TIMEOUT = Duration.ofSeconds(10);

  private final Serialization serialization;
  private final int batchSize;
  private final Duration gapTimeout;
  private long gapAfter = -1;
  private long gapSeen;

  /**
   * @param serialization the actor system's, which decodes events exactly as recovery would
   */
  public AuditIndexer(Serialization serialization) {
    this(serialization, BATCH_SIZE, GAP_TIMEOUT);
  }

  /**
   * @param serialization the actor system's, which decodes events exactly as recovery would
   * @param batchSize the most events indexed in one transaction
   * @param gapTimeout how long a gap in the ordering may stay open before it is skipped
   */
  public AuditIndexer(Serialization serialization, int batchSize, Duration gapTimeout) {
    this.serialization = serialization;
    this.batchSize = batchSize;
    this.gapTimeout = gapTimeout;
  }

  /**
   * What one batch did.
   *
   * @param offset the ordering of the last event indexed, now stored
   * @param events events read (indexed or not concerning sessions)
   * @param more whether more events are waiting: the batch was as large as allowed
   * @param gap whether it stopped before an ordering value not yet committed
   */
  public record Batch(long offset, int events, boolean more, boolean gap) {}

  /** Indexes the events after the stored offset, at most a batch, in one transaction. */
  public Batch indexNext(Connection connection) throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try {
      long offset = lockOffset(connection);
      List<JournalRow> rows = read(connection, offset);
      long next = offset;
      int taken = 0;
      boolean gap = false;
      for (JournalRow row : rows) {
        if (row.ordering() != next + 1 && !gapExpired(next, row.ordering())) {
          gap = true;
          break;
        }
        next = row.ordering();
        taken++;
      }
      try (Writes writes = new Writes(connection)) {
        for (JournalRow row : rows.subList(0, taken)) {
          index(row, writes);
        }
        writes.execute();
      }
      if (next != offset) {
        try (PreparedStatement store =
            connection.prepareStatement(
                "UPDATE \"audit_offsets\" SET \"ordering\" = ? WHERE \"name\" = ?")) {
          store.setLong(1, next);
          store.setString(2, OFFSET_NAME);
          store.executeUpdate();
        }
      }
      connection.commit();
      return new Batch(next, taken, !gap && rows.size() == batchSize, gap);
    } catch (SQLException | RuntimeException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  /**
   * Indexes until the stored offset reaches the journal's last ordering as it was when called,
   * waiting at gaps until they fill or time out.
   *
   * @return the number of events read
   */
  public long catchUp(Connection connection) throws SQLException, InterruptedException {
    long target;
    try (PreparedStatement last =
            connection.prepareStatement("SELECT max(\"ordering\") FROM \"event_journal\"");
        ResultSet result = last.executeQuery()) {
      result.next();
      target = result.getLong(1);
    }
    long events = 0;
    Batch batch;
    do {
      batch = indexNext(connection);
      events += batch.events();
      if (batch.gap() && batch.events() == 0) {
        Thread.sleep(GAP_POLL.toMillis());
      }
    } while (batch.offset() < target && (batch.events() > 0 || batch.gap()));
    return events;
  }

  /** The stored offset, its row locked until the transaction ends. */
  private static long lockOffset(Connection connection) throws SQLException {
    try (PreparedStatement lock =
        connection.prepareStatement(
            "SELECT \"ordering\" FROM \"audit_offsets\" WHERE \"name\" = ? FOR UPDATE")) {
      lock.setString(1, OFFSET_NAME);
      try (ResultSet result = lock.executeQuery()) {
        if (!result.next()) {
          throw new SQLException(
              "the audit index has no offset row; apply the journal schema"
                  + " (deploy/sql/journal-postgres.sql, or start a gateway with create-schema on)");
        }
        return result.getLong(1);
      }
    }
  }

  private record JournalRow(
      long ordering,
      String persistenceId,
      long sequenceNumber,
      boolean deleted,
      int serializer,
      String manifest,
      byte[] payload) {}

  private List<JournalRow> read(Connection connection, long offset) throws SQLException {
    List<JournalRow> rows = new ArrayList<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT \"ordering\", \"persistence_id\", \"sequence_number\", \"deleted\","
                + " \"event_ser_id\", \"event_ser_manifest\","
                + " CASE WHEN \"event_ser_manifest\" = ? THEN NULL ELSE \"event_payload\" END"
                + " FROM \"event_journal\" WHERE \"ordering\" > ? ORDER BY \"ordering\" LIMIT ?")) {
      // COPY data is not indexed, and a batch of its chunks would be megabytes each.
      query.setString(1, SessionEvent.CopyDataReceived.class.getName());
      query.setLong(2, offset);
      query.setInt(3, batchSize);
      try (ResultSet result = query.executeQuery()) {
        while (result.next()) {
          rows.add(
              new JournalRow(
                  result.getLong(1),
                  result.getString(2),
                  result.getLong(3),
                  result.getBoolean(4),
                  result.getInt(5),
                  result.getString(6),
                  result.getBytes(7)));
        }
      }
    }
    return rows;
  }

  /** Whether the gap after {@code before} has stayed open for the gap timeout. */
  private boolean gapExpired(long before, long after) {
    long now = System.nanoTime();
    if (gapAfter != before) {
      gapAfter = before;
      gapSeen = now;
      return false;
    }
    if (now - gapSeen < gapTimeout.toNanos()) {
      return false;
    }
    log.warn(
        "audit index: journal ordering {} to {} stayed missing for {}; skipped as never committed",
        before + 1,
        after - 1,
        gapTimeout);
    gapAfter = -1;
    return true;
  }

  private void index(JournalRow row, Writes writes) throws SQLException {
    if (row.deleted() || !row.persistenceId().startsWith(SESSION_PREFIX) || row.payload() == null) {
      return;
    }
    String session = row.persistenceId().substring(SESSION_PREFIX.length());
    Object event;
    try {
      event = serialization.deserialize(row.payload(), row.serializer(), row.manifest()).get();
    } catch (Exception e) {
      // Try.get rethrows the decoder's checked exceptions as they are; audit verify reports it.
      log.warn(
          "audit index: event {} of {} does not decode; left out of the index",
          row.sequenceNumber(),
          row.persistenceId());
      return;
    }
    if (event instanceof SessionEvent.SessionOpened opened) {
      writes.opened(session, opened);
    } else if (event instanceof SessionEvent.StatementReceived received) {
      writes.received(session, received);
    } else if (event instanceof SessionEvent.PolicyDecided decided) {
      writes.decided(session, decided);
    } else if (event instanceof SessionEvent.ApprovalResolved resolved) {
      writes.resolved(session, resolved);
    } else if (event instanceof SessionEvent.StatementCompleted completed) {
      writes.completed(session, row.sequenceNumber(), completed);
    } else if (event instanceof SessionEvent.SessionClosed closed) {
      writes.closed(session, closed);
    }
  }

  /**
   * A batch's writes, one JDBC batch per kind, run in the order of the kinds: a statement's row
   * exists before its decision and result are set. Within a kind, writes keep the journal's order.
   * A statement received in this batch is written as one row with whatever of its decision,
   * approval and result the batch also holds (usually all of them), and each session's statement
   * count once per batch: the index's cost is then about one row per statement. Events of
   * statements received in an earlier batch update their rows. Each write is idempotent: inserts
   * skip rows that exist, updates set values, and a result is added only once (guarded by the
   * sequence number of the last result counted).
   */
  private static final class Writes implements AutoCloseable {

    private enum Kind {
      SESSION(
          "INSERT INTO \"audit_sessions\" (\"session\", \"subject\", \"issuer\", \"groups_json\","
              + " \"agent\", \"client_address\", \"client_port\", \"application_name\","
              + " \"target\", \"upstream_role\", \"node\", \"opened_at\")"
              + " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS"
              + " (SELECT 1 FROM \"audit_sessions\" WHERE \"session\" = ?)"),
      STATEMENT(
          "INSERT INTO \"audit_statements\" (\"session\", \"statement\", \"at\", \"protocol\","
              + " \"sql_text\", \"decision\", \"rules_json\", \"policy_version\", \"tables_json\","
              + " \"approval_id\", \"approval_outcome\", \"approvers_json\", \"command_tag\","
              + " \"row_count\", \"duration_micros\", \"sqlstate\", \"result_digest\","
              + " \"completed_seq\", \"subject\", \"target\", \"client_address\")"
              // Typed: a null bound for a number column is sent as VARCHAR.
              + " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS BIGINT),"
              + " CAST(? AS BIGINT), ?, ?, CAST(? AS BIGINT),"
              + " s.\"subject\", s.\"target\", s.\"client_address\""
              + " FROM \"audit_sessions\" s WHERE s.\"session\" = ? AND NOT EXISTS"
              + " (SELECT 1 FROM \"audit_statements\" WHERE \"session\" = ? AND \"statement\" = ?)"),
      STATEMENT_COUNT(
          "UPDATE \"audit_sessions\" SET \"statements\" = GREATEST(\"statements\", ?)"
              + " WHERE \"session\" = ?"),
      DECISION(
          "UPDATE \"audit_statements\" SET \"decision\" = ?, \"rules_json\" = ?,"
              + " \"policy_version\" = ?, \"tables_json\" = ?, \"approval_id\" = ?"
              + " WHERE \"session\" = ? AND \"statement\" = ?"),
      TABLE(
          "INSERT INTO \"audit_statement_tables\" (\"session\", \"statement\", \"table_name\")"
              + " SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM \"audit_statement_tables\""
              + " WHERE \"session\" = ? AND \"statement\" = ? AND \"table_name\" = ?)"),
      APPROVAL(
          "UPDATE \"audit_statements\" SET \"approval_outcome\" = ?, \"approvers_json\" = ?"
              + " WHERE \"session\" = ? AND \"statement\" = ?"),
      // A simple query of several statements has one result per statement.
      RESULT(
          "UPDATE \"audit_statements\" SET \"command_tag\" = COALESCE(?, \"command_tag\"),"
              + " \"row_count\" = COALESCE(\"row_count\", 0) + ?,"
              + " \"duration_micros\" = COALESCE(\"duration_micros\", 0) + ?,"
              + " \"sqlstate\" = COALESCE(\"sqlstate\", ?), \"result_digest\" = ?,"
              + " \"completed_seq\" = ?"
              + " WHERE \"session\" = ? AND \"statement\" = ? AND \"completed_seq\" < ?"),
      CLOSE(
          "UPDATE \"audit_sessions\" SET \"closed_at\" = ?, \"close_reason\" = ?"
              + " WHERE \"session\" = ?");

      final String sql;

      Kind(String sql) {
        this.sql = sql;
      }
    }

    private record Key(String session, long statement) {}

    /** A statement received in this batch, with what the batch says about it since. */
    private static final class Row {
      final SessionEvent.StatementReceived received;
      SessionEvent.PolicyDecided decided;
      SessionEvent.ApprovalResolved resolved;
      String commandTag;
      Long rows;
      Long durationMicros;
      String sqlState;
      String resultDigest;
      long completedSeq;

      Row(SessionEvent.StatementReceived received) {
        this.received = received;
      }

      /** As the RESULT update would add it to the row. */
      void add(long sequenceNumber, SessionEvent.StatementCompleted e) {
        commandTag = e.commandTag().orElse(commandTag);
        rows = (rows == null ? 0 : rows) + e.rows();
        durationMicros = (durationMicros == null ? 0 : durationMicros) + e.durationMicros();
        sqlState = sqlState != null ? sqlState : e.sqlState().orElse(null);
        resultDigest = e.resultDigest();
        completedSeq = sequenceNumber;
      }
    }

    private final Connection connection;
    private final Map<Kind, PreparedStatement> statements = new EnumMap<>(Kind.class);
    private final Map<Key, Row> received = new LinkedHashMap<>();
    private final Map<String, Long> statementCounts = new LinkedHashMap<>();

    Writes(Connection connection) {
      this.connection = connection;
    }

    void opened(String session, SessionEvent.SessionOpened e) throws SQLException {
      add(
          Kind.SESSION,
          session,
          e.subject(),
          e.issuer(),
          json(e.groups()),
          e.agent(),
          e.clientAddress(),
          e.clientPort(),
          e.applicationName(),
          e.target(),
          e.upstreamRole(),
          e.node(),
          time(e.at()),
          session);
    }

    void received(String session, SessionEvent.StatementReceived e) {
      received.put(new Key(session, e.statement()), new Row(e));
      statementCounts.merge(session, e.statement(), Math::max);
    }

    void decided(String session, SessionEvent.PolicyDecided e) throws SQLException {
      for (String table : e.tables()) {
        add(Kind.TABLE, session, e.statement(), table, session, e.statement(), table);
      }
      Row row = received.get(new Key(session, e.statement()));
      if (row != null) {
        row.decided = e;
        return;
      }
      add(
          Kind.DECISION,
          e.decision(),
          json(e.rules()),
          e.policyVersion(),
          json(e.tables()),
          e.approvalId().orElse(null),
          session,
          e.statement());
    }

    void resolved(String session, SessionEvent.ApprovalResolved e) throws SQLException {
      Row row = received.get(new Key(session, e.statement()));
      if (row != null) {
        row.resolved = e;
        return;
      }
      add(Kind.APPROVAL, e.outcome(), json(e.approvers()), session, e.statement());
    }

    void completed(String session, long sequenceNumber, SessionEvent.StatementCompleted e)
        throws SQLException {
      Row row = received.get(new Key(session, e.statement()));
      if (row != null) {
        row.add(sequenceNumber, e);
        return;
      }
      add(
          Kind.RESULT,
          e.commandTag().orElse(null),
          e.rows(),
          e.durationMicros(),
          e.sqlState().orElse(null),
          e.resultDigest(),
          sequenceNumber,
          session,
          e.statement(),
          sequenceNumber);
    }

    void closed(String session, SessionEvent.SessionClosed e) throws SQLException {
      add(Kind.CLOSE, time(e.at()), e.reason(), session);
    }

    void execute() throws SQLException {
      for (Map.Entry<Key, Row> entry : received.entrySet()) {
        String session = entry.getKey().session();
        Row row = entry.getValue();
        SessionEvent.StatementReceived e = row.received;
        SessionEvent.PolicyDecided decided = row.decided;
        SessionEvent.ApprovalResolved resolved = row.resolved;
        add(
            Kind.STATEMENT,
            session,
            e.statement(),
            time(e.at()),
            e.protocol(),
            e.sql(),
            decided == null ? null : decided.decision(),
            decided == null ? null : json(decided.rules()),
            decided == null ? null : decided.policyVersion(),
            decided == null ? null : json(decided.tables()),
            decided == null ? null : decided.approvalId().orElse(null),
            resolved == null ? null : resolved.outcome(),
            resolved == null ? null : json(resolved.approvers()),
            row.commandTag,
            row.rows,
            row.durationMicros,
            row.sqlState,
            row.resultDigest,
            row.completedSeq,
            session,
            session,
            e.statement());
      }
      for (Map.Entry<String, Long> count : statementCounts.entrySet()) {
        add(Kind.STATEMENT_COUNT, count.getValue(), count.getKey());
      }
      for (PreparedStatement statement : statements.values()) {
        statement.executeBatch();
      }
    }

    private void add(Kind kind, Object... values) throws SQLException {
      PreparedStatement statement = statements.get(kind);
      if (statement == null) {
        statement = connection.prepareStatement(kind.sql);
        statements.put(kind, statement);
      }
      for (int i = 0; i < values.length; i++) {
        if (values[i] == null) {
          statement.setNull(i + 1, Types.VARCHAR);
        } else {
          statement.setObject(i + 1, values[i]);
        }
      }
      statement.addBatch();
    }

    private static OffsetDateTime time(Instant at) {
      return OffsetDateTime.ofInstant(at, ZoneOffset.UTC);
    }

    private static String json(Object value) {
      try {
        return JSON.writeValueAsString(value);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void close() throws SQLException {
      for (PreparedStatement statement : statements.values()) {
        statement.close();
      }
    }
  }
}
