package io.portcullis.node.conformance;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one statement and reduces its outcome to what a client can observe: column names and values,
 * the update count, or the SQLSTATE of the error. Run it directly and through the gateway and
 * compare.
 */
final class ResultComparison {

  record Outcome(
      List<String> columns, List<List<String>> rows, long updateCount, String sqlState) {}

  private ResultComparison() {}

  static Outcome run(Connection connection, String sql) {
    try (Statement statement = connection.createStatement()) {
      if (!statement.execute(sql)) {
        return new Outcome(List.of(), List.of(), statement.getLargeUpdateCount(), null);
      }
      try (ResultSet rs = statement.getResultSet()) {
        ResultSetMetaData meta = rs.getMetaData();
        List<String> columns = new ArrayList<>();
        for (int i = 1; i <= meta.getColumnCount(); i++) {
          columns.add(meta.getColumnName(i) + ":" + meta.getColumnTypeName(i));
        }
        List<List<String>> rows = new ArrayList<>();
        while (rs.next()) {
          List<String> row = new ArrayList<>();
          for (int i = 1; i <= meta.getColumnCount(); i++) {
            row.add(rs.getString(i));
          }
          rows.add(row);
        }
        return new Outcome(columns, rows, -1, null);
      }
    } catch (SQLException e) {
      return new Outcome(List.of(), List.of(), -1, e.getSQLState());
    }
  }
}
