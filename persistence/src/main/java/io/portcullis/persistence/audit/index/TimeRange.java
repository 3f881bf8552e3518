package io.portcullis.persistence.audit.index;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/** A half-open time range, {@code [since, until)}, of audit queries. */
public record TimeRange(Instant since, Instant until) {

  private static final Instant BEGINNING = Instant.EPOCH;
  private static final Instant END = Instant.parse("9999-12-31T00:00:00Z");

  public TimeRange {
    if (!since.isBefore(until)) {
      throw new IllegalArgumentException(
          "the time range is empty: since "
              + since
              + " is not before until "
              + until
              + " (did you swap them?)");
    }
  }

  /**
   * Parses the bounds as given on the command line or in a query string: an ISO date ({@code
   * 2026-11-01}, a whole UTC day, so that {@code until} a date includes that day) or an instant
   * ({@code 2026-11-01T09:30:00Z}, or with an offset). A missing bound leaves that side open.
   */
  public static TimeRange parse(Optional<String> since, Optional<String> until) {
    return new TimeRange(
        since.map(TimeRange::since).orElse(BEGINNING), until.map(TimeRange::until).orElse(END));
  }

  /** The start of a range: an ISO date (from its first instant, UTC) or an instant. */
  public static Instant since(String text) {
    return instant(text, "since", false);
  }

  /** The end of a range, excluded: an ISO date (up to the end of that UTC day) or an instant. */
  public static Instant until(String text) {
    return instant(text, "until", true);
  }

  private static Instant instant(String text, String name, boolean end) {
    try {
      if (text.length() == 10) {
        LocalDate day = LocalDate.parse(text);
        return (end ? day.plusDays(1) : day).atStartOfDay(ZoneOffset.UTC).toInstant();
      }
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          name
              + " '"
              + text
              + "' is neither an ISO date (2026-11-01) nor an instant (2026-11-01T09:30:00Z)");
    }
  }
}
