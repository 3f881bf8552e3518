package io.portcullis.policy.masking;

import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.masking.PredicateGuard.Violation;
import io.portcullis.policy.sql.StatementAnalysis;
import io.portcullis.policy.sql.StatementKind;
import java.util.Optional;

/**
 * Masking protects a column where it is read; a statement that writes what it reads from a
 * protected column's table into another table ({@code INSERT … SELECT}, {@code CREATE TABLE … AS},
 * {@code UPDATE … FROM}) would put the values where no rule masks them. Such a statement is refused
 * for every identity the rule applies to (exempt identities see the values anyway). So is one whose
 * reads cannot be seen: a write calling a function whose body the catalog cannot follow, and a
 * {@code DO} block, whose code may write anything it reads. A write to the protected table itself
 * that copies one of its columns into another ({@code UPDATE customers SET note = ssn}) is not
 * seen: see docs/masking.md.
 */
public final class CopyGuard {

  private CopyGuard() {}

  /**
   * Why the statement is refused, or empty when it may run.
   *
   * @param unreadable whether it calls a function whose reads the catalog cannot follow
   */
  public static Optional<Violation> violation(
      SessionMasking masking, StatementAnalysis statement, boolean unreadable) {
    if (masking.columns().isEmpty()) {
      return Optional.empty();
    }
    ColumnRule first = masking.columns().get(0);
    if (statement.kinds().contains(StatementKind.DO)) {
      return Optional.of(
          new Violation(
              first.id(),
              "a DO block runs code the gateway cannot read, which could copy values protected by"
                  + " masking rule "
                  + first.id()
                  + " where no rule masks them; run it as an identity the rule exempts"));
    }
    if (statement.tablesWritten().isEmpty()) {
      return Optional.empty();
    }
    if (unreadable) {
      return Optional.of(
          new Violation(
              first.id(),
              "the statement writes "
                  + String.join(", ", statement.tablesWritten())
                  + " with a function whose reads the gateway cannot follow (not written in SQL,"
                  + " or made since the catalog was read), which could copy values protected by"
                  + " masking rule "
                  + first.id()
                  + " where no rule masks them"));
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
