package dev.moments.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The frame-similarity baseline's peak finder on scores made by hand (1 frame a second). */
class FramePeaksTest {
  @Test
  void two_plateaus_give_two_spans_in_height_order_grown_to_their_edges() {
    double[] sim = new double[120];
    for (int t = 20; t < 30; t++) {
      sim[t] = 0.5; // 10 s event, the lower one
    }
    for (int t = 80; t < 86; t++) {
      sim[t] = 0.8; // 6 s event, the higher one
    }
    List<double[]> spans = Baselines.peaks(sim, 1, 2);
    assertThat(spans).hasSize(2);
    // box filter of 2 s (one frame each side) blurs each edge by a frame, within PEAK_DROP of the top only inside
    assertThat(spans.get(0)).containsExactly(81, 85);
    assertThat(spans.get(1)).containsExactly(21, 29);
  }

  @Test
  void peaks_closer_than_the_separation_count_once_and_spans_stay_between_2_and_30_s() {
    double[] sim = new double[200];
    sim[49] = sim[50] = sim[51] = 1.0;
    sim[54] = sim[55] = 0.95; // 4-5 s from the first: not a peak of its own
    for (int t = 100; t < 180; t++) {
      sim[t] = 0.6; // an 80 s plateau: cut to 30 s
    }
    List<double[]> spans = Baselines.peaks(sim, 1, 5);
    assertThat(spans.get(0)[0]).isLessThanOrEqualTo(50);
    assertThat(spans.get(0)[1]).isGreaterThan(50);
    assertThat(spans.subList(1, spans.size())).noneSatisfy(
        s -> assertThat(s[1]).isBetween(45.0, 62.0)); // nothing else around the first peak
    assertThat(spans.get(1)[0]).isBetween(100.0, 150.0);
    assertThat(spans.get(1)[1] - spans.get(1)[0]).isEqualTo(30.0);
    for (double[] s : spans) {
      assertThat(s[1] - s[0]).isBetween(2.0, 30.0);
    }
  }
}
