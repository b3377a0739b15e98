package dev.moments.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
  @Test
  void warms_up_linearly_then_decays_as_a_cosine_to_zero() {
    LrSchedule s = new LrSchedule(1e-3, 4, 14);
    assertThat(s.at(0)).isCloseTo(0.25e-3, within(1e-12));
    assertThat(s.at(3)).isCloseTo(1e-3, within(1e-12));
    assertThat(s.at(4)).isCloseTo(1e-3, within(1e-12));
    // half-way through the 10 decay steps: 0.5 * (1 + cos(pi/2)) = 0.5
    assertThat(s.at(9)).isCloseTo(0.5e-3, within(1e-12));
    assertThat(s.at(14)).isCloseTo(0, within(1e-12));
  }
}
