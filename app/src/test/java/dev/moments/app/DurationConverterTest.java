package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class DurationConverterTest {
  @Test
  void plain_numbers_are_seconds_and_units_are_understood() {
    assertThat(DurationConverter.parse("600")).isEqualTo(Duration.ofSeconds(600));
    assertThat(DurationConverter.parse("600s")).isEqualTo(Duration.ofSeconds(600));
    assertThat(DurationConverter.parse("10m")).isEqualTo(Duration.ofMinutes(10));
    assertThat(DurationConverter.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(DurationConverter.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(DurationConverter.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
  }

  @Test
  void anything_else_is_rejected_with_the_accepted_forms() {
    assertThatThrownBy(() -> DurationConverter.parse("ten minutes"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessage("'ten minutes' is not a duration; use e.g. 600, 600s, 10m, 1h or 250ms");
    assertThatThrownBy(() -> DurationConverter.parse("-5s"))
        .isInstanceOf(TypeConversionException.class);
  }
}
