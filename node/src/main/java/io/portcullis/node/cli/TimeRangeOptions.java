package io.portcullis.node.cli;

import io.portcullis.persistence.audit.index.TimeRange;
import java.util.Optional;
import picocli.CommandLine.Option;

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

  /** The range given, open on a side not given; an invalid or empty one throws. */
  TimeRange range() {
    return TimeRange.parse(Optional.ofNullable(since), Optional.ofNullable(until));
  }
}
