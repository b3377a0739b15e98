package dev.moments.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameSamplerTest {
  private static List<Long> sample(double fps, long... ptsUs) {
    FrameSampler s = new FrameSampler(fps);
    List<Long> kept = new ArrayList<>();
    for (long p : ptsUs) {
      if (s.accept(p)) {
        kept.add(p);
      }
    }
    return kept;
  }

  @Test
  void keeps_the_first_frame_at_or_after_each_slot() {
    long[] pts = new long[30]; // 1 s at 30 fps starting at 1.4 s (an MPEG-TS like start)
    for (int i = 0; i < pts.length; i++) {
      pts[i] = 1_400_000 + Math.round(i * 1e6 / 30);
    }
    List<Long> kept = sample(6, pts);
    assertThat(kept).containsExactly(1_400_000L, 1_566_667L, 1_733_333L, 1_900_000L, 2_066_667L, 2_233_333L);
  }

  @Test
  void a_gap_fills_one_slot_and_skips_the_empty_ones() {
    // frames at 0, 0.1 and then nothing until 1.0 s, then 1.1
    assertThat(sample(6, 0, 100_000, 1_000_000, 1_100_000, 1_170_000))
        .containsExactly(0L, 1_000_000L, 1_170_000L);
  }

  @Test
  void frames_sparser_than_the_rate_are_all_kept() {
    assertThat(sample(6, 0, 500_000, 1_000_000)).containsExactly(0L, 500_000L, 1_000_000L);
  }

  @Test
  void reset_anchors_slots_at_the_next_frame() {
    FrameSampler s = new FrameSampler(2);
    assertThat(s.accept(0)).isTrue();
    assertThat(s.accept(100_000)).isFalse();
    s.reset();
    assertThat(s.accept(100_000)).isTrue();
    assertThat(s.accept(500_000)).isFalse();
    assertThat(s.accept(600_000)).isTrue();
  }
}
