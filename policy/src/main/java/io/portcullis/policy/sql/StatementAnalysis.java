package io.portcullis.policy.sql;

import java.util.Optional;
import java.util.Set;

/**
 * What one statement does, as far as policy is concerned. The sets over-approximate: a table that
 * appears anywhere a relation can appear is listed, whatever CTE, alias or comment surrounds it, so
 * a rule about a table cannot be evaded by how the statement is written.
 *
 * @param text the statement's exact text
 * @param kinds what it does: usually one kind, more when a read hides a write ({@code WITH d AS
 *     (DELETE …) SELECT …} is select and delete) or EXPLAIN ANALYZE runs a statement
 * @param tablesRead relations it reads, {@code schema.name} when qualified, else {@code name}
 * @param tablesWritten relations it inserts into, updates, deletes from, truncates, creates, alters
 *     or drops
 * @param columns names that may be columns (every name that is not a relation, function or keyword)
 * @param functions functions and procedures it calls, qualified when written so
 * @param setting for SET, RESET and SHOW, the parameter ({@code role}, {@code search_path}, …)
 * @param prepared for PREPARE and DECLARE, the statement or cursor name the analysis belongs to
 * @param executes for EXECUTE, the prepared statement it runs
 * @param signals risk signals found
 * @param unparsedReason why the statement is {@link StatementKind#UNPARSED}, in words a person can
 *     act on
 */
public record StatementAnalysis(
    String text,
    Set<StatementKind> kinds,
    Set<String> tablesRead,
    Set<String> tablesWritten,
    Set<String> columns,
    Set<String> functions,
    Optional<String> setting,
    Optional<String> prepared,
    Optional<String> executes,
    Set<RiskSignal> signals,
    Optional<String> unparsedReason) {

  public StatementAnalysis {
    kinds = Set.copyOf(kinds);
    tablesRead = Set.copyOf(tablesRead);
    tablesWritten = Set.copyOf(tablesWritten);
    columns = Set.copyOf(columns);
    functions = Set.copyOf(functions);
    signals = Set.copyOf(signals);
  }

  /** A statement of one kind that names nothing the analysis looks for (BEGIN, DO, FETCH, …). */
  public static StatementAnalysis of(String text, StatementKind kind) {
    return bare(text, kind, Optional.empty());
  }

  public static StatementAnalysis unparsed(String text, String reason) {
    return bare(text, StatementKind.UNPARSED, Optional.of(reason));
  }

  private static StatementAnalysis bare(
      String text, StatementKind kind, Optional<String> unparsedReason) {
    return new StatementAnalysis(
        text,
        Set.of(kind),
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Set.of(),
        unparsedReason);
  }

  public boolean isUnparsed() {
    return kinds.contains(StatementKind.UNPARSED);
  }

  /** The same analysis for another text of the same shape (constants differ). */
  public StatementAnalysis withText(String text) {
    return new StatementAnalysis(
        text,
        kinds,
        tablesRead,
        tablesWritten,
        columns,
        functions,
        setting,
        prepared,
        executes,
        signals,
        unparsedReason);
  }

  /** The same analysis with one more signal. */
  public StatementAnalysis withSignal(RiskSignal signal) {
    java.util.EnumSet<RiskSignal> more = java.util.EnumSet.of(signal);
    more.addAll(signals);
    return new StatementAnalysis(
        text,
        kinds,
        tablesRead,
        tablesWritten,
        columns,
        functions,
        setting,
        prepared,
        executes,
        more,
        unparsedReason);
  }
}
