package dev.moments.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.nn.Parameter;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LavitiModelTest {
  private static final int C = 24;
  private static final int TEXT = 16;
  private static final double FPS = 6.0;
  private static LavitiModel model;

  @BeforeAll
  static void setUp() {
    model = LavitiModel.random(LavitiConfig.tiny(C, TEXT), "enc-a", FPS, 42);
  }

  @AfterAll
  static void tearDown() {
    model.close();
  }

  static float[][] window(int t, long seed) {
    Random r = new Random(seed);
    float[][] w = new float[t][C];
    for (float[] row : w) {
      double n = 0;
      for (int c = 0; c < C; c++) {
        row[c] = (float) r.nextGaussian();
        n += row[c] * row[c];
      }
      for (int c = 0; c < C; c++) {
        row[c] /= (float) Math.sqrt(n);
      }
    }
    return w;
  }

  @Test
  void every_window_length_gives_m_ordered_moments_inside_the_window() {
    for (int t : new int[] {1, 3, 7, 8, 50, 123}) {
      List<PredictedMoment> ms = model.predict(window(t, t), FPS);
      assertThat(ms).hasSize(16);
      for (int i = 0; i < ms.size(); i++) {
        PredictedMoment m = ms.get(i);
        assertThat(m.slot()).isEqualTo(i);
        assertThat(m.startSec()).isBetween(0.5 / FPS, (t - 0.5) / FPS + 1e-9);
        assertThat(m.endSec()).isBetween(m.startSec(), (t - 0.5) / FPS + 1e-9);
        assertThat(m.score()).isBetween(0f, 1f);
        double norm = 0;
        for (float x : m.embedding()) {
          norm += x * x;
        }
        assertThat(m.embedding()).hasSize(TEXT);
        assertThat(Math.sqrt(norm)).isCloseTo(1.0, within(1e-4));
      }
    }
  }

  @Test
  void a_batch_of_different_lengths_predicts_what_each_window_predicts_alone() {
    List<float[][]> ws = List.of(window(60, 1), window(9, 2), window(200, 3), window(2, 4));
    List<List<PredictedMoment>> batch = model.predictBatch(ws, FPS);
    for (int i = 0; i < ws.size(); i++) {
      List<PredictedMoment> alone = model.predict(ws.get(i), FPS);
      for (int q = 0; q < alone.size(); q++) {
        PredictedMoment a = alone.get(q);
        PredictedMoment b = batch.get(i).get(q);
        assertThat(b.embedding()).containsExactly(a.embedding(), within(1e-4f));
        assertThat(b.startSec()).isEqualTo(a.startSec());
        assertThat(b.endSec()).isEqualTo(a.endSec());
        assertThat(b.score()).isCloseTo(a.score(), within(1e-4f));
      }
    }
  }

  @Test
  void start_and_end_come_from_the_te_grid_argmax_and_are_swapped_when_reversed() {
    // Zero the start/end heads' last layer and set its bias to the TE at a known frame centre,
    // so the predicted start TE is exactly TE((k + 0.5) / T) and the argmax must be frame k.
    try (LavitiModel m = LavitiModel.random(LavitiConfig.tiny(C, TEXT), "enc-a", FPS, 7)) {
      int t = 120;
      float[][] table = TemporalEmbeddings.sinusoidal(64, 32);
      setHead(m, "startHead", TemporalEmbeddings.at(table, (90 + 0.5) / t));
      setHead(m, "endHead", TemporalEmbeddings.at(table, (30 + 0.5) / t));
      for (PredictedMoment pm : m.predict(window(t, 5), FPS)) {
        // start frame 90 > end frame 30: swapped to [30.5/6, 90.5/6]
        assertThat(pm.startSec()).isCloseTo(30.5 / FPS, within(1e-9));
        assertThat(pm.endSec()).isCloseTo(90.5 / FPS, within(1e-9));
        // cos = 1 for both: score = sigmoid(10 - 10)^2 = 0.25
        assertThat(pm.score()).isCloseTo(0.25f, within(1e-3f));
      }
    }
  }

  private static void setHead(LavitiModel m, String head, float[] bias) {
    Parameter w = param(m, head, "fc2_weight");
    Parameter b = param(m, head, "fc2_bias");
    w.getArray().set(FloatBuffer.wrap(new float[Math.toIntExact(w.getShape().size())]));
    b.getArray().set(FloatBuffer.wrap(bias));
  }

  // DJL names children "NNname"; find a parameter by its block and leaf name
  private static Parameter param(LavitiModel m, String block, String leaf) {
    for (var p : m.block().getParameters()) {
      if (p.getKey().matches("\\d+" + block + "_\\d+" + leaf)) {
        return p.getValue();
      }
    }
    throw new AssertionError("no parameter " + block + "/" + leaf + " in " + m.block().getParameters().keys());
  }

  @Test
  void save_then_load_gives_identical_outputs_id_and_metadata(@TempDir Path dir) {
    CheckpointMetadata meta =
        new CheckpointMetadata("enc-a", C, TEXT, FPS, Map.of("videos", 3), 17, Map.of("loss", 1.5));
    model.save(dir, meta);
    float[][] w = window(77, 9);
    try (LavitiModel loaded = LavitiModel.load(dir)) {
      assertThat(loaded.modelId()).isEqualTo(model.modelId()).startsWith("laviti-");
      assertThat(loaded.config()).isEqualTo(model.config());
      assertThat(loaded.metadata().step()).isEqualTo(17);
      assertThat(loaded.metadata().metrics()).containsEntry("loss", 1.5);
      List<PredictedMoment> a = model.predict(w, FPS);
      List<PredictedMoment> b = loaded.predict(w, FPS);
      for (int q = 0; q < a.size(); q++) {
        assertThat(b.get(q).embedding()).containsExactly(a.get(q).embedding());
        assertThat(b.get(q).startSec()).isEqualTo(a.get(q).startSec());
        assertThat(b.get(q).endSec()).isEqualTo(a.get(q).endSec());
        assertThat(b.get(q).score()).isEqualTo(a.get(q).score());
      }
    }
  }

  @Test
  void the_same_seed_gives_the_same_weights_and_another_seed_other_weights() {
    try (LavitiModel a = LavitiModel.random(LavitiConfig.tiny(C, TEXT), "enc-a", FPS, 42);
        LavitiModel b = LavitiModel.random(LavitiConfig.tiny(C, TEXT), "enc-a", FPS, 43)) {
      assertThat(a.modelId()).isEqualTo(model.modelId());
      assertThat(b.modelId()).isNotEqualTo(model.modelId());
    }
  }

  @Test
  void missing_or_corrupt_checkpoints_are_rejected_with_a_clear_message(@TempDir Path dir) throws IOException {
    assertThatThrownBy(() -> LavitiModel.load(dir.resolve("nope")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not exist");
    model.save(dir, CheckpointMetadata.untrained("enc-a", C, TEXT, FPS));
    Files.write(dir.resolve(LavitiModel.PARAMS_FILE), new byte[] {1, 2, 3});
    assertThatThrownBy(() -> LavitiModel.load(dir))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("laviti.params is corrupt");
    Files.delete(dir.resolve(LavitiModel.CONFIG_FILE));
    assertThatThrownBy(() -> LavitiModel.load(dir))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("has no config.json");
  }

  @Test
  void features_of_another_encoder_or_dimension_are_incompatible() {
    model.checkCompatible("enc-a", C);
    assertThatThrownBy(() -> model.checkCompatible("enc-b", C))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("model " + model.modelId() + " expects features of encoder enc-a (dim 24), got encoder enc-b (dim 24)");
    assertThatThrownBy(() -> model.checkCompatible("enc-a", 512))
        .hasMessageContaining("got encoder enc-a (dim 512)");
    assertThatThrownBy(() -> model.predict(new float[][] {new float[5]}, FPS))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("has 5 features, the model expects 24");
  }
}
