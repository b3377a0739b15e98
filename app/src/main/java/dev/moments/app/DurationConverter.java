package dev.moments.app;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses a duration flag: a number with an optional unit, {@code ms}, {@code s}, {@code m} or
 * {@code h}; a plain number is seconds ({@code 600}, {@code 600s}, {@code 10m}, {@code 1h},
 * {@code 1.5s}, {@code 250ms}).
 */
public final class DurationConverter implements ITypeConverter<Duration> {
  private static final Pattern FORMAT = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?");

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  /** Parses {@code value}; throws picocli's conversion error with the accepted forms. */
  public static Duration parse(String value) {
    Matcher m = FORMAT.matcher(value == null ? "" : value.trim());
    if (!m.matches()) {
      throw new TypeConversionException("'" + value
          + "' is not a duration; use e.g. 600, 600s, 10m, 1h or 250ms");
    }
    double n = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    double ms = switch (unit) {
      case "ms" -> n;
      case "s" -> n * 1_000;
      case "m" -> n * 60_000;
      default -> n * 3_600_000;
    };
    return Duration.ofMillis(Math.round(ms));
  }
}
