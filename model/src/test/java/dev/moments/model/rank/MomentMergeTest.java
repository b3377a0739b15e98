package dev.moments.model.rank;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class MomentMergeTest {
  record M(String id, long s, long e, float[] v) {}

  private static List<M> merge(List<List<M>> windows) {
    return MomentMerge.merge(windows, M::s, M::e, m -> MomentMerge.unit(m.v(), m.id()));
  }

  /**
   * A repeat needs both: IoU >= 0.5 on whole ms and cosine >= MIN_COSINE; only moments of another
   * window merge, and the first stands for its repeats.
   */
  @Test
  void a_later_windows_repeat_merges_into_the_first_and_nothing_else_does() {
    M a = new M("a", 0, 10_000, new float[] {1, 0});
    M sameWindow = new M("a2", 0, 10_000, new float[] {1, 0});          // a's own window: kept
    M repeat = new M("b", 1_000, 11_000, new float[] {1, 0.1f});        // IoU 9/11, cosine 0.995: merged
    M elsewhere = new M("c", 6_000, 16_000, new float[] {1, 0});        // IoU 4/16 = 0.25: kept
    M other = new M("d", 0, 10_000, new float[] {0, 1});                // cosine 0: kept
    M half = new M("e", 0, 20_000, new float[] {1, 0});                 // IoU exactly 0.5 with a: merged
    assertThat(merge(List.of(List.of(a, sameWindow), List.of(repeat, elsewhere, other, half))))
        .extracting(M::id).containsExactly("a", "a2", "c", "d");
    assertThat(MomentMerge.duplicate(0, 10_000, new float[] {1, 0}, 1_000, 11_000, MomentMerge.unit(new float[] {1, 0.1f}, "x")))
        .isTrue()
        .isEqualTo(MomentMerge.duplicate(1_000, 11_000, MomentMerge.unit(new float[] {1, 0.1f}, "x"), 0, 10_000, new float[] {1, 0}));
  }
}
