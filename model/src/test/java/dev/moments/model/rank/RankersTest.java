package dev.moments.model.rank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The three rankers on evidence made by hand, where the right answer is known. */
class RankersTest {
  /** Per-second scores: {@code base} everywhere, {@code level} on [from, to). */
  private static double[] plateau(int seconds, double base, int from, int to, double level) {
    double[] s = new double[seconds];
    java.util.Arrays.fill(s, base);
    for (int t = from; t < to; t++) {
      s[t] = level;
    }
    return s;
  }

  private static SpanRanker.Moment moment(double a, double b, double score) {
    return new SpanRanker.Moment(a, b, score);
  }

  @Test
  void frame_only_gives_two_plateaus_in_height_order_grown_to_their_edges() {
    double[] sim = plateau(120, 0, 20, 30, 0.5); // 10 s event, the lower one
    for (int t = 80; t < 86; t++) {
      sim[t] = 0.8; // 6 s event, the higher one
    }
    List<SpanRanker.Span> spans = Rankers.frames().rank(sim, List.of(), 2);
    assertThat(spans).hasSize(2);
    // the 2 s box (1/4, 1/2, 1/4) blurs each edge by a second: the edge seconds fall below the drop
    assertThat(spans.get(0)).isEqualTo(new SpanRanker.Span(81, 85, 0.8));
    assertThat(spans.get(1)).isEqualTo(new SpanRanker.Span(21, 29, 0.5));
  }

  @Test
  void frame_only_keeps_peaks_6_s_apart_and_spans_between_2_and_30_s() {
    double[] sim = new double[200];
    sim[49] = sim[50] = sim[51] = 1.0;
    sim[54] = sim[55] = 0.95; // 4-5 s from the first: not a peak of its own
    for (int t = 100; t < 180; t++) {
      sim[t] = 0.6; // an 80 s plateau: cut to 30 s
    }
    List<SpanRanker.Span> spans = Rankers.frames().rank(sim, List.of(), 5);
    assertThat(spans.get(0).startSec()).isLessThanOrEqualTo(50);
    assertThat(spans.get(0).endSec()).isGreaterThan(50);
    assertThat(spans.subList(1, spans.size())).noneSatisfy(s -> assertThat(s.endSec()).isBetween(45.0, 62.0));
    assertThat(spans.get(1).startSec()).isBetween(100.0, 150.0);
    assertThat(spans.get(1).endSec() - spans.get(1).startSec()).isEqualTo(30.0);
    assertThat(spans).allSatisfy(s -> assertThat(s.endSec() - s.startSec()).isBetween(2.0, 30.0));
  }

  @Test
  void laviti_only_ranks_by_score_and_drops_a_worse_moment_overlapping_a_better_one_above_iou_half() {
    List<SpanRanker.Moment> ms = List.of(
        moment(10, 20, 0.5),
        moment(11, 21, 0.7), // IoU 9/11 with the next: dropped after it
        moment(10, 21, 0.9),
        moment(0, 10, 0.6),
        moment(20, 40, 0.4)); // IoU 1/30 with 10-21: kept
    List<SpanRanker.Span> spans = Rankers.laviti().rank(new double[0], ms, 5);
    assertThat(spans).containsExactly(new SpanRanker.Span(10, 21, 0.9), new SpanRanker.Span(0, 10, 0.6),
        new SpanRanker.Span(20, 40, 0.4));
    // exactly IoU 0.5 is kept, as in the served index (suppressed only above)
    assertThat(Rankers.laviti().rank(new double[0], List.of(moment(0, 10, 0.9), moment(0, 5, 0.8)), 5))
        .hasSize(2);
  }

  @Test
  void fused_finds_a_frame_event_the_model_misses() {
    double[] sim = plateau(300, 0.1, 100, 112, 0.6);
    List<SpanRanker.Moment> ms = List.of(moment(10, 30, 0.7), moment(200, 220, 0.75), moment(250, 260, 0.6));
    List<SpanRanker.Span> spans = Rankers.fused().rank(sim, ms, 5);
    assertThat(spans.get(0).startSec()).isCloseTo(100, within(1.0));
    assertThat(spans.get(0).endSec()).isCloseTo(112, within(1.0));
    // LAVITI alone never finds it
    assertThat(Rankers.laviti().rank(sim, ms, 5))
        .noneSatisfy(s -> assertThat(Rankers.iou(s.startSec(), s.endSec(), 100, 112)).isGreaterThan(0.3));
  }

  @Test
  void fused_lets_the_model_decide_between_look_alike_events_the_frames_cannot_separate() {
    double[] sim = plateau(200, 0.05, 40, 50, 0.5);
    for (int t = 120; t < 130; t++) {
      sim[t] = 0.5; // the same object seen twice: frames cannot tell which the query means
    }
    List<SpanRanker.Moment> ms = List.of(moment(40, 50, 0.3), moment(120, 130, 0.8));
    List<SpanRanker.Span> fused = Rankers.fused().rank(sim, ms, 2);
    assertThat(fused.get(0).startSec()).isCloseTo(120, within(1.0));
    assertThat(fused.get(0).endSec()).isCloseTo(130, within(1.0));
    assertThat(fused.get(1).startSec()).isCloseTo(40, within(1.0));
    // the model's preference flips the order, the frames' does not exist
    List<SpanRanker.Moment> flipped = List.of(moment(40, 50, 0.8), moment(120, 130, 0.3));
    assertThat(Rankers.fused().rank(sim, flipped, 1).get(0).startSec()).isCloseTo(40, within(1.0));
  }

  @Test
  void fused_puts_forward_a_long_event_whole_where_frame_peaks_give_a_fragment() {
    // a 26 s event whose similarity wavers (0.55 .. 0.7): its highest peak grows only a few seconds
    double[] sim = plateau(200, 0.05, 60, 86, 0.6);
    double[] wave = {0.55, 0.62, 0.7, 0.58, 0.55, 0.66, 0.6, 0.56, 0.7, 0.57, 0.55, 0.64, 0.6};
    for (int t = 60; t < 86; t++) {
      sim[t] = wave[(t - 60) % wave.length];
    }
    SpanRanker.Span peak = Rankers.frames().rank(sim, List.of(), 1).get(0);
    assertThat(Rankers.iou(peak.startSec(), peak.endSec(), 60, 86)).isLessThan(0.5);
    SpanRanker.Span fused = Rankers.fused().rank(sim, List.of(), 1).get(0);
    assertThat(Rankers.iou(fused.startSec(), fused.endSec(), 60, 86)).isGreaterThan(0.9);
  }

  @Test
  void fused_gains_nothing_from_troughs_next_to_a_blip() {
    // an encoder whose gaps score far below 0 (the demo's pocket encoder: down to -0.6): a 2 s blip
    // between troughs must not beat the event, whose surroundings are mildly like the query
    double[] sim = plateau(150, 0, 24, 38, -0.6);
    sim[30] = sim[31] = 0.75;
    for (int t = 74; t < 91; t++) {
      sim[t] = t >= 80 && t < 85 ? 0.85 : 0.3;
    }
    SpanRanker.Span top = Rankers.fused().rank(sim, List.of(), 1).get(0);
    assertThat(Rankers.iou(top.startSec(), top.endSec(), 80, 85)).isGreaterThan(0.5);
  }

  @Test
  void fused_scores_are_comparable_across_stretches() {
    // the same event in a short and a long stretch, at other places and next to other events,
    // scores the same; a weaker event elsewhere scores lower even when it is its stretch's best
    double[] a = plateau(120, 0.1, 30, 42, 0.7);
    double[] b = plateau(600, 0.1, 400, 412, 0.7);
    for (int t = 100; t < 110; t++) {
      b[t] = 0.4;
    }
    double[] weak = plateau(300, 0.1, 50, 62, 0.35);
    List<SpanRanker.Moment> ma = List.of(moment(30, 42, 0.5));
    List<SpanRanker.Moment> mb = List.of(moment(400, 412, 0.5), moment(0, 20, 0.2));
    List<SpanRanker.Moment> mw = List.of(moment(50, 62, 0.5));
    double sa = Rankers.fused().rank(a, ma, 1).get(0).score();
    double sb = Rankers.fused().rank(b, mb, 1).get(0).score();
    double sw = Rankers.fused().rank(weak, mw, 1).get(0).score();
    assertThat(sa).isCloseTo(sb, within(1e-9));
    assertThat(sw).isLessThan(sa - 0.2);
  }

  @Test
  void fused_without_frames_ranks_as_the_model_and_without_moments_from_the_frames() {
    List<SpanRanker.Moment> ms = List.of(moment(0, 10, 0.2), moment(50, 60, 0.9), moment(100, 110, 0.5));
    assertThat(Rankers.fused().rank(new double[0], ms, 3)).extracting(SpanRanker.Span::startSec)
        .containsExactly(50.0, 100.0, 0.0);
    double[] sim = plateau(100, 0, 70, 80, 0.9);
    assertThat(Rankers.fused().rank(sim, List.of(), 1).get(0).startSec()).isCloseTo(70, within(1.0));
    assertThat(Rankers.fused().rank(new double[0], List.of(), 5)).isEmpty();
  }

  @Test
  void random_spans_lie_in_the_stretch_and_repeat_for_the_same_input() {
    double[] sim = new double[90];
    List<SpanRanker.Span> r = Rankers.random(3).rank(sim, List.of(), 5);
    assertThat(r).hasSize(5).allSatisfy(s -> {
      assertThat(s.startSec()).isBetween(0.0, s.endSec());
      assertThat(s.endSec()).isLessThanOrEqualTo(90.0);
    });
    assertThat(Rankers.random(3).rank(sim, List.of(), 5)).isEqualTo(r);
  }
}
