package dev.moments.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class IntervalsTest {
  @Test
  void intervals_stay_between_neighbour_midpoints_and_use_the_window_edges_at_the_ends() {
    // narrations at 10, 20, 40 in a window [0, 50]:
    //   starts: [0, 10], [15, 20], [30, 40]   ends: [10, 15], [20, 30], [40, 50]
    double[] times = {10, 20, 40};
    double[][] lo = {{0, 10}, {15, 20}, {30, 40}};
    double[][] hi = {{10, 15}, {20, 30}, {40, 50}};
    double[][] min = {{99, 99}, {99, 99}, {99, 99}};
    double[][] max = {{-1, -1}, {-1, -1}, {-1, -1}};
    double[][] sum = new double[3][2];
    Random rnd = new Random(3);
    int n = 4000;
    for (int k = 0; k < n; k++) {
      double[][] iv = Intervals.sample(times, 0, 50, rnd);
      for (int i = 0; i < 3; i++) {
        for (int s = 0; s < 2; s++) {
          min[i][s] = Math.min(min[i][s], iv[i][s]);
          max[i][s] = Math.max(max[i][s], iv[i][s]);
          sum[i][s] += iv[i][s];
        }
        assertThat(iv[i][0]).isBetween(lo[i][0], lo[i][1]);
        assertThat(iv[i][1]).isBetween(hi[i][0], hi[i][1]);
      }
    }
    for (int i = 0; i < 3; i++) {
      // uniform: the sample range nearly fills the allowed range and the mean is its centre
      assertThat(min[i][0]).isCloseTo(lo[i][0], within(0.05 * (lo[i][1] - lo[i][0])));
      assertThat(max[i][0]).isCloseTo(lo[i][1], within(0.05 * (lo[i][1] - lo[i][0])));
      assertThat(min[i][1]).isCloseTo(hi[i][0], within(0.05 * (hi[i][1] - hi[i][0])));
      assertThat(max[i][1]).isCloseTo(hi[i][1], within(0.05 * (hi[i][1] - hi[i][0])));
      assertThat(sum[i][0] / n).isCloseTo((lo[i][0] + lo[i][1]) / 2, within(0.3));
      assertThat(sum[i][1] / n).isCloseTo((hi[i][0] + hi[i][1]) / 2, within(0.3));
    }
  }

  @Test
  void a_single_narration_spans_from_window_start_to_window_end_ranges() {
    double[][] iv = Intervals.sample(new double[] {5}, 0, 8, new Random(1));
    assertThat(iv[0][0]).isBetween(0.0, 5.0);
    assertThat(iv[0][1]).isBetween(5.0, 8.0);
  }

  @Test
  void with_two_annotation_passes_each_narration_reaches_to_its_own_pass_neighbours() {
    // pass 0 at 10 and 40, pass 1 at 11 and 39 (the second annotator, a second apart):
    //   merged, 10's end would stop at 10.5; per pass it may reach (10 + 40) / 2 = 25
    double[] times = {10, 11, 39, 40};
    int[] pass = {0, 1, 1, 0};
    double maxEnd10 = 0;
    double minStart40 = 99;
    Random rnd = new Random(5);
    for (int k = 0; k < 2000; k++) {
      double[][] iv = Intervals.sample(times, pass, 0, 50, rnd);
      assertThat(iv[0][1]).isBetween(10.0, 25.0);
      assertThat(iv[1][1]).isBetween(11.0, 25.0);
      assertThat(iv[2][0]).isBetween(25.0, 39.0);
      assertThat(iv[3][0]).isBetween(25.0, 40.0);
      assertThat(iv[0][0]).isBetween(0.0, 10.0);
      assertThat(iv[3][1]).isBetween(40.0, 50.0);
      maxEnd10 = Math.max(maxEnd10, iv[0][1]);
      minStart40 = Math.min(minStart40, iv[3][0]);
    }
    assertThat(maxEnd10).isGreaterThan(24.0);
    assertThat(minStart40).isLessThan(26.0);
    // one sequence: the old behaviour
    double[][] merged = Intervals.sample(times, 0, 50, new Random(5));
    assertThat(merged[0][1]).isBetween(10.0, 10.5);
  }

  @Test
  void unsorted_or_outside_timestamps_are_rejected() {
    assertThatThrownBy(() -> Intervals.sample(new double[] {3, 2}, 0, 10, new Random()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not sorted");
    assertThatThrownBy(() -> Intervals.sample(new double[] {11}, 0, 10, new Random()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside the window");
  }
}
