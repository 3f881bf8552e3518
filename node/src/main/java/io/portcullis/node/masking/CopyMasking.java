package io.portcullis.node.masking;

import io.portcullis.node.audit.Completions;
import io.portcullis.policy.masking.ColumnRule;
import io.portcullis.protocol.WireMessage.CopyData;
import java.util.List;

/**
 * Masks the rows of one {@code COPY … TO STDOUT}.
 *
 * @param rules per column, the rule of a protected column or null
 * @param types per column, the type OID, 0 where unknown
 * @param everyColumn when the columns are unknown, the rule that masks every value; else null
 */
record CopyMasking(
    CopyRows rows,
    List<ColumnRule> rules,
    List<Integer> types,
    ColumnRule everyColumn,
    ValueMasking values) {

  /** The rows of {@code data} masked; how many values were replaced goes to {@code report}. */
  CopyData rewrite(CopyData data, Completions report) {
    boolean binary = rows instanceof CopyRows.Binary;
    int[] replaced = {0};
    byte[] rewritten =
        rows.rewrite(
            data.data(),
            (column, value) -> {
              byte[] result = field(column, binary, value);
              if (result != value) {
                replaced[0]++;
              }
              return result;
            });
    if (replaced[0] > 0) {
      report.masked(replaced[0]);
    }
    return rewritten == null ? data : new CopyData(rewritten);
  }

  private byte[] field(int column, boolean binary, byte[] value) {
    ColumnRule rule =
        everyColumn != null ? everyColumn : column < rules.size() ? rules.get(column) : null;
    int type = column < types.size() ? types.get(column) : 0;
    if (rule != null) {
      return type != 0
          ? values.protect(rule, type, binary, value)
          : maskUntyped(rule, binary, value);
    }
    if (type != 0) {
      return values.scan(type, binary, value);
    }
    return binary ? values.scanUntypedBinary(value) : values.scanText(value);
  }

  private byte[] maskUntyped(ColumnRule rule, boolean binary, byte[] value) {
    return binary ? null : values.protectText(rule, value);
  }
}
