package dev.moments.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.moments.trainer.ego4d.NlqAnnotations;
import dev.moments.trainer.ego4d.NlqAnnotations.LanguageQuery;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NlqMetricsTest {
  @TempDir Path dir;

  @Test
  void iou_is_intersection_over_span_worked_by_hand() {
    assertThat(NlqMetrics.iou(0, 10, 5, 15)).isEqualTo(5.0 / 15.0); // 5 shared of 0..15
    assertThat(NlqMetrics.iou(2, 4, 0, 10)).isEqualTo(0.2); // inside: 2 / 10
    assertThat(NlqMetrics.iou(0, 1, 2, 3)).isEqualTo(0.0); // disjoint
    assertThat(NlqMetrics.iou(3, 3, 0, 10)).isEqualTo(0.0); // empty prediction inside
    assertThat(NlqMetrics.iou(5, 5, 5, 5)).isEqualTo(0.0); // official: 0/0 = NaN; we say 0
    assertThat(NlqMetrics.iou(0, 10, 0, 10)).isEqualTo(1.0);
  }

  private static NlqAnnotations gt() {
    return NlqAnnotations.of(List.of(new NlqAnnotations.Clip("vid", "clip", 100, 200, List.of(
        new NlqAnnotations.Annotation("ann", List.of(
            new LanguageQuery(0, 10, "q0", null),
            new LanguageQuery(20, 30, "q1", null),
            new LanguageQuery(40, 50, "q2", null),
            new LanguageQuery(60, 61, null, null)))))));
  }

  private static NlqPredictions.Result pred(int idx, double[]... windows) {
    return new NlqPredictions.Result("clip", "ann", idx, Arrays.asList(windows));
  }

  @Test
  void recall_counts_iou_strictly_above_the_threshold_over_submitted_predictions() {
    List<NlqPredictions.Result> preds = List.of(
        // q0 gt [0,10]: top-1 IoU exactly 0.3 (3/10) does NOT count; the 2nd window is exact
        pred(0, new double[] {0, 3}, new double[] {0, 10}),
        // q1 gt [20,30]: IoU 6/10 = 0.6 hits everywhere; one window only
        pred(1, new double[] {20, 26}),
        // q2 gt [40,50]: IoU exactly 0.5 counts at 0.3 but not at 0.5; misses below
        pred(2, new double[] {40, 45}, new double[] {0, 1}, new double[] {2, 3},
            new double[] {4, 5}, new double[] {60, 70}, new double[] {40, 50}),
        // q1 again: scored again, as the official script does (IoU 0)
        pred(1, new double[] {0, 1}));

    NlqMetrics.Scores s = NlqMetrics.score(gt(), preds);

    // hits per prediction at 0.3: R@1 (0,1,1,0) R@3 (1,1,1,0) R@5 (1,1,1,0)
    assertThat(s.recall(1, 0.3)).isEqualTo(0.5);
    assertThat(s.recall(3, 0.3)).isEqualTo(0.75);
    assertThat(s.recall(5, 0.3)).isEqualTo(0.75);
    // at 0.5: R@1 (0,1,0,0) R@3 (1,1,0,0) R@5 (1,1,0,0); q2's 6th window is beyond k=5
    assertThat(s.recall(1, 0.5)).isEqualTo(0.25);
    assertThat(s.recall(3, 0.5)).isEqualTo(0.5);
    assertThat(s.recall(5, 0.5)).isEqualTo(0.5);
    // top-1 IoUs 0.3, 0.6, 0.5, 0
    assertThat(s.meanIou()).isCloseTo(0.35, within(1e-12));
    assertThat(s.evaluated()).isEqualTo(4);
    assertThat(s.groundTruthQueries()).isEqualTo(4);
    assertThat(s.withoutPrediction()).isEqualTo(1);
    assertThat(s.missingQueryText()).isEqualTo(1);

    Map<String, Object> m = s.asMap();
    assertThat(m.keySet()).startsWith("r1_iou0.3", "r3_iou0.3", "r5_iou0.3", "r1_iou0.5",
        "r3_iou0.5", "r5_iou0.5", "miou");
    assertThat((Double) m.get("r3_iou0.3")).isEqualTo(75.0);
    assertThat((Double) m.get("miou")).isCloseTo(35.0, within(1e-9));
  }

  @Test
  void a_prediction_for_an_unknown_query_is_rejected() {
    assertThatThrownBy(() -> NlqMetrics.score(gt(), List.of(pred(9, new double[] {0, 1}))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("prediction for a query not in the annotations: clip_uid clip, annotation_uid ann, query_idx 9");
    assertThatThrownBy(() -> NlqMetrics.score(gt(), List.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("no predictions to score");
  }

  @Test
  void prediction_files_round_trip_and_bad_ones_are_clear_errors() throws IOException {
    Path f = dir.resolve("p.json");
    NlqPredictions.write(f, List.of(pred(0, new double[] {1.5, 2.25}, new double[] {0, 10})));
    String json = Files.readString(f);
    assertThat(json).contains("\"version\":\"1.0\"", "\"challenge\":\"ego4d_nlq_challenge\"",
        "\"predicted_times\":[[1.5,2.25],[0.0,10.0]]");
    List<NlqPredictions.Result> back = NlqPredictions.read(f);
    assertThat(back).hasSize(1);
    assertThat(back.get(0).predictedTimes().get(0)).containsExactly(1.5, 2.25);

    Path wrongChallenge = dir.resolve("w.json");
    Files.writeString(wrongChallenge, "{\"version\": \"1.0\", \"challenge\": \"nlq\", \"results\": []}");
    assertThatThrownBy(() -> NlqPredictions.read(wrongChallenge))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"challenge\" must be");
    Path badTimes = dir.resolve("b.json");
    Files.writeString(badTimes, "{\"version\": \"1.0\", \"challenge\": \"ego4d_nlq_challenge\", "
        + "\"results\": [{\"clip_uid\": \"c\", \"annotation_uid\": \"a\", \"query_idx\": 0, \"predicted_times\": [[1]]}]}");
    assertThatThrownBy(() -> NlqPredictions.read(badTimes))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("results[0]")
        .hasMessageContaining("[start, end]");
    Path broken = dir.resolve("x.json");
    Files.writeString(broken, "{\"version\": ");
    assertThatThrownBy(() -> NlqPredictions.read(broken))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> NlqPredictions.read(dir.resolve("none.json")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not found");
  }
}
