package dev.moments.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.featurizer.store.TextEmbeddings;
import dev.moments.model.LavitiConfig;
import dev.moments.model.LavitiModel;
import dev.moments.trainer.LavitiTrainer;
import dev.moments.trainer.TrainingSet;
import dev.moments.trainer.ego4d.Narrations;
import dev.moments.trainer.ego4d.NlqAnnotations;
import dev.moments.trainer.synth.SynthFeatures;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The small LAVITI trained on the narrations of 96 synthetic videos (1200 steps, about a minute
 * on two cores) answers NLQ zero-shot on 8 held-out videos whose narrations it never saw.
 *
 * <p>Measured (seeded, but libtorch's multi-threaded kernels are not bit-exact from run to run),
 * 58 queries, R@k at IoU 0.3 in %, windows of the training chunk length (120 s, stride 60 s):
 *
 * <pre>
 *                      R@1    R@3    R@5    R@1@0.5  mIoU
 *   random             5.2   15.5   22.4     0.0     7.2
 *   laviti-small      36.2   50.0   62.1    17.2    22.7   (per-pass narration intervals)
 *   laviti-small      46.6   63.8   75.9    17.2    25.4   (another run, 2026-11-30)
 *   frame similarity  53.4   86.2   91.4    29.3    36.1   (peaks; text and frames share a direction here)
 * </pre>
 *
 * The asserted margin, R@1 IoU0.3 at least 15 points above random (measured 31), is safe: with 58
 * queries one query is 1.7 points and the binomial standard deviation of R@1 near 36 % is about 6
 * points, so 15 is more than two deviations below what the model reaches. The same model with
 * 600 s windows (five times its training chunk) reached only 21 %: temporal embeddings are
 * relative to the window, so evaluation uses the checkpoint's chunk length by default.
 */
class LavitiZeroShotNlqTest {
  @TempDir Path dir;

  @Test
  void the_trained_small_model_answers_held_out_queries_far_better_than_random_intervals() throws Exception {
    Path data = dir.resolve("synth");
    SynthFeatures.generate(data, new SynthFeatures.Config(104, 8, 4, 32, 6, 11));
    Path npz = data.resolve("text_embeddings.npz");
    TextEmbeddings table = TextEmbeddings.read(npz);
    TrainingSet train = TrainingSet.open(data.resolve("features"),
        Narrations.read(data.resolve("narration.json")).timedByVideo(), table::get, CHUNK_SEC);
    LavitiTrainer.Options o = LavitiTrainer.Options.defaults(dir.resolve("model"))
        .withEpochs(EPOCHS).withBatch(4).withLr(2e-3).withSeed(5);
    long t0 = System.nanoTime();
    LavitiTrainer.Result r = LavitiTrainer.train(train, LavitiConfig.small(train.featureDim(), train.textDim()), o);
    double first = r.meanLoss(true, 5);
    double last = r.meanLoss(false, 5);

    NlqAnnotations gt = NlqAnnotations.read(data.resolve("nlq_val.json"));
    QueryText text = QueryText.fromTable(table, npz);
    NlqMetrics.Scores model;
    try (LavitiModel m = LavitiModel.load(r.checkpoint())) {
      assertThat(m.metadata().trainingChunkSec()).hasValue(CHUNK_SEC);
      model = NlqMetrics.score(gt, new NlqEvaluator(m, text, new NlqEvaluator.Options(CHUNK_SEC, CHUNK_SEC / 2, 5, 0.95))
          .run(gt, data.resolve("features")).predictions());
    }
    NlqMetrics.Scores random = NlqMetrics.score(gt, Baselines.randomIntervals(gt, 5, 1));
    System.out.printf("trained %d steps in %.1f s, loss %.3f -> %.3f%n", r.steps(),
        (System.nanoTime() - t0) / 1e9, first, last);
    // printed, not asserted: issue 11 (the model alone is below the frame baseline here)
    NlqMetrics.Scores frames = NlqMetrics.score(gt, Baselines.frameSimilarity(gt, data.resolve("features"), text, 5));
    System.out.println(Reports.nlqTable(Map.of("laviti-small", model, "random", random, "frame similarity", frames)));

    assertThat(last).isLessThan(0.5 * first);
    assertThat(model.evaluated()).isEqualTo(gt.queries().size()).isGreaterThan(50);
    assertThat(model.recall(1, 0.3)).isGreaterThan(random.recall(1, 0.3) + 0.15);
    assertThat(model.recall(5, 0.3)).isGreaterThan(random.recall(5, 0.3) + 0.15);
  }

  private static final double CHUNK_SEC = 120;
  private static final int EPOCHS = 25;
}
