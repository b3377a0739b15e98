package dev.moments.api.http;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/** Time parameters: ISO-8601 instants ({@code 2025-05-01T10:00:00Z}, offsets allowed) or epoch milliseconds. */
public final class Times {
  private Times() {}

  /** A parsed time parameter. */
  public record EpochMs(long value) {}

  /**
   * Parses a time.
   *
   * @throws IllegalArgumentException when the text is neither ISO-8601 nor epoch ms
   */
  public static EpochMs parse(String text) {
    String s = text.strip();
    if (s.matches("-?\\d{1,18}")) {
      return new EpochMs(Long.parseLong(s));
    }
    Instant instant;
    try {
      instant = Instant.parse(s);
    } catch (DateTimeParseException e) {
      try {
        instant = OffsetDateTime.parse(s).toInstant();
      } catch (DateTimeParseException e2) {
        throw new IllegalArgumentException(
            "'" + text + "' is not a time (ISO-8601 such as 2025-05-01T10:00:00Z, or epoch ms)");
      }
    }
    try {
      return new EpochMs(instant.toEpochMilli());
    } catch (ArithmeticException | DateTimeException e) {
      throw new IllegalArgumentException("'" + text + "' is not a time: out of range (epoch ms must fit in 64 bits)");
    }
  }

  /** ISO-8601 UTC text of an epoch ms time. */
  public static String iso(long epochMs) {
    return Instant.ofEpochMilli(epochMs).toString();
  }
}
