package io.portcullis.node.replay;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.portcullis.node.replay.ReplayedStatement.Result;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * One session's replay: the journal's record of it, where it ran, and each statement's result.
 *
 * @param replay the journal's record, {@code Replay|<replay>}
 * @param sandbox {@code host:port/database}
 * @param committed whether its writes were committed
 */
public record ReplayReport(
    String replay,
    String session,
    String subject,
    String policyVersion,
    String sandbox,
    boolean committed,
    List<ReplayedStatement> statements) {

  public ReplayReport {
    statements = List.copyOf(statements);
  }

  /** How many statements had each result. */
  @JsonProperty("counts")
  public Map<Result, Integer> counts() {
    Map<Result, Integer> counts = new EnumMap<>(Result.class);
    for (Result result : Result.values()) {
      counts.put(result, 0);
    }
    statements.forEach(statement -> counts.merge(statement.result(), 1, Integer::sum));
    return counts;
  }

  /** Whether every statement that ran returned what the journal holds, and every one could run. */
  public boolean identical() {
    Map<Result, Integer> counts = counts();
    return counts.get(Result.DIFFERS) == 0 && counts.get(Result.NOT_REPLAYABLE) == 0;
  }

  /** {@code 42 statements: 40 identical, 2 differ}, then the others that occur. */
  @JsonProperty("summary")
  public String summary() {
    Map<Result, Integer> counts = counts();
    List<String> parts = new ArrayList<>();
    parts.add(counts.get(Result.IDENTICAL) + " identical");
    parts.add(counts.get(Result.DIFFERS) + " differ");
    if (counts.get(Result.DENIED) > 0) {
      parts.add(counts.get(Result.DENIED) + " denied (not run)");
    }
    if (counts.get(Result.SKIPPED) > 0) {
      parts.add(counts.get(Result.SKIPPED) + " skipped");
    }
    if (counts.get(Result.NOT_REPLAYABLE) > 0) {
      parts.add(counts.get(Result.NOT_REPLAYABLE) + " not replayable");
    }
    return statements.size() + " statements: " + String.join(", ", parts);
  }

  public void print(PrintWriter out) {
    out.printf(
        "replay %s of session %s (%s, policy %s) into %s, %s%n",
        replay,
        session,
        subject,
        policyVersion.substring(0, Math.min(policyVersion.length(), 19)),
        sandbox,
        committed ? "committed" : "rolled back");
    for (ReplayedStatement statement : statements) {
      out.printf(
          "%4d  %-14s  %-13s  %s%n",
          statement.statement(),
          statement.result().reportName(),
          statement.protocol(),
          oneLine(statement.sql()));
      for (String difference : statement.differences()) {
        out.println("        " + difference);
      }
      if (!statement.reason().isEmpty()) {
        out.println("        " + statement.reason());
      }
    }
    out.println(summary());
  }

  /** The statement on one line; control characters replaced, so it cannot drive the terminal. */
  private static String oneLine(String sql) {
    String line = sql.strip().replaceAll("\\s+", " ").replaceAll("[\\p{Cc}\\p{Cf}]", "\uFFFD");
    return line.length() <= 100 ? line : line.substring(0, 100) + "...";
  }
}
