package io.portcullis.node.replay;

import java.util.List;
import java.util.Locale;

/**
 * What replaying one recorded statement showed.
 *
 * @param statement its number in the session
 * @param differences for {@link Result#DIFFERS}, each field that differs, as {@code field: recorded
 *     → replayed}
 * @param reason why it was not run, for the results other than identical and differs
 */
public record ReplayedStatement(
    long statement,
    String protocol,
    String sql,
    Result result,
    List<String> differences,
    String reason) {

  public ReplayedStatement {
    differences = List.copyOf(differences);
  }

  public enum Result {
    IDENTICAL,
    DIFFERS,
    /** Refused when recorded (denied, or its approval denied or expired): listed, never run. */
    DENIED,
    /** Not run, on purpose: transaction control inside the replay's own transaction. */
    SKIPPED,
    /** Cannot be run as recorded: its values cannot be unsealed, or its data was not journaled. */
    NOT_REPLAYABLE;

    /** The name reports use: {@code not-replayable}. */
    public String reportName() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }
}
