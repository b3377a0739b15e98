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
  void a_6_fps_stream_sampled_at_6_fps_keeps_every_frame_in_its_own_time_base() {
    // MP4 stores 6 fps as 2048 ticks of 1/12288 s; 1/6 s is not a whole number of microseconds
    FrameSampler s = new FrameSampler(6, 1, 12288);
    for (long i = 0; i < 720; i++) {
      assertThat(s.accept(i * 2048)).as("frame %d", i).isTrue();
    }
  }

  @Test
  void a_millisecond_clock_keeps_every_third_of_a_second() {
    // Matroska stores 30 fps as 0, 33, 67, 100, ... ms: 333 ms is the frame at 1/3 s
    FrameSampler s = new FrameSampler(3, 1, 1000);
    List<Long> kept = new ArrayList<>();
    for (long i = 0; i < 30; i++) {
      long ms = Math.round(i * 1000 / 30.0);
      if (s.accept(ms)) {
        kept.add(ms);
      }
    }
    assertThat(kept).containsExactly(0L, 333L, 667L);
  }

  @Test
  void ntsc_frames_sampled_at_29_97_fill_every_slot() {
    // 30000/1001 fps in 1/30000 s ticks, sampled at "29.97", which means 30000/1001 (taken as
    // 2997/100, slot k would fall 0.033 us per frame behind frame k: from frame 500 on, one slot late)
    FrameSampler s = new FrameSampler(29.97, 1, 30000);
    for (long i = 0; i < 30_000; i++) {
      assertThat(s.accept(i * 1001)).as("frame %d", i).isTrue();
    }
  }

  @Test
  void a_rate_above_the_sources_never_uses_a_frame_twice() {
    // 60 fps (1/60 s = 1500 ticks of 1/90000) sampled at 90: each frame once, none skipped
    FrameSampler s = new FrameSampler(90, 1, 90000);
    for (long i = 0; i < 600; i++) {
      assertThat(s.accept(i * 1500)).as("frame %d", i).isTrue();
    }
  }

  @Test
  void fill_counts_the_slots_a_frame_reaches() {
    // 1/6 s is 2048 ticks of 1/12288 s: a frame reaches slot 1 from 2047.5 ticks on
    FrameSampler six = new FrameSampler(6, 1, 12288);
    assertThat(six.lastSlot(2047)).isZero();
    assertThat(six.lastSlot(2048)).isEqualTo(1);
    // 3 fps (4096 ticks a frame) at 6 fps: frame 0 fills slot 0, every later frame the two slots
    // it reaches (2j-1 and 2j), which accept would use once
    FrameSampler s = new FrameSampler(6, 1, 12288);
    assertThat(s.fill(0)).isEqualTo(1);
    for (long j = 1; j < 30; j++) {
      assertThat(s.fill(j * 4096)).as("frame %d", j).isEqualTo(2);
      assertThat(s.nextSlot()).isEqualTo(2 * j + 1);
    }
    // the gap of a_gap_fills_one_slot_and_skips_the_empty_ones: the frame at 1.0 s reaches slots 1 .. 6
    FrameSampler g = new FrameSampler(6);
    assertThat(List.of(g.fill(0), g.fill(100_000), g.fill(1_000_000), g.fill(1_100_000), g.fill(1_170_000)))
        .containsExactly(1L, 0L, 6L, 0L, 1L);
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
