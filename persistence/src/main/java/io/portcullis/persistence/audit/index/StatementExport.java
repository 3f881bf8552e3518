package io.portcullis.persistence.audit.index;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Statements with their sessions' identities, one line each, streamed from a database cursor so
 * that an export of any size holds only a fetch's worth of rows in memory. Everything in it is as
 * the journal holds it: SQL text, masked results' digests, never sealed parameter values.
 */
public final class StatementExport implements AutoCloseable {

  /** {@code jsonl}: one JSON object per line; {@code csv}: RFC 4180 with a header line. */
  public enum Format {
    JSONL,
    CSV;

    public static Format parse(String name) {
      try {
        return valueOf(name.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown format '" + name + "'; use jsonl or csv");
      }
    }
  }

  private enum Type {
    TEXT,
    NUMBER,
    BOOLEAN,
    TIME,
    /** Already JSON (a list), written as it is. */
    JSON
  }

  private record Column(String name, String sql, Type type) {}

  private static final List<Column> COLUMNS =
      List.of(
          new Column("at", "st.\"at\"", Type.TIME),
          new Column("session", "st.\"session\"", Type.TEXT),
          new Column("statement", "st.\"statement\"", Type.NUMBER),
          new Column("subject", "s.\"subject\"", Type.TEXT),
          new Column("issuer", "s.\"issuer\"", Type.TEXT),
          new Column("groups", "s.\"groups_json\"", Type.JSON),
          new Column("agent", "s.\"agent\"", Type.BOOLEAN),
          new Column("clientAddress", "s.\"client_address\"", Type.TEXT),
          new Column("applicationName", "s.\"application_name\"", Type.TEXT),
          new Column("target", "s.\"target\"", Type.TEXT),
          new Column("upstreamRole", "s.\"upstream_role\"", Type.TEXT),
          new Column("node", "s.\"node\"", Type.TEXT),
          new Column("protocol", "st.\"protocol\"", Type.TEXT),
          new Column("sql", "st.\"sql_text\"", Type.TEXT),
          new Column("decision", "st.\"decision\"", Type.TEXT),
          new Column("rules", "st.\"rules_json\"", Type.JSON),
          new Column("policyVersion", "st.\"policy_version\"", Type.TEXT),
          new Column("tables", "st.\"tables_json\"", Type.JSON),
          new Column("approvalId", "st.\"approval_id\"", Type.TEXT),
          new Column("approvalOutcome", "st.\"approval_outcome\"", Type.TEXT),
          new Column("approvers", "st.\"approvers_json\"", Type.JSON),
          new Column("commandTag", "st.\"command_tag\"", Type.TEXT),
          new Column("rows", "st.\"row_count\"", Type.NUMBER),
          new Column("durationMicros", "st.\"duration_micros\"", Type.NUMBER),
          new Column("sqlState", "st.\"sqlstate\"", Type.TEXT),
          new Column("resultDigest", "st.\"result_digest\"", Type.TEXT));

  private static final String QUERY =
      COLUMNS.stream().map(Column::sql).collect(Collectors.joining(", ", "SELECT ", ""))
          + " FROM \"audit_statements\" st JOIN \"audit_sessions\" s"
          + " ON s.\"session\" = st.\"session\" WHERE st.\"at\" >= ? AND st.\"at\" < ?"
          + " ORDER BY st.\"at\", st.\"session\", st.\"statement\"";
  private static final int FETCH_SIZE = 1_000;
  private static final JsonFactory JSON = new JsonFactory();

  private final Connection connection;
  private final PreparedStatement statement;
  private final ResultSet rows;
  private final Format format;
  private boolean header;

  private StatementExport(
      Connection connection, PreparedStatement statement, ResultSet rows, Format format) {
    this.connection = connection;
    this.statement = statement;
    this.rows = rows;
    this.format = format;
    this.header = format == Format.CSV;
  }

  static StatementExport open(Connection connection, TimeRange range, Format format)
      throws SQLException {
    // PostgreSQL's driver reads a result through a cursor, fetch by fetch, only in a transaction.
    connection.setAutoCommit(false);
    PreparedStatement statement =
        connection.prepareStatement(QUERY, ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY);
    try {
      statement.setFetchSize(FETCH_SIZE);
      statement.setObject(1, AuditQueries.time(range.since()));
      statement.setObject(2, AuditQueries.time(range.until()));
      return new StatementExport(connection, statement, statement.executeQuery(), format);
    } catch (SQLException | RuntimeException e) {
      statement.close();
      throw e;
    }
  }

  /**
   * The next lines, each ending in a newline, about {@code chars} characters together (one line may
   * make it longer); null after the last.
   */
  public String next(int chars) throws SQLException {
    StringBuilder lines = new StringBuilder(chars + 1024);
    if (header) {
      header = false;
      lines
          .append(COLUMNS.stream().map(Column::name).collect(Collectors.joining(",")))
          .append('\n');
    }
    while (lines.length() < chars && rows.next()) {
      if (format == Format.JSONL) {
        json(lines);
      } else {
        csv(lines);
      }
      lines.append('\n');
    }
    return lines.length() == 0 ? null : lines.toString();
  }

  private void json(StringBuilder line) throws SQLException {
    StringWriter out = new StringWriter(512);
    try (JsonGenerator json = JSON.createGenerator(out)) {
      json.writeStartObject();
      for (int i = 0; i < COLUMNS.size(); i++) {
        Column column = COLUMNS.get(i);
        json.writeFieldName(column.name());
        String value = text(i, column.type());
        if (value == null) {
          json.writeNull();
        } else if (column.type() == Type.TEXT || column.type() == Type.TIME) {
          json.writeString(value);
        } else {
          json.writeRawValue(value);
        }
      }
      json.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    line.append(out.getBuffer());
  }

  private void csv(StringBuilder line) throws SQLException {
    for (int i = 0; i < COLUMNS.size(); i++) {
      if (i > 0) {
        line.append(',');
      }
      String value = text(i, COLUMNS.get(i).type());
      if (value == null) {
        continue;
      }
      if (value.indexOf(',') < 0
          && value.indexOf('"') < 0
          && value.indexOf('\n') < 0
          && value.indexOf('\r') < 0) {
        line.append(value);
      } else {
        line.append('"').append(value.replace("\"", "\"\"")).append('"');
      }
    }
  }

  private String text(int index, Type type) throws SQLException {
    if (type == Type.TIME) {
      OffsetDateTime at = rows.getObject(index + 1, OffsetDateTime.class);
      return at == null ? null : at.toInstant().toString();
    }
    if (type == Type.BOOLEAN) {
      // PostgreSQL's driver reads a boolean as text as t or f.
      boolean value = rows.getBoolean(index + 1);
      return rows.wasNull() ? null : Boolean.toString(value);
    }
    return rows.getString(index + 1);
  }

  /** Ends the cursor and closes the connection. */
  @Override
  public void close() throws SQLException {
    try (connection;
        statement;
        rows) {
      connection.rollback();
    }
  }
}
