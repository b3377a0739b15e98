package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.model.LavitiModel;
import dev.moments.trainer.TrainingCurve;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** synth features -> train -> eval nlq through the command line, and train --resume. */
class TrainEvalCommandTest {
  @TempDir Path dir;

  @Test
  void a_training_run_that_blows_up_stops_with_one_line_naming_the_step() {
    Path data = dir.resolve("synth");
    assertThat(Cli.run("synth", "features", "--out", data.toString(), "--videos", "2", "--minutes", "2",
        "--dim", "16").rc()).isZero();
    Cli.Out train = Cli.run("train", "--narrations", data.resolve("narration.json").toString(), "--features",
        data.resolve("features").toString(), "--text-embeddings", data.resolve("text_embeddings.npz").toString(),
        "--out", dir.resolve("model").toString(), "--config", "tiny", "--max-steps", "10", "--batch", "2",
        "--lr", "1e6", "--chunk-sec", "60");
    assertThat(train.rc()).as(train.err()).isEqualTo(1);
    assertThat(train.err().strip().lines()).singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .matches("moments train: training stopped at step \\d+: .*(NaN|Infinity).*lower --lr.*");
  }

  @Test
  void a_model_trained_from_the_command_line_is_scored_and_resumes_where_it_stopped() throws Exception {
    Path data = dir.resolve("synth");
    assertThat(Cli.run("synth", "features", "--out", data.toString(), "--videos", "4", "--minutes", "2",
        "--dim", "16").rc()).isZero();
    Path model = dir.resolve("model");
    String npz = data.resolve("text_embeddings.npz").toString();
    Cli.Out train = Cli.run("train", "--narrations", data.resolve("narration.json").toString(), "--features",
        data.resolve("features").toString(), "--text-embeddings", npz, "--out", model.toString(),
        "--config", "tiny", "--max-steps", "6", "--batch", "2", "--lr", "1e-3", "--chunk-sec", "60");
    assertThat(train.rc()).as(train.err()).isZero();
    assertThat(train.out()).contains("trained 6 steps");
    for (String f : new String[] {"config.json", "metadata.json"}) {
      assertThat(model.resolve(f)).exists();
    }
    try (var files = Files.list(model)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .anyMatch(n -> n.endsWith(".csv")).anyMatch(n -> n.endsWith(".png"));
    }
    try (LavitiModel m = LavitiModel.load(model)) {
      assertThat(m.metadata().step()).isEqualTo(6);
    }

    Cli.Out resumed = Cli.run("train", "--narrations", data.resolve("narration.json").toString(), "--features",
        data.resolve("features").toString(), "--text-embeddings", npz, "--out", model.toString(),
        "--config", "tiny", "--max-steps", "9", "--batch", "2", "--lr", "1e-3", "--chunk-sec", "60", "--resume",
        "--eval-nlq", data.resolve("nlq_val.json").toString(), "--eval-every", "2");
    assertThat(resumed.rc()).as(resumed.err()).isZero();
    // held-out recall as it trains: at steps 8 and 9 (the last), printed and kept beside the loss curve
    assertThat(resumed.out()).contains("held-out NLQ (").contains("frame similarity R@1")
        .contains("held-out NLQ at step 8 (epoch").contains("held-out NLQ at step 9 (epoch");
    assertThat(resumed.out()).contains("convergence: too few steps to tell (9)");
    List<String> evals = Files.readAllLines(model.resolve("epoch_metrics.csv"));
    assertThat(evals).anyMatch(l -> l.matches("\\d+,8,heldout_R@1_IoU0.3,[0-9.]+"))
        .anyMatch(l -> l.matches("\\d+,9,heldout_R@5_IoU0.3,[0-9.]+"));
    try (LavitiModel m = LavitiModel.load(model)) {
      assertThat(m.metadata().step()).isEqualTo(9);
    }

    Path preds = dir.resolve("preds.json");
    Cli.Out eval = Cli.run("eval", "nlq", "--annotations", data.resolve("nlq_val.json").toString(), "--features",
        data.resolve("features").toString(), "--model", model.toString(), "--text-embeddings", npz,
        "--predictions-out", preds.toString(), "--json");
    assertThat(eval.rc()).as(eval.err()).isZero();
    JsonNode metrics = new ObjectMapper().readTree(eval.out());
    for (String k : new String[] {"r1_iou0.3", "r3_iou0.3", "r5_iou0.3", "r1_iou0.5", "r3_iou0.5", "r5_iou0.5", "miou"}) {
      assertThat(metrics.path(k).asDouble(-1)).as(k).isBetween(0.0, 100.0);
    }
    assertThat(preds).exists();
    // the written file scores the same with the standalone scorer
    Cli.Out score = Cli.run("eval", "score-nlq", "--annotations", data.resolve("nlq_val.json").toString(),
        "--predictions", preds.toString(), "--json");
    assertThat(new ObjectMapper().readTree(score.out()).path("r5_iou0.3").asDouble())
        .isEqualTo(metrics.path("r5_iou0.3").asDouble());
    // the table: the four rankers side by side, the fused one being what was written
    Cli.Out rankers = Cli.run("eval", "nlq", "--annotations", data.resolve("nlq_val.json").toString(), "--features",
        data.resolve("features").toString(), "--model", model.toString(), "--text-embeddings", npz);
    assertThat(rankers.rc()).as(rankers.err()).isZero();
    assertThat(rankers.out()).contains("(LAVITI-only)").contains("frame-only").contains("\nfused ")
        .contains("random intervals");

    // CharadesEgo: the model's score CSV, its mAP, and the same mAP from the standalone scorer
    Path scores = dir.resolve("charades_scores.csv");
    String csv = data.resolve("CharadesEgo_v1_test.csv").toString();
    String classes = data.resolve("Charades_v1_classes.txt").toString();
    Cli.Out charades = Cli.run("eval", "charades", "--annotations", csv, "--classes", classes, "--features",
        data.resolve("features").toString(), "--model", model.toString(), "--text-embeddings", npz,
        "--scores-out", scores.toString(), "--json");
    assertThat(charades.rc()).as(charades.err()).isZero();
    double map = new ObjectMapper().readTree(charades.out()).path("mAP").asDouble(-1);
    assertThat(map).isBetween(0.0, 100.0);
    assertThat(Files.readAllLines(scores).get(0)).startsWith("id,c000,");
    Cli.Out rescored = Cli.run("eval", "score-charades", "--annotations", csv, "--classes", classes, "--scores",
        scores.toString(), "--json");
    assertThat(rescored.rc()).as(rescored.err()).isZero();
    assertThat(new ObjectMapper().readTree(rescored.out()).path("mAP").asDouble()).isEqualTo(map);
    Cli.Out table = Cli.run("eval", "charades", "--annotations", csv, "--classes", classes, "--features",
        data.resolve("features").toString(), "--model", model.toString(), "--text-embeddings", npz);
    assertThat(table.rc()).as(table.err()).isZero();
    assertThat(table.out()).contains("random scores").contains("frame similarity");
  }

  @Test
  void a_step_budget_runs_as_many_epochs_as_it_takes() throws Exception {
    Path data = dir.resolve("synth-steps");
    assertThat(Cli.run("synth", "features", "--out", data.toString(), "--videos", "4", "--minutes", "2",
        "--dim", "16").rc()).isZero();
    Path model = dir.resolve("model-steps");
    Cli.Out train = Cli.run("train", "--narrations", data.resolve("narration.json").toString(), "--features",
        data.resolve("features").toString(), "--text-embeddings", data.resolve("text_embeddings.npz").toString(),
        "--out", model.toString(), "--config", "tiny", "--epochs", "1", "--steps", "11", "--batch", "2",
        "--lr", "1e-3", "--chunk-sec", "60");
    assertThat(train.rc()).isZero();
    // 3 training videos x 2 min of 60 s chunks = 6 chunks, 3 steps per epoch: 11 steps take 4 epochs
    assertThat(train.out()).contains("trained 11 steps on 6 chunks");
    try (LavitiModel m = LavitiModel.load(model)) {
      assertThat(m.metadata().step()).isEqualTo(11);
    }
  }

  @Test
  void the_verdict_says_when_the_loss_still_falls() {
    List<TrainingCurve.Point> falling = new java.util.ArrayList<>();
    List<TrainingCurve.Point> flat = new java.util.ArrayList<>();
    for (int i = 1; i <= 200; i++) {
      falling.add(new TrainingCurve.Point(i, 20.0 / Math.sqrt(i), 1e-3));
      flat.add(new TrainingCurve.Point(i, 2.0 + 0.01 * Math.sin(i), 1e-3));
    }
    assertThat(TrainCommand.verdict(falling)).startsWith("convergence: NOT converged, the loss still fell")
        .contains("over the last 20 steps");
    assertThat(TrainCommand.verdict(flat)).startsWith("convergence: the loss is flat over the last 20 steps");
  }

  @Test
  void a_model_for_other_features_is_refused_in_one_line() throws Exception {
    Path data = dir.resolve("synth");
    assertThat(Cli.run("synth", "features", "--out", data.toString(), "--videos", "2", "--minutes", "1",
        "--dim", "16").rc()).isZero();
    Cli.Out eval = Cli.run("eval", "nlq", "--annotations", data.resolve("nlq_val.json").toString(), "--features",
        data.resolve("features").toString(), "--model", "../models/laviti-tiny", "--text-embeddings",
        data.resolve("text_embeddings.npz").toString());
    assertThat(eval.rc()).isEqualTo(1);
    assertThat(eval.err().strip()).startsWith("moments nlq: ").doesNotContain("\n").contains("dim");
  }
}
