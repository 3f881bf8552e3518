package io.portcullis.node.masking;

import java.util.Set;

/**
 * The base-table data one output column of a statement is computed from.
 *
 * @param columns the base columns the value is computed from
 * @param wholeRows the base relations whose whole row the value is computed from
 * @param complete false when some reference in the expression could not be traced to base
 *     relations, so the sets may miss something and the column must be treated as sensitive
 */
public record ColumnLineage(
    Set<SourceColumn> columns, Set<SourceTable> wholeRows, boolean complete) {

  /** Nothing is known: the value must be treated as sensitive. */
  public static final ColumnLineage UNKNOWN = new ColumnLineage(Set.of(), Set.of(), false);

  public ColumnLineage {
    columns = Set.copyOf(columns);
    wholeRows = Set.copyOf(wholeRows);
  }
}
