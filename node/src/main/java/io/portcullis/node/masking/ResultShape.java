package io.portcullis.node.masking;

import io.portcullis.policy.masking.ColumnRule;
import io.portcullis.protocol.BackendMessage.RowDescription.Column;
import java.util.List;

/**
 * How each column of one result is masked: {@code rules[i]} is the rule of a protected column, or
 * null for a column whose values only pass the content detectors.
 */
record ResultShape(List<Column> columns, ColumnRule[] rules) {

  /** A shape in which no column is protected. */
  static ResultShape unprotected(List<Column> columns) {
    return new ResultShape(columns, new ColumnRule[columns.size()]);
  }

  boolean protectsAny() {
    for (ColumnRule rule : rules) {
      if (rule != null) {
        return true;
      }
    }
    return false;
  }
}
