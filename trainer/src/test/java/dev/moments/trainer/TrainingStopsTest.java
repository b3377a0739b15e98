package dev.moments.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.moments.featurizer.store.FeatureManifest;
import dev.moments.featurizer.store.Npy;
import dev.moments.model.LavitiConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training stops with one clear message naming the step on numbers it cannot go on from. */
class TrainingStopsTest {
  private static final int C = 24;
  private static final int TEXT = 16;

  private static TrainingSet data(Path dir, boolean nan) throws Exception {
    Path features = dir.resolve("features");
    Files.createDirectories(features);
    TinySynth s = TinySynth.write(features, "v", 2, 40, 2.0, C, TEXT, 4, 5);
    if (nan) {
      Path file = FeatureManifest.featureFile(features, "v1");
      Npy.Matrix m = Npy.read(file);
      float[][] rows = m.rows(0, m.rows());
      rows[33][7] = Float.NaN;
      Npy.write(file, rows);
    }
    // 40 s videos in 20 s chunks: 2 chunks each, 4 in all
    return TrainingSet.open(features, s.narrations, s.texts::get, 20);
  }

  @Test
  void a_nan_in_the_features_stops_training_at_the_first_step_that_reads_it(@TempDir Path tmp) throws Exception {
    TrainingSet data = data(tmp, true);
    // batch 1, 4 chunks: the chunk of v1 from frame 0 (frame 33 is the NaN) comes at some step of epoch 1
    LavitiTrainer.Options o = LavitiTrainer.Options.defaults(tmp.resolve("out")).withEpochs(2).withBatch(1)
        .withLr(1e-3).withSeed(9);
    TrainingStoppedException e = catchThrowableOfType(TrainingStoppedException.class,
        () -> LavitiTrainer.train(data, LavitiConfig.tiny(C, TEXT), o));
    assertThat(e).isNotNull();
    assertThat(e.step()).isBetween(1L, 4L);
    assertThat(e.getMessage()).isEqualTo("training stopped at step " + e.step()
        + ": the frame features of video v1 hold NaN (frame 33, feature 7); fix or drop that video;"
        + " no checkpoint written by this run");
    // nothing was written after the bad step: no checkpoint, no curve
    assertThat(Files.exists(tmp.resolve("out").resolve("laviti.params"))).isFalse();
  }

  @Test
  void a_learning_rate_that_blows_up_the_numbers_stops_training_naming_the_step(@TempDir Path tmp)
      throws Exception {
    TrainingSet data = data(tmp, false);
    // lr 1e6, no warm-up: the first update moves the log temperature by ~1e6, exp() overflows
    LavitiTrainer.Options o = LavitiTrainer.Options.defaults(tmp.resolve("out")).withEpochs(5).withBatch(2)
        .withLr(1e6).withWarmup(0).withSeed(9);
    TrainingStoppedException e = catchThrowableOfType(TrainingStoppedException.class,
        () -> LavitiTrainer.train(data, LavitiConfig.tiny(C, TEXT), o));
    assertThat(e).isNotNull();
    assertThat(e.step()).isBetween(2L, 10L);
    assertThat(e.getMessage())
        .startsWith("training stopped at step " + e.step() + ": ")
        .containsPattern("(loss is|gradient norm is|the model's .* are) (NaN|-?Infinity)")
        .contains("lower --lr");
  }
}
