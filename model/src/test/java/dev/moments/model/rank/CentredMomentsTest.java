package dev.moments.model.rank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class CentredMomentsTest {
  /** A point moment at second {@code sec} predicted by window {@code window}. */
  record P(int window, long ms) {}

  /** Each window predicts one point moment per second of [end - W, end) from t0 = 0 on. */
  private static List<P> window(int index, long endMs, long windowMs) {
    List<P> out = new ArrayList<>();
    for (long t = Math.max(0, endMs - windowMs); t < endMs; t += 1_000) {
      out.add(new P(index, t));
    }
    return out;
  }

  @Test
  void the_band_of_a_paper_window_is_the_middle_copies_hops() {
    CentredMoments.Band b = CentredMoments.band(600_000, 600_000, 30_000, 3, 570_000);
    assertThat(b).isEqualTo(new CentredMoments.Band(255_000, 345_000));
    // a final window 40 s after the last (hop 30 s + lateness 10 s) with 600 s windows: unclamped
    assertThat(CentredMoments.band(610_000, 600_000, 30_000, 1, 570_000))
        .isEqualTo(new CentredMoments.Band(295_000, 325_000));
    // 10 s windows every 5 s, lateness 3 s: a final window 8 s after the last starts at the last's end
    assertThat(CentredMoments.band(18_000, 10_000, 5_000, 1, 10_000)).isEqualTo(new CentredMoments.Band(10_000, 15_500));
    assertThat(b.keeps(250_000, 260_000)).isTrue();   // centred at 255 s
    assertThat(b.keeps(250_000, 259_999)).isFalse();  // centred at 254.9995 s
    assertThat(b.replaces(340_000, 350_000, 345_000)).isTrue();
    assertThat(b.replaces(340_000, 349_998, 345_000)).isFalse(); // inside its own band still
    assertThatThrownBy(() -> CentredMoments.band(600_000, 600_000, 30_000, 0, 570_000))
        .hasMessageContaining("copies must be >= 1");
  }

  /**
   * On the hop grid, far from the stream's ends, each second is kept from exactly {@code copies}
   * windows: those whose middle is nearest it.
   */
  @Test
  void each_second_is_kept_from_copies_windows_nearest_it() {
    long w = 600_000;
    long h = 30_000;
    for (int copies : new int[] {1, 3, 5}) {
      List<List<P>> windows = new ArrayList<>();
      List<CentredMoments.Band> bands = new ArrayList<>();
      for (int k = 1; k <= 120; k++) {
        windows.add(window(k, k * h, w));
        bands.add(CentredMoments.band(k * h, w, h, copies, (k - 1) * h));
      }
      List<P> kept = CentredMoments.keep(windows, bands, P::ms, P::ms);
      TreeMap<Long, List<Integer>> bySecond = new TreeMap<>();
      kept.forEach(p -> bySecond.computeIfAbsent(p.ms(), x -> new ArrayList<>()).add(p.window()));
      List<Integer> at1800 = bySecond.get(1_800_000L);
      assertThat(at1800).hasSize(copies);
      for (int k : at1800) {
        // window k's middle is k * 30 s - 300 s: within copies/2 hops of 1,800 s
        assertThat(Math.abs(k * h - w / 2 - 1_800_000)).isLessThanOrEqualTo(copies * h / 2);
      }
    }
  }

  /**
   * Whatever the window, hop, copies, lateness and gaps in the stream, with windows placed as the
   * indexer places them (hop windows once the stream is a lateness past their end, empty ones
   * skipped; at the stream's end the pending ones while the final window would leave frames out,
   * then the final window one frame after the last): every frame second keeps a moment (no stretch
   * is left without moments), and the newest window's moments from its band on are all kept.
   */
  @Test
  void no_second_is_left_without_moments() {
    SplittableRandom r = new SplittableRandom(3);
    for (int trial = 0; trial < 300; trial++) {
      long h = 1_000 * (1 + r.nextInt(60));
      long w = h * (1 + r.nextInt(20)) + 1_000 * r.nextInt(3);
      long late = 1_000 * r.nextInt(15);
      int copies = 1 + r.nextInt(6);
      java.util.TreeSet<Long> frames = new java.util.TreeSet<>();
      long t = 0;
      int n = 1 + r.nextInt(400);
      for (int i = 0; i < n; i++) {
        frames.add(t);
        t += r.nextInt(30) == 0 ? 1_000 * (2 + r.nextInt(200)) : 1_000; // now and then a gap
      }
      long maxTs = frames.last();
      List<List<P>> windows = new ArrayList<>();
      List<CentredMoments.Band> bands = new ArrayList<>();
      long lastEnd = Long.MIN_VALUE;
      java.util.function.LongPredicate emit = end -> {
        List<P> ps = new ArrayList<>();
        frames.subSet(end - w, end).forEach(f -> ps.add(new P(windows.size(), f)));
        if (ps.isEmpty()) {
          return false;
        }
        windows.add(ps);
        return true;
      };
      for (long end = h; end <= maxTs - late; end += h) {
        long covered = lastEnd == Long.MIN_VALUE ? 0 : lastEnd;
        if (emit.test(end)) {
          bands.add(CentredMoments.band(end, w, h, copies, covered));
        }
        lastEnd = end;
      }
      long finalEnd = maxTs + 1_000;
      for (long end = lastEnd == Long.MIN_VALUE ? h : lastEnd + h;
          (lastEnd == Long.MIN_VALUE ? 0 : lastEnd) < finalEnd - w && end < finalEnd; end += h) {
        long covered = lastEnd == Long.MIN_VALUE ? 0 : lastEnd;
        if (emit.test(end)) {
          bands.add(CentredMoments.band(end, w, h, copies, covered));
        }
        lastEnd = end;
      }
      if (lastEnd == Long.MIN_VALUE || maxTs >= lastEnd) {
        long covered = lastEnd == Long.MIN_VALUE ? 0 : lastEnd;
        if (emit.test(finalEnd)) {
          bands.add(CentredMoments.band(finalEnd, w, h, copies, covered));
        }
      }
      List<P> kept = CentredMoments.keep(windows, bands, P::ms, P::ms);
      java.util.Set<Long> covered = new java.util.TreeSet<>();
      kept.forEach(p -> covered.add(p.ms()));
      java.util.Set<Long> missing = new java.util.TreeSet<>(frames);
      missing.removeAll(covered);
      assertThat(missing).as("trial %d: W %d, hop %d, lateness %d, copies %d, bands %s", trial, w, h, late, copies,
          bands).isEmpty();
      int newest = windows.size() - 1;
      CentredMoments.Band lastBand = bands.get(newest);
      assertThat(kept.stream().filter(p -> p.window() == newest).count())
          .isEqualTo(windows.get(newest).stream().filter(p -> lastBand.keeps(p.ms(), p.ms())).count());
    }
  }
}
