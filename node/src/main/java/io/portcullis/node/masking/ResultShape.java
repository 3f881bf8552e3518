package io.portcullis.node.masking;

import io.portcullis.policy.masking.ColumnRule;
import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.protocol.BackendMessage.RowDescription.Column;
import java.util.List;

/**
 * How each column of one result is masked: {@code rules[i]} is the rule of a protected column, or
 * null for a column whose values only pass the content detectors.
 *
 * @param under the masking rules the shape was worked out with
 */
record ResultShape(List<Column> columns, ColumnRule[] rules, SessionMasking under) {

  /** A shape in which no column is protected. */
  static ResultShape unprotected(List<Column> columns, SessionMasking under) {
    return new ResultShape(columns, new ColumnRule[columns.size()], under);
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
