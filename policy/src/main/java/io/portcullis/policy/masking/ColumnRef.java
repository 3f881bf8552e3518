package io.portcullis.policy.masking;

import java.util.Optional;
import java.util.Set;

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

  /**
   * Whether one of a statement's table names ({@code schema.name}, or {@code name} in any schema)
   * may be this column's table.
   */
  public boolean tableAmong(Set<String> tables) {
    for (String table : tables) {
      int dot = table.lastIndexOf('.');
      String schemaName = dot < 0 ? null : table.substring(0, dot);
      if (this.table.equals(table.substring(dot + 1))
          && (schemaName == null || schema.map(schemaName::equals).orElse(true))) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return schema.map(s -> s + ".").orElse("") + table + "." + column;
  }
}
