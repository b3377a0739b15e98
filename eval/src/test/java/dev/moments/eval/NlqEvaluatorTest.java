package dev.moments.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.moments.featurizer.store.FeatureManifest;
import dev.moments.featurizer.store.Npy;
import dev.moments.featurizer.store.TextEmbeddings;
import dev.moments.model.rank.MomentVectors;
import dev.moments.model.rank.SpanRanker;
import dev.moments.trainer.ego4d.NlqAnnotations;
import dev.moments.trainer.ego4d.NlqAnnotations.LanguageQuery;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NlqEvaluatorTest {
  @TempDir Path dir;

  /**
   * A 100 s video at 2 fps in 4-d: seconds [0,40) are e0, [40,60) e1, [60,100) e2. The clip is
   * video seconds 20..100, so in clip time e0 covers [0,20), e1 [20,40), e2 [40,80).
   */
  private Path features() throws IOException {
    Path f = dir.resolve("features");
    float[][] x = new float[200][];
    for (int t = 0; t < 200; t++) {
      double sec = t / 2.0;
      x[t] = sec < 40 ? new float[] {1, 0, 0, 0} : sec < 60 ? new float[] {0, 1, 0, 0} : new float[] {0, 0, 1, 0};
    }
    java.nio.file.Files.createDirectories(f);
    Npy.write(FeatureManifest.featureFile(f, "vid"), x);
    new FeatureManifest("test-enc", 2.0, 4, Map.of("vid", new FeatureManifest.Video(200, 100.0))).write(f);
    return f;
  }

  private static NlqAnnotations annotations() {
    return NlqAnnotations.of(List.of(
        new NlqAnnotations.Clip("vid", "clip", 20, 100, List.of(new NlqAnnotations.Annotation("ann", List.of(
            new LanguageQuery(20, 40, "find e1", null),
            new LanguageQuery(0, 1, null, null),
            new LanguageQuery(40, 80, "find e2", null))))),
        new NlqAnnotations.Clip("gone", "clip-gone", 0, 10, List.of(new NlqAnnotations.Annotation("ann2",
            List.of(new LanguageQuery(1, 2, "find e1", null)))))));
  }

  private static QueryText table() {
    return new QueryText() {
      @Override
      public float[] embed(String text) {
        return switch (text) {
          case "find e1" -> new float[] {0, 1, 0, 0};
          case "find e2" -> new float[] {0, 0.2f, 1, 0};
          default -> throw new IllegalArgumentException("no " + text);
        };
      }

      @Override
      public int dim() {
        return 4;
      }
    };
  }

  @Test
  void one_window_clip_ranks_moments_by_cosine_with_clip_relative_times() throws IOException {
    ChunkMeanPredictor p = new ChunkMeanPredictor(20);
    NlqEvaluator.Run run = new NlqEvaluator(p, table(), NlqEvaluator.Options.defaults())
        .run(annotations(), features());

    assertThat(p.calls).isEqualTo(1);
    assertThat(p.windowLengths).containsExactly(160); // 80 s clip at 2 fps, one window
    assertThat(run.withoutFeatures()).isEqualTo(1); // the clip of video "gone"
    assertThat(run.predictions()).hasSize(2);
    NlqPredictions.Result e1 = run.predictions().get(0);
    assertThat(e1.queryIdx()).isZero();
    // chunks [0,20) e0, [20,40) e1, [40,60) e2, [60,80) e2: e1 first, then the rest by cosine
    assertThat(e1.predictedTimes().get(0)).containsExactly(20.0, 40.0);
    assertThat(e1.predictedTimes()).hasSize(4);
    NlqPredictions.Result e2 = run.predictions().get(1);
    assertThat(e2.queryIdx()).isEqualTo(2);
    assertThat(e2.predictedTimes().subList(0, 2))
        .containsExactlyInAnyOrder(new double[] {40, 60}, new double[] {60, 80});
    assertThat(e2.predictedTimes().get(2)).containsExactly(20.0, 40.0); // 0.2 of e1 beats e0

    NlqMetrics.Scores s = NlqMetrics.score(annotations(), run.predictions());
    assertThat(s.recall(1, 0.3)).isEqualTo(1.0); // e1 exact; e2 top-1 is half of [40,80): IoU 0.5
    assertThat(s.recall(1, 0.5)).isEqualTo(0.5);
    assertThat(s.withoutPrediction()).isEqualTo(2); // the text-less query and the featureless clip
  }

  @Test
  void a_long_clip_runs_sliding_windows_and_pools_them_in_clip_time() throws IOException {
    ChunkMeanPredictor p = new ChunkMeanPredictor(20);
    NlqEvaluator.Options o = new NlqEvaluator.Options(40, 20, 5, 0.95);
    NlqEvaluator.Run run = new NlqEvaluator(p, table(), o).run(annotations(), features());

    // 80 s clip, 40 s windows every 20 s: starts 0, 20, 40 s
    assertThat(p.windowLengths).containsExactly(80, 80, 80);
    NlqPredictions.Result e1 = run.predictions().get(0);
    // [20,40) is predicted by two windows; the duplicate is dropped
    assertThat(e1.predictedTimes().get(0)).containsExactly(20.0, 40.0);
    assertThat(e1.predictedTimes().stream().filter(w -> w[0] == 20.0 && w[1] == 40.0)).hasSize(1);
    assertThat(e1.predictedTimes()).hasSize(4); // distinct chunks: [0,20) [20,40) [40,60) [60,80)
  }

  /**
   * Offline, a moment is scored as the served index scores it: the float query's cosine with the
   * moment's int8 vector ({@link MomentVectors#similarity}, the same float), not with its float
   * embedding.
   */
  @Test
  void moments_are_scored_with_the_int8_vectors_the_index_stores() throws IOException {
    float[] a = {1, 0.3f, 0.01f, 0.55f};
    float[] b = {0.2f, -0.9f, 0.4f, 0.1f};
    dev.moments.model.MomentPredictor two = (window, fps) -> List.of(
        new dev.moments.model.PredictedMoment(0, a, 0, 10, 1f), new dev.moments.model.PredictedMoment(1, b, 10, 20, 1f));
    List<List<Double>> seen = new java.util.ArrayList<>();
    SpanRanker capture = (frameScores, moments, k) -> {
      seen.add(moments.stream().map(SpanRanker.Moment::score).toList());
      return List.of();
    };
    new NlqEvaluator(two, table(), NlqEvaluator.Options.defaults())
        .runRanked(annotations(), features(), Map.of("capture", capture));
    float[] e1 = table().embed("find e1");
    float[] e2 = table().embed("find e2");
    assertThat(seen).containsExactly(
        List.of(sim(e1, a), sim(e1, b)),
        List.of(sim(e2, a), sim(e2, b)));
    // and that is not the float embedding's cosine
    assertThat(sim(e2, a)).isNotEqualTo(Vectors.cosine(e2, a));
  }

  private static double sim(float[] q, float[] embedding) {
    return MomentVectors.similarity(q, MomentVectors.int8(embedding, "e"));
  }

  @Test
  void window_starts_cover_the_span_and_end_aligned() {
    assertThat(WindowedMoments.windowStarts(100, 120, 60)).containsExactly(0);
    assertThat(WindowedMoments.windowStarts(300, 120, 60)).containsExactly(0, 60, 120, 180);
    assertThat(WindowedMoments.windowStarts(250, 120, 60)).containsExactly(0, 60, 120, 130);
  }

  @Test
  void a_query_missing_from_the_embedding_table_is_a_clear_error() throws IOException {
    Path npz = dir.resolve("t.npz");
    TextEmbeddings.write(npz, Map.of("find e1", new float[] {0, 1, 0, 0}));
    QueryText t = QueryText.fromTable(TextEmbeddings.read(npz), npz);
    NlqEvaluator e = new NlqEvaluator(new ChunkMeanPredictor(20), t, NlqEvaluator.Options.defaults());
    Path f = features();
    assertThatThrownBy(() -> e.run(annotations(), f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("have no entry for \"find e2\"");
  }
}
