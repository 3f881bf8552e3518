package io.portcullis.policy.masking;

import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.masking.PredicateGuard.Violation;
import io.portcullis.policy.sql.LexedStatement;
import io.portcullis.policy.sql.RiskSignal;
import io.portcullis.policy.sql.SqlLexer;
import io.portcullis.policy.sql.SqlSyntaxException;
import io.portcullis.policy.sql.StatementAnalysis;
import io.portcullis.policy.sql.StatementKind;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Masking protects a column where it is read; a statement that writes what it reads from a
 * protected column's table into another table ({@code INSERT … SELECT}, {@code CREATE TABLE … AS},
 * {@code UPDATE … FROM}) would put the values where no rule masks them. Such a statement is refused
 * for every identity the rule applies to (exempt identities see the values anyway). So is one whose
 * reads cannot be seen: a write calling a function whose body the catalog cannot follow, and a
 * {@code DO} block, whose code may write anything it reads.
 *
 * <p>A write to the protected table itself reads no other table, but an assignment can copy a
 * protected column into another column of its row: {@code UPDATE customers SET note = ssn}, also in
 * {@code SET (a, b) = (…)}, {@code ON CONFLICT … DO UPDATE SET} and {@code MERGE … THEN UPDATE
 * SET}. In a statement that writes the column's table, an assignment is refused when its value
 * names the column (qualified or not, in any expression or sub-query) or a whole row of a written
 * relation ({@code c}, {@code c.*}, {@code to_jsonb(c)}), and it assigns any column but that one:
 * {@code SET ssn = upper(ssn)} keeps the value where the rule masks it, while another protected
 * column may be masked less ({@code SET ssn = card_number} would show the card's last digits as the
 * SSN's). {@code excluded.ssn} in an upsert is the row the statement itself proposes, from its own
 * {@code VALUES} or from a query judged above, so it is allowed. WHERE, FROM and RETURNING are not
 * assignments: filters are inference ({@link PredicateGuard}), and what RETURNING sends the client
 * is masked. A RETURNING in a WITH query, though, hands its rows to the rest of the statement
 * ({@code WITH d AS (DELETE FROM customers RETURNING *) INSERT INTO customers (id, note) SELECT id,
 * ssn FROM d}): when the statement has another write, or writes more than one table (also through a
 * view or a function), such a RETURNING that names the column or returns a whole row ({@code *}) is
 * refused.
 *
 * <p>The checks are by name, so they over-approximate: any use of the column in the value counts (a
 * test like {@code ssn IS NULL} too), and so does another table's column of the same name, or a
 * {@code RETURNING *} of another table. They read only the statement's own text: an updatable view
 * that renames the column, and a function whose body makes the copy, are not seen through.
 */
public final class CopyGuard {

  private CopyGuard() {}

  /**
   * Why the statement is refused, or empty when it may run.
   *
   * @param unreadable whether it calls a function whose reads the catalog cannot follow
   * @param standardConformingStrings the session's setting, to read the statement's text as the
   *     server does
   */
  public static Optional<Violation> violation(
      SessionMasking masking,
      StatementAnalysis statement,
      boolean unreadable,
      boolean standardConformingStrings) {
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
    if (statement.kinds().contains(StatementKind.DDL)) {
      Optional<Violation> redefined = redefinition(masking, statement);
      if (redefined.isPresent()) {
        return redefined;
      }
    }
    String targets =
        statement.kinds().contains(StatementKind.COPY_OUT)
                && statement.signals().contains(RiskSignal.SERVER_SIDE_IO)
            ? "a file or program on the server"
            : String.join(", ", statement.tablesWritten());
    if (targets.isEmpty()) {
      return Optional.empty();
    }
    if (unreadable) {
      return Optional.of(
          new Violation(
              first.id(),
              "the statement writes "
                  + targets
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
                      + targets
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
    return copyWithinTable(masking, statement, standardConformingStrings);
  }

  /**
   * DDL that names a protected column's table, or the schema a rule names it in: renaming or moving
   * either takes the column out of the rule's reach (rules match names), and {@code ALTER COLUMN …
   * USING}, generated columns, rewrite rules, triggers, inheritance and partitions can copy its
   * values into columns no rule protects. Names are matched wherever the statement has them, so
   * this over-approximates ({@code CREATE INDEX}, {@code GRANT} and a column named like the table
   * count too).
   */
  private static Optional<Violation> redefinition(
      SessionMasking masking, StatementAnalysis statement) {
    // The analysis lists a qualified name's last part too: other.customers is not customers.
    Set<String> names = new HashSet<>(statement.columns());
    for (String name : statement.columns()) {
      int dot = name.lastIndexOf('.');
      if (dot >= 0) {
        names.remove(name.substring(dot + 1));
      }
    }
    for (ColumnRule rule : masking.columns()) {
      for (ColumnRef ref : rule.columns()) {
        if (ref.tableAmong(statement.tablesWritten())
            || ref.tableAmong(names)
            || ref.schema().filter(names::contains).isPresent()) {
          return Optional.of(
              new Violation(
                  rule.id(),
                  "the statement changes the definition of "
                      + ref.schema().map(s -> s + ".").orElse("")
                      + ref.table()
                      + " or of its schema, whose column "
                      + ref
                      + " is protected by masking rule "
                      + rule.id()
                      + ": a rename would take the column out of the rule's reach, and"
                      + " conversions, generated columns, rules, triggers, inheritance or"
                      + " partitions could copy its values where no rule masks them; run it as"
                      + " an identity the rule exempts"));
        }
      }
    }
    return Optional.empty();
  }

  /** An assignment that copies a protected column into another column of the table it writes. */
  private static Optional<Violation> copyWithinTable(
      SessionMasking masking, StatementAnalysis statement, boolean standardConformingStrings) {
    if (masking.columns().stream()
        .flatMap(rule -> rule.columns().stream())
        .noneMatch(ref -> ref.tableAmong(statement.tablesWritten()))) {
      return Optional.empty();
    }
    List<WriteClauses> clauses = new ArrayList<>();
    String unreadable = null;
    try {
      for (LexedStatement lexed : SqlLexer.split(statement.text(), standardConformingStrings)) {
        clauses.add(WriteClauses.of(lexed.tokens()));
      }
    } catch (SqlSyntaxException e) {
      // The policy refuses what it cannot lex anyway; nothing here can say otherwise.
      unreadable = e.getMessage();
    }
    for (ColumnRule rule : masking.columns()) {
      for (ColumnRef ref : rule.columns()) {
        if (!ref.tableAmong(statement.tablesWritten())) {
          continue;
        }
        if (unreadable != null) {
          return Optional.of(
              new Violation(
                  rule.id(),
                  "the statement writes "
                      + ref.table()
                      + ", whose column "
                      + ref
                      + " is protected by masking rule "
                      + rule.id()
                      + ", and cannot be read to tell what it assigns: "
                      + unreadable));
        }
        for (WriteClauses clause : clauses) {
          for (WriteClauses.Assignment assignment : clause.assignments()) {
            Optional<String> read = assignment.reads(ref.column(), clause.rowNames());
            if (read.isPresent()
                && assignment.targets().stream().anyMatch(t -> !t.equals(ref.column()))) {
              return Optional.of(
                  new Violation(
                      rule.id(),
                      "the statement sets "
                          + String.join(", ", assignment.targets())
                          + " from "
                          + (read.get().equals(ref.column())
                              ? ""
                              : "the whole row " + read.get() + ", which holds ")
                          + ref
                          + ", protected by masking rule "
                          + rule.id()
                          + ": a protected value may be assigned only to its own column, since"
                          + " no rule (or a weaker one) masks it in any other"));
            }
          }
          Optional<String> returned = clause.returnedInWith(ref.column());
          if (returned.isPresent()
              && (clause.writes() > 1 || statement.tablesWritten().size() > 1)) {
            return Optional.of(
                new Violation(
                    rule.id(),
                    "the statement passes "
                        + (returned.get().equals(ref.column())
                            ? ""
                            : "a whole row (" + returned.get() + ") holding ")
                        + ref
                        + ", protected by masking rule "
                        + rule.id()
                        + ", from the RETURNING of a WITH query to the rest of the statement, which"
                        + " writes too: protected values may not be copied where no rule masks"
                        + " them; return them from a statement that writes nothing else"));
          }
        }
      }
    }
    return Optional.empty();
  }
}
