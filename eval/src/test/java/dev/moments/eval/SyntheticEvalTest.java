package dev.moments.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.featurizer.store.TextEmbeddings;
import dev.moments.trainer.ego4d.NlqAnnotations;
import dev.moments.trainer.synth.SynthFeatures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The eval plumbing end to end on a synthetic dataset, with a naive real predictor. */
class SyntheticEvalTest {
  @TempDir static Path dir;
  static Path data;
  static QueryText text;

  @BeforeAll
  static void generate() throws IOException {
    data = dir.resolve("synth");
    SynthFeatures.generate(data, new SynthFeatures.Config(8, 6, 4, 32, 6, 3));
    Path npz = data.resolve("text_embeddings.npz");
    text = QueryText.fromTable(TextEmbeddings.read(npz), npz);
  }

  @Test
  void nlq_predictions_are_written_officially_and_baselines_are_scored_by_the_same_scorer()
      throws IOException {
    NlqAnnotations gt = NlqAnnotations.read(data.resolve("nlq_val.json"));
    NlqEvaluator.Run run = new NlqEvaluator(new ChunkMeanPredictor(10), text,
        NlqEvaluator.Options.defaults()).run(gt, data.resolve("features"));
    Path file = dir.resolve("pred.json");
    NlqPredictions.write(file, run.predictions());

    NlqMetrics.Scores model = NlqMetrics.score(gt, NlqPredictions.read(file));
    NlqMetrics.Scores random = NlqMetrics.score(gt, Baselines.randomIntervals(gt, 5, 1));
    NlqMetrics.Scores frames = NlqMetrics.score(gt,
        Baselines.frameSimilarity(gt, data.resolve("features"), text, 5));
    System.out.println(Reports.nlqTable(Map.of("chunk mean", model, "random", random, "frames", frames)));

    assertThat(model.evaluated()).isEqualTo(gt.queries().size());
    assertThat(model.withoutPrediction()).isEqualTo(gt.missingQueryText());
    assertThat(random.evaluated()).isEqualTo(gt.queries().size());
    // the synthetic task carries signal: looking at frames must beat guessing clearly
    assertThat(frames.recall(1, 0.3)).isGreaterThan(random.recall(1, 0.3) + 0.2);
    assertThat(model.recall(5, 0.3)).isGreaterThan(random.recall(5, 0.3));
  }

  @Test
  void charades_scores_round_trip_and_frame_similarity_beats_random_on_short_videos()
      throws IOException {
    // CharadesEgo-like: 30 s videos with one or two actions each
    Path charades = dir.resolve("charades");
    SynthFeatures.generate(charades, new SynthFeatures.Config(24, 22, 0.5, 32, 6, 5));
    Path npz = charades.resolve("text_embeddings.npz");
    QueryText classes = QueryText.fromTable(TextEmbeddings.read(npz), npz);
    CharadesAnnotations gt = CharadesAnnotations.read(charades.resolve("CharadesEgo_v1_test.csv"),
        charades.resolve("Charades_v1_classes.txt"));
    ChunkMeanPredictor predictor = new ChunkMeanPredictor(10);
    Map<String, double[]> model = new CharadesEvaluator(predictor, classes, 600, 300)
        .scores(gt, charades.resolve("features"));
    List<String> ids = gt.classes().stream().map(CharadesAnnotations.ChClass::id).toList();
    Path file = dir.resolve("scores.csv");
    CharadesScores.write(file, ids, model);

    CharadesMap.Result m = CharadesMap.compute(gt, CharadesScores.read(file, ids));
    CharadesMap.Result random = CharadesMap.compute(gt, Baselines.randomScores(gt, 1));
    CharadesMap.Result frames = CharadesMap.compute(gt,
        Baselines.frameSimilarityScores(gt, charades.resolve("features"), classes));
    System.out.println(Reports.charadesTable(Map.of("chunk mean", m, "random", random, "frames", frames)));
    System.out.println(Reports.charadesCounts(m));

    assertThat(predictor.calls).isEqualTo(22); // one 30 s window per video
    assertThat(m.videos()).isEqualTo(22);
    assertThat(m.map()).isEqualTo(CharadesMap.compute(gt, model).map()); // the file loses nothing
    assertThat(frames.map()).isGreaterThan(random.map() + 0.2);
    assertThat(m.map()).isGreaterThan(random.map() + 0.2);
  }
}
