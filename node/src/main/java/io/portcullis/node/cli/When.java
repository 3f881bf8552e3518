package io.portcullis.node.cli;

import io.portcullis.persistence.audit.index.TimeRange;
import java.time.Instant;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The {@code --since} and {@code --until} of every audit command, read alike: an ISO date (a whole
 * UTC day) or an instant, as {@link TimeRange} reads them.
 */
final class When {

  private When() {}

  /** A date means its first instant. */
  static final class Since implements ITypeConverter<Instant> {
    @Override
    public Instant convert(String value) {
      try {
        return TimeRange.since(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** A date means up to the end of that day. */
  static final class Until implements ITypeConverter<Instant> {
    @Override
    public Instant convert(String value) {
      try {
        return TimeRange.until(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
