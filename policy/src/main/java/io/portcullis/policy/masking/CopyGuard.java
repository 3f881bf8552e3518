package io.portcullis.policy.masking;

import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.masking.PredicateGuard.Violation;
import io.portcullis.policy.sql.StatementAnalysis;
import java.util.Optional;

/**
 * Masking protects a column where it is read; a statement that writes what it reads from a
 * protected column's table into another table ({@code INSERT … SELECT}, {@code CREATE TABLE … AS},
 * {@code UPDATE … FROM}) would put the values where no rule masks them. Such a statement is refused
 * for every identity the rule applies to (exempt identities see the values anyway). A write to the
 * protected table itself that copies one of its columns into another ({@code UPDATE customers SET
 * note = ssn}) is not seen: see docs/masking.md.
 */
public final class CopyGuard {

  private CopyGuard() {}

  /** Why the statement is refused, or empty when it may run. */
  public static Optional<Violation> violation(SessionMasking masking, StatementAnalysis statement) {
    if (statement.tablesWritten().isEmpty()) {
      return Optional.empty();
    }
    for (ColumnRule rule : masking.columns()) {
      for (ColumnRef ref : rule.columns()) {
        if (ref.tableAmong(statement.tablesRead())) {
          return Optional.of(
              new Violation(
                  rule.id(),
                  "the statement writes "
                      + String.join(", ", statement.tablesWritten())
                      + " from "
                      + ref.table()
                      + ", whose column "
                      + ref
                      + " is protected by masking rule "
                      + rule.id()
                      + ": protected values may not be copied where no rule masks them"));
        }
      }
    }
    return Optional.empty();
  }
}
