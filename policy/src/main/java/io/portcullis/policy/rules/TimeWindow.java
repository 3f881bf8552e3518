package io.portcullis.policy.rules;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.Set;

/**
 * Days and hours in a time zone, e.g. Monday to Friday 08:00–18:00 Europe/London. A window whose
 * end is before its start runs over midnight.
 */
public record TimeWindow(Set<DayOfWeek> days, LocalTime from, LocalTime to, ZoneId zone) {

  public TimeWindow {
    days = Set.copyOf(days);
  }

  public boolean contains(Instant instant) {
    ZonedDateTime local = instant.atZone(zone);
    LocalTime time = local.toLocalTime();
    if (!from.isAfter(to)) {
      return days.contains(local.getDayOfWeek()) && !time.isBefore(from) && time.isBefore(to);
    }
    // Over midnight: the part after midnight belongs to the previous day's window.
    if (!time.isBefore(from)) {
      return days.contains(local.getDayOfWeek());
    }
    return time.isBefore(to) && days.contains(local.getDayOfWeek().minus(1));
  }
}
