package dev.moments.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.model.LavitiConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trains the tiny config on {@link TinySynth} data for 160 steps and checks the loss falls.
 *
 * <p>NOTE: the zero-shot NLQ part of acceptance 2 (R@1 IoU0.3 on held-out videos against the
 * random-interval baseline) is not asserted yet: at this budget the tiny model reached 0.115 vs a
 * 0.148 baseline on this data, see the branch report.
 */
class LavitiLearnsTest {
  private static final int C = 24;
  private static final int TEXT = 16;

  @Test
  void training_the_tiny_model_lowers_the_loss_clearly(@TempDir Path tmp) throws Exception {
    Path train = tmp.resolve("train");
    Files.createDirectories(train);
    TinySynth tr = TinySynth.write(train, "t", 8, 120, 2.0, C, TEXT, 8, 1);
    TrainingSet data = TrainingSet.open(train, tr.narrations, tr.texts::get, 60);
    LavitiTrainer.Options o = LavitiTrainer.Options.defaults(tmp.resolve("out"))
        .withEpochs(40).withBatch(4).withLr(1e-3).withSeed(3);
    LavitiTrainer.Result r = LavitiTrainer.train(data, LavitiConfig.tiny(C, TEXT), o);
    double first = r.meanLoss(true, 5);
    double last = r.meanLoss(false, 5);
    System.out.printf("loss %.4f -> %.4f over %d steps%n", first, last, r.steps());
    assertThat(r.steps()).isEqualTo(160);
    // measured 24.2 -> 6.0; a model that learned nothing stays near its initial loss
    assertThat(last).isLessThan(0.5 * first);
  }
}
