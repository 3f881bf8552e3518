package io.portcullis.policy.masking;

import java.util.Optional;

/**
 * A protected column as the policy names it: {@code schema.table.column}, or {@code table.column}
 * for that table in any schema. Names are compared as PostgreSQL stores them (unquoted names are
 * folded to lower case when the policy is read).
 */
public record ColumnRef(Optional<String> schema, String table, String column) {

  public boolean matches(String schemaName, String tableName, String columnName) {
    return table.equals(tableName)
        && column.equals(columnName)
        && schema.map(schemaName::equals).orElse(true);
  }

  /** Whether the rule protects some column of this table. */
  public boolean inTable(String schemaName, String tableName) {
    return table.equals(tableName) && schema.map(schemaName::equals).orElse(true);
  }

  @Override
  public String toString() {
    return schema.map(s -> s + ".").orElse("") + table + "." + column;
  }
}
