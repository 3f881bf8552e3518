package io.portcullis.persistence.audit.index;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Queries over the audit index tables that {@link AuditIndexer} keeps. */
public final class AuditQueries {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {};

  private final Connection connection;

  public AuditQueries(Connection connection) {
    this.connection = connection;
  }

  /** The sessions that match, oldest first, at most {@code query.limit()}. */
  public SessionSummary.Page sessions(SessionQuery query) throws SQLException {
    StringBuilder sql =
        new StringBuilder(
            "SELECT s.\"session\", s.\"subject\", s.\"issuer\", s.\"groups_json\", s.\"agent\","
                + " s.\"client_address\", s.\"client_port\", s.\"application_name\","
                + " s.\"target\", s.\"upstream_role\", s.\"node\", s.\"opened_at\","
                + " s.\"closed_at\", s.\"close_reason\", s.\"statements\""
                + " FROM \"audit_sessions\" s WHERE s.\"opened_at\" < ?"
                + " AND (s.\"closed_at\" IS NULL OR s.\"closed_at\" >= ?)");
    List<Object> values = new ArrayList<>();
    values.add(time(query.range().until()));
    values.add(time(query.range().since()));
    where(sql, values, "s.\"subject\"", query.user());
    where(sql, values, "s.\"target\"", query.target());
    where(sql, values, "s.\"client_address\"", query.client());
    if (query.filtersStatements()) {
      sql.append(
          " AND EXISTS (SELECT 1 FROM \"audit_statements\" st WHERE st.\"session\" = s.\"session\""
              + " AND st.\"at\" >= ? AND st.\"at\" < ?");
      values.add(time(query.range().since()));
      values.add(time(query.range().until()));
      where(sql, values, "st.\"decision\"", query.decision());
      where(sql, values, "st.\"approval_id\"", query.approval());
      where(sql, values, "st.\"sqlstate\"", query.sqlState());
      if (query.table().isPresent()) {
        String table = query.table().get();
        sql.append(
            " AND EXISTS (SELECT 1 FROM \"audit_statement_tables\" t"
                + " WHERE t.\"session\" = st.\"session\" AND t.\"statement\" = st.\"statement\""
                + " AND (t.\"table_name\" = ?");
        values.add(table);
        if (!table.contains(".")) {
          sql.append(" OR t.\"table_name\" LIKE ? ESCAPE '\\'");
          values.add("%." + table.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"));
        }
        sql.append("))");
      }
      sql.append(')');
    }
    sql.append(" ORDER BY s.\"opened_at\", s.\"session\" LIMIT ?");
    values.add(query.limit() + 1);
    List<SessionSummary> sessions = new ArrayList<>();
    try (PreparedStatement statement = connection.prepareStatement(sql.toString())) {
      for (int i = 0; i < values.size(); i++) {
        statement.setObject(i + 1, values.get(i));
      }
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          sessions.add(summary(rows));
        }
      }
    }
    boolean more = sessions.size() > query.limit();
    return new SessionSummary.Page(more ? sessions.subList(0, query.limit()) : sessions, more);
  }

  /** Whether the index holds any session of this subject. */
  public boolean knownSubject(String subject) throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT 1 FROM \"audit_sessions\" WHERE \"subject\" = ? FETCH FIRST 1 ROWS ONLY")) {
      statement.setString(1, subject);
      try (ResultSet rows = statement.executeQuery()) {
        return rows.next();
      }
    }
  }

  /**
   * The statements of the range in time order, each with its session's identity, read through a
   * cursor. The export takes the connection over and closes it.
   */
  public StatementExport export(TimeRange range, StatementExport.Format format)
      throws SQLException {
    return StatementExport.open(connection, range, format);
  }

  private static void where(
      StringBuilder sql, List<Object> values, String column, Optional<String> value) {
    value.ifPresent(
        v -> {
          sql.append(" AND ").append(column).append(" = ?");
          values.add(v);
        });
  }

  private static SessionSummary summary(ResultSet rows) throws SQLException {
    try {
      return new SessionSummary(
          rows.getString(1),
          rows.getString(2),
          rows.getString(3),
          JSON.readValue(rows.getString(4), STRINGS),
          rows.getBoolean(5),
          rows.getString(6),
          rows.getInt(7),
          rows.getString(8),
          rows.getString(9),
          rows.getString(10),
          rows.getString(11),
          rows.getObject(12, OffsetDateTime.class).toInstant(),
          Optional.ofNullable(rows.getObject(13, OffsetDateTime.class))
              .map(OffsetDateTime::toInstant),
          Optional.ofNullable(rows.getString(14)),
          rows.getLong(15));
    } catch (JsonProcessingException e) {
      throw new SQLException("the groups of session " + rows.getString(1) + " do not parse", e);
    }
  }

  static OffsetDateTime time(Instant instant) {
    return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }
}
