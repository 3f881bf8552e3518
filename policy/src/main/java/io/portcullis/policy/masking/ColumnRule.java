package io.portcullis.policy.masking;

import java.util.List;
import java.util.Set;

/**
 * A rule of the policy's {@code masking.columns}: values that come from these columns, directly or
 * computed from them, are masked.
 *
 * @param exemptGroups identities in one of these groups see the values in clear (and the session
 *     records the exemption)
 * @param maskUnknownLineage whether a computed result column is masked when the gateway cannot tell
 *     what it is computed from, in a statement that reads one of these columns' tables
 * @param denyPredicatesFor groups whose statements may not filter, join, group or sort on these
 *     columns (inference through WHERE and ORDER BY cannot be masked)
 */
public record ColumnRule(
    String id,
    List<ColumnRef> columns,
    MaskStrategy strategy,
    Set<String> exemptGroups,
    boolean maskUnknownLineage,
    Set<String> denyPredicatesFor) {

  public ColumnRule {
    columns = List.copyOf(columns);
    exemptGroups = Set.copyOf(exemptGroups);
    denyPredicatesFor = Set.copyOf(denyPredicatesFor);
  }

  public boolean protects(String schema, String table, String column) {
    for (ColumnRef ref : columns) {
      if (ref.matches(schema, table, column)) {
        return true;
      }
    }
    return false;
  }

  public boolean protectsSomeColumnOf(String schema, String table) {
    for (ColumnRef ref : columns) {
      if (ref.inTable(schema, table)) {
        return true;
      }
    }
    return false;
  }
}
