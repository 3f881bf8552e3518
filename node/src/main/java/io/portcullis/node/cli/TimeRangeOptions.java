package io.portcullis.node.cli;

import io.portcullis.persistence.audit.index.TimeRange;
import java.time.Instant;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code --since} and {@code --until} of the audit commands that query a time range. */
final class TimeRangeOptions {

  @Option(
      names = "--since",
      paramLabel = "WHEN",
      description = "An ISO date (2026-11-01, from the start of that UTC day) or instant.")
  String since;

  @Option(
      names = "--until",
      paramLabel = "WHEN",
      description = "An ISO date (up to the end of that UTC day) or instant, excluded.")
  String until;

  /**
   * Refuses {@code --until} not after {@code --since} (either may be null: not given), with the
   * message every audit command gives.
   */
  static void requireOrdered(CommandLine command, Instant since, Instant until) {
    if (since != null && until != null) {
      try {
        new TimeRange(since, until);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(command, e.getMessage());
      }
    }
  }

  /** The range given, open on a side not given; an invalid or empty one throws. */
  TimeRange range() {
    return TimeRange.parse(Optional.ofNullable(since), Optional.ofNullable(until));
  }
}
