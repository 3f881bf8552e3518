package io.portcullis.policy.rules;

import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.sql.RiskSignal;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.StatementAnalysis;
import io.portcullis.policy.sql.StatementKind;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The {@code when} of a rule. Every condition that is set must hold; an empty list or absent value
 * is no condition.
 *
 * <p>Conditions on what the statement contains (kinds, tables, columns, functions, settings) are
 * read in the safe direction for each decision: a {@code deny} or {@code review} rule matches when
 * the statement has <em>any</em> of the listed items; an {@code allow} rule matches only when
 * <em>everything</em> the statement has of that sort is listed. So an allow rule never lets through
 * more than it names, and a deny rule cannot be dodged by adding something harmless.
 *
 * <p>Names follow PostgreSQL: {@code bank.customers} covers {@code bank.customers} and an
 * unqualified {@code customers} (whatever the search_path), and {@code customers} covers it in any
 * schema. A column {@code customers.ssn} is referenced when the statement touches {@code customers}
 * and names {@code ssn}, selects {@code *} or uses a whole row.
 *
 * <p>An unparsed statement matches an allow or review rule only when the rule names kind {@code
 * unparsed} (an allow rule never one over {@link SqlAnalyzer#MAX_STATEMENT_CHARS} characters, which
 * nothing read). A deny rule also matches it on whatever the token walk saw in it, so that a
 * statement made unparseable on purpose cannot carry a denied function, setting or write past a
 * rule that allows unparsed statements.
 */
public record Conditions(
    Set<String> subjects,
    Set<String> issuers,
    Set<String> groups,
    Optional<Boolean> agent,
    Set<String> targets,
    List<AddressRange> clientAddresses,
    Set<String> applicationNames,
    Optional<TimeWindow> time,
    Set<StatementKind> kinds,
    Set<String> tables,
    Set<String> tablesWritten,
    Set<String> columns,
    Set<String> functions,
    Set<String> settings,
    Set<RiskSignal> signals,
    OptionalInt longerThan) {

  public Conditions {
    subjects = Set.copyOf(subjects);
    issuers = Set.copyOf(issuers);
    groups = Set.copyOf(groups);
    targets = Set.copyOf(targets);
    clientAddresses = List.copyOf(clientAddresses);
    applicationNames = Set.copyOf(applicationNames);
    kinds = Set.copyOf(kinds);
    tables = Set.copyOf(tables);
    tablesWritten = Set.copyOf(tablesWritten);
    columns = Set.copyOf(columns);
    functions = Set.copyOf(functions);
    settings = Set.copyOf(settings);
    signals = Set.copyOf(signals);
  }

  boolean matches(StatementContext context, StatementAnalysis statement, Decision decision) {
    return matchesContext(context) && matchesStatement(statement, decision);
  }

  private boolean matchesContext(StatementContext context) {
    Identity identity = context.identity();
    return (subjects.isEmpty() || subjects.contains(identity.subject()))
        && (issuers.isEmpty() || issuers.contains(identity.issuer()))
        && (groups.isEmpty() || !java.util.Collections.disjoint(groups, identity.groups()))
        && (agent.isEmpty() || agent.get() == identity.agent())
        && (targets.isEmpty() || targets.contains(context.target()))
        && (clientAddresses.isEmpty()
            || clientAddresses.stream().anyMatch(r -> r.contains(context.clientAddress())))
        && (applicationNames.isEmpty() || applicationNames.contains(context.applicationName()))
        && (time.isEmpty() || time.get().contains(context.at()));
  }

  private boolean matchesStatement(StatementAnalysis statement, Decision decision) {
    boolean allow = decision == Decision.ALLOW;
    if (statement.isUnparsed()) {
      // Unparsed statements are a class of their own: only a rule that names them allows them (or
      // sends them for review), and no rule allows one too long to have been read at all.
      if (kinds.contains(StatementKind.UNPARSED)) {
        return !allow || statement.text().length() <= SqlAnalyzer.MAX_STATEMENT_CHARS;
      }
      if (allow) {
        return false;
      }
      if (decision == Decision.REVIEW) {
        // Judged as of unknown content: what the walk saw must not turn a denial into a review.
        if (!kinds.isEmpty()) {
          return false;
        }
        statement = StatementAnalysis.unparsed(statement.text(), "");
      }
      // A deny rule applies to whatever the walk saw in it (kinds, tables, functions, signals).
    }
    boolean matches =
        sets(kinds, statement.kinds(), allow, StatementKind::equals)
            && tablesMatch(statement, allow)
            && sets(tablesWritten, statement.tablesWritten(), allow, Conditions::tableCovers)
            && sets(functions, statement.functions(), allow, Conditions::functionCovers)
            && sets(
                settings, statement.setting().map(Set::of).orElse(Set.of()), allow, String::equals)
            && columnsMatch(statement, allow);
    if (!matches || allow) {
      return matches;
    }
    return (signals.isEmpty() || !java.util.Collections.disjoint(signals, statement.signals()))
        && (longerThan.isEmpty()
            || statement.text().getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                > longerThan.getAsInt());
  }

  /**
   * Any-of for deny and review; all-of (everything the statement has is listed) for allow. Loops,
   * not streams: this runs for every rule of every statement.
   */
  private static <R, S> boolean sets(
      Set<R> listed, Set<S> present, boolean allow, java.util.function.BiPredicate<R, S> covers) {
    if (listed.isEmpty()) {
      return true;
    }
    for (S item : present) {
      if (covered(listed, item, covers) != allow) {
        return !allow;
      }
    }
    return allow;
  }

  private static <R, S> boolean covered(
      Set<R> listed, S item, java.util.function.BiPredicate<R, S> covers) {
    for (R entry : listed) {
      if (covers.test(entry, item)) {
        return true;
      }
    }
    return false;
  }

  /** {@code tables} against every table the statement reads or writes. */
  private boolean tablesMatch(StatementAnalysis statement, boolean allow) {
    if (tables.isEmpty()) {
      return true;
    }
    boolean read = sets(tables, statement.tablesRead(), allow, Conditions::tableCovers);
    boolean written = sets(tables, statement.tablesWritten(), allow, Conditions::tableCovers);
    if (allow) {
      return read && written;
    }
    // Any-of over both sets; sets() of an empty set is false for any-of.
    return read || written;
  }

  private static boolean touches(StatementAnalysis statement, String table) {
    for (String t : statement.tablesRead()) {
      if (tableCovers(table, t)) {
        return true;
      }
    }
    for (String t : statement.tablesWritten()) {
      if (tableCovers(table, t)) {
        return true;
      }
    }
    return false;
  }

  private boolean columnsMatch(StatementAnalysis statement, boolean allow) {
    if (columns.isEmpty()) {
      return true;
    }
    if (allow) {
      return statement.columns().stream()
          .allMatch(
              column ->
                  columns.stream()
                      .anyMatch(
                          listed ->
                              !column.equals("*") && columnName(listed).equals(last(column))));
    }
    for (String listed : columns) {
      int dot = listed.lastIndexOf('.');
      if (dot > 0) {
        String table = listed.substring(0, dot);
        if (!touches(statement, table)) {
          continue;
        }
      }
      String name = columnName(listed);
      if (statement.columns().contains("*")
          || statement.columns().stream().anyMatch(c -> last(c).equals(name))) {
        return true;
      }
    }
    return false;
  }

  private static String columnName(String listed) {
    return last(listed);
  }

  private static String last(String name) {
    int dot = name.lastIndexOf('.');
    return dot < 0 ? name : name.substring(dot + 1);
  }

  /** {@code bank.customers} covers {@code bank.customers} and {@code customers}. */
  static boolean tableCovers(String listed, String table) {
    if (listed.equals(table)) {
      return true;
    }
    boolean listedQualified = listed.indexOf('.') > 0;
    boolean tableQualified = table.indexOf('.') > 0;
    if (listedQualified && !tableQualified) {
      return last(listed).equals(table);
    }
    if (!listedQualified && tableQualified) {
      return listed.equals(last(table));
    }
    return false;
  }

  /** Function names match with or without a schema, either way. */
  static boolean functionCovers(String listed, String function) {
    return last(listed).equals(last(function));
  }
}
