package io.portcullis.policy.masking;

import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.sql.LexedStatement;
import io.portcullis.policy.sql.SqlLexer;
import io.portcullis.policy.sql.SqlSyntaxException;
import io.portcullis.policy.sql.StatementAnalysis;
import io.portcullis.policy.sql.Token;
import java.util.Collections;
import java.util.Optional;
import java.util.Set;

/**
 * Masking hides values, not what a statement infers from them: {@code WHERE ssn LIKE '123%'} or
 * {@code ORDER BY ssn} reveal a protected column through which rows come back. For the groups a
 * rule names in {@code deny-predicates-for}, a statement that reads the rule's table may name the
 * protected column only in its top-level select list (where the value is masked); anywhere else
 * (WHERE, JOIN … ON, GROUP BY, HAVING, ORDER BY, window clauses, sub-queries, CTEs) the statement
 * is refused. The check is by name, so it over-approximates: another table's column of the same
 * name in the same statement counts too.
 */
public final class PredicateGuard {

  private static final Set<String> CLAUSES_AFTER_SELECT_LIST =
      Set.of(
          "from",
          "where",
          "group",
          "having",
          "window",
          "order",
          "limit",
          "offset",
          "fetch",
          "for",
          "into",
          "union",
          "intersect",
          "except",
          "returning");

  /** Inside a select list, what starts a sub-query, window, aggregate order or filter. */
  private static final Set<String> NESTED_CLAUSES = Set.of("select", "order", "partition", "where");

  private PredicateGuard() {}

  /** A statement refused by masking rule {@code ruleId}. */
  public record Violation(String ruleId, String reason) {}

  /**
   * Why the statement is refused, or empty when it may run.
   *
   * @param standardConformingStrings the session's setting, which decides where its strings end
   */
  public static Optional<Violation> violation(
      SessionMasking masking,
      Set<String> groups,
      StatementAnalysis statement,
      boolean standardConformingStrings) {
    for (ColumnRule rule : masking.columns()) {
      if (Collections.disjoint(rule.denyPredicatesFor(), groups)) {
        continue;
      }
      for (ColumnRef ref : rule.columns()) {
        if (reads(statement, ref)
            && namedOutsideSelectList(statement.text(), ref.column(), standardConformingStrings)) {
          return Optional.of(
              new Violation(
                  rule.id(),
                  "column "
                      + ref
                      + " is protected by masking rule "
                      + rule.id()
                      + ": it may be selected (masked) but not used to filter, join, group or"
                      + " sort"));
        }
      }
    }
    return Optional.empty();
  }

  private static boolean reads(StatementAnalysis statement, ColumnRef ref) {
    return ref.tableAmong(statement.tablesRead()) || ref.tableAmong(statement.tablesWritten());
  }

  private static boolean namedOutsideSelectList(
      String text, String column, boolean standardConformingStrings) {
    try {
      for (LexedStatement lexed : SqlLexer.split(text, standardConformingStrings)) {
        if (namedOutsideSelectList(lexed, column)) {
          return true;
        }
      }
      return false;
    } catch (SqlSyntaxException e) {
      // The policy refuses what it cannot lex anyway; nothing here can say otherwise.
      return true;
    }
  }

  private static boolean namedOutsideSelectList(LexedStatement statement, String column) {
    boolean inSelectList = false;
    // Within the select list, the depth of a nested clause being read, else -1.
    int subqueryDepth = -1;
    for (Token token : statement.tokens()) {
      if (subqueryDepth >= 0 && token.depth() < subqueryDepth) {
        subqueryDepth = -1;
      }
      if (token.depth() == 0 && token.type() == Token.Type.WORD) {
        if (token.value().equals("select")) {
          inSelectList = true;
          continue;
        }
        if (CLAUSES_AFTER_SELECT_LIST.contains(token.value())) {
          inSelectList = false;
        }
      }
      if (inSelectList
          && subqueryDepth < 0
          && token.depth() > 0
          && token.type() == Token.Type.WORD
          && NESTED_CLAUSES.contains(token.value())) {
        subqueryDepth = token.depth();
      }
      if (token.isName() && token.value().equals(column) && (!inSelectList || subqueryDepth >= 0)) {
        return true;
      }
    }
    return false;
  }
}
