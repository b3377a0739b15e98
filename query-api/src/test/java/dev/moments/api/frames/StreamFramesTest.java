package dev.moments.api.frames;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The per-stream frame index against a brute-force list, across chunk splits. */
class StreamFramesTest {
  record Entry(long time, long loc) {}

  // Nearest by distance; of two equally near, the earlier time.
  static long bruteNearestTime(List<Entry> all, long t) {
    long best = 0;
    long bestDist = Long.MAX_VALUE;
    for (Entry e : all) {
      long d = Math.abs(e.time() - t);
      if (d < bestDist || d == bestDist && e.time() < best) {
        best = e.time();
        bestDist = d;
      }
    }
    return best;
  }

  @Test
  void nearest_is_the_closest_time_and_the_earlier_of_two_equally_close() {
    StreamFrames f = new StreamFrames();
    assertThat(f.nearest(5)).isNull();
    assertThat(f.span()).isNull();
    f.add(1000, StreamFrames.loc(0, 10));
    f.add(2000, StreamFrames.loc(1, 11));
    f.add(3000, StreamFrames.loc(0, 12));
    assertThat(f.nearest(1400)).isEqualTo(new StreamFrames.Hit(1000, StreamFrames.loc(0, 10)));
    assertThat(f.nearest(1600).timeMs()).isEqualTo(2000);
    assertThat(f.nearest(1500).timeMs()).isEqualTo(1000); // tie: the earlier
    assertThat(f.nearest(-5_000).timeMs()).isEqualTo(1000); // before the first: the first
    assertThat(f.nearest(Long.MAX_VALUE).timeMs()).isEqualTo(3000); // after the last: the last
    assertThat(f.nearest(Long.MIN_VALUE).timeMs()).isEqualTo(1000);
    assertThat(f.nearest(2000).partition()).isEqualTo(1);
    assertThat(f.nearest(2000).offset()).isEqualTo(11);
    assertThat(f.span()).isEqualTo(new FrameStore.FrameSpan(3, 1000, 3000));
  }

  @Test
  void locations_pack_partition_and_offset_and_reject_what_does_not_fit() {
    long loc = StreamFrames.loc(65_535, (1L << 48) - 1);
    assertThat(StreamFrames.partition(loc)).isEqualTo(65_535);
    assertThat(StreamFrames.offset(loc)).isEqualTo((1L << 48) - 1);
    assertThatThrownBy(() -> StreamFrames.loc(65_536, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("partition 65536 offset 0 out of range");
    assertThatThrownBy(() -> StreamFrames.loc(0, 1L << 48)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void out_of_order_frames_across_many_chunks_answer_like_a_brute_force_search() {
    Random rnd = new Random(42);
    StreamFrames f = new StreamFrames();
    List<Entry> all = new ArrayList<>();
    // Mostly in order with jitter, some far in the past (a replay), some duplicates: > 5 chunks.
    long t = 1_000_000;
    for (int i = 0; i < 6 * StreamFrames.CHUNK; i++) {
      t += 100 + rnd.nextInt(100);
      long time = switch (rnd.nextInt(10)) {
        case 0 -> t - rnd.nextInt(500_000); // late frame
        case 1 -> all.isEmpty() ? t : all.get(rnd.nextInt(all.size())).time(); // same time as another
        default -> t;
      };
      Entry e = new Entry(time, StreamFrames.loc(i % 3, i));
      all.add(e);
      f.add(e.time(), e.loc());
    }
    assertThat(f.size()).isEqualTo(all.size());
    long min = all.stream().mapToLong(Entry::time).min().orElseThrow();
    long max = all.stream().mapToLong(Entry::time).max().orElseThrow();
    assertThat(f.span()).isEqualTo(new FrameStore.FrameSpan(all.size(), min, max));
    for (int q = 0; q < 3000; q++) {
      long at = min - 1000 + (long) (rnd.nextDouble() * (max - min + 2000));
      StreamFrames.Hit hit = f.nearest(at);
      assertThat(hit.timeMs()).as("nearest to %d", at).isEqualTo(bruteNearestTime(all, at));
      assertThat(all).as("the hit's location belongs to a frame of that time").contains(new Entry(hit.timeMs(), hit.loc()));
    }
  }

  @Test
  void frames_below_a_partitions_first_offset_are_dropped() {
    StreamFrames f = new StreamFrames();
    for (int i = 0; i < 3000; i++) {
      f.add(i * 10L, StreamFrames.loc(i % 2, i / 2));
    }
    // Partition 0 kept from offset 1000 (its frames are times 20_000..), partition 1 untouched.
    assertThat(f.retainFrom(Map.of(0, 1000L, 1, 0L))).isEqualTo(1000);
    assertThat(f.size()).isEqualTo(2000);
    assertThat(f.nearest(0)).isEqualTo(new StreamFrames.Hit(10, StreamFrames.loc(1, 0)));
    assertThat(f.nearest(20_000)).isEqualTo(new StreamFrames.Hit(20_000, StreamFrames.loc(0, 1000)));
    assertThat(f.nearest(20_005).timeMs()).isEqualTo(20_000);
    assertThat(f.span()).isEqualTo(new FrameStore.FrameSpan(2000, 10, 29_990));
    assertThat(f.retainFrom(Map.of(0, 1000L))).isZero();
    assertThat(f.retainFrom(Map.of(0, 5000L, 1, 5000L))).isEqualTo(2000);
    assertThat(f.nearest(7)).isNull();
    f.add(5, StreamFrames.loc(0, 5000));
    assertThat(f.span()).isEqualTo(new FrameStore.FrameSpan(1, 5, 5));
  }
}
