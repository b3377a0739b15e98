package dev.moments.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.moments.model.nn.FrameTokenizer;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints written while the tokenizer was a DJL {@code Conv1d} (weight {@code [D, C, k]})
 * still load, with the weight converted to the linear tokenizer's {@code [D, k·C]}, and predict
 * what they predicted.
 */
class ConvCheckpointTest {
  private static final int C = 24;
  private static final int TEXT = 16;
  private static final double FPS = 6.0;

  /** The conv layout of a tokenizer weight, written out independently of FrameTokenizer. */
  private static float[] toConvLayout(float[] w, int d, int c, int k) {
    float[] conv = new float[w.length];
    for (int o = 0; o < d; o++) {
      for (int j = 0; j < k; j++) {
        for (int ch = 0; ch < c; ch++) {
          conv[(o * c + ch) * k + j] = w[o * k * c + j * c + ch];
        }
      }
    }
    return conv;
  }

  private static Conv1d conv(NDManager manager, LavitiModel m) {
    LavitiConfig cfg = m.config();
    Conv1d conv = Conv1d.builder().setKernelShape(new Shape(cfg.kernel())).optStride(new Shape(cfg.kernel()))
        .setFilters(cfg.dModel()).build();
    conv.initialize(manager, DataType.FLOAT32, new Shape(1, cfg.featureDim(), cfg.kernel()));
    FrameTokenizer tok = m.block().tokenizer();
    List<Parameter> ps = conv.getParameters().values();
    ps.get(0).getArray().set(FloatBuffer.wrap(
        toConvLayout(tok.weight().getArray().toFloatArray(), cfg.dModel(), cfg.featureDim(), cfg.kernel())));
    ps.get(1).getArray().set(FloatBuffer.wrap(tok.getParameters().get("bias").getArray().toFloatArray()));
    return conv;
  }

  private static byte[] bytes(ai.djl.nn.Block b) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (DataOutputStream dos = new DataOutputStream(out)) {
      b.saveParameters(dos);
    }
    return out.toByteArray();
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  @Test
  void a_checkpoint_with_the_conv_tokenizer_loads_converted_and_predicts_the_same(@TempDir Path dir)
      throws IOException {
    try (LavitiModel model = LavitiModel.random(LavitiConfig.tiny(C, TEXT), "enc-a", FPS, 42);
        NDManager manager = NDManager.newBaseManager()) {
      model.save(dir, new CheckpointMetadata("enc-a", C, TEXT, FPS, Map.of(), 3, Map.of()));
      // the old checkpoint: the same parameter stream with the tokenizer's record written by a Conv1d
      byte[] params = Files.readAllBytes(dir.resolve(LavitiModel.PARAMS_FILE));
      byte[] tok = bytes(model.block().tokenizer());
      byte[] conv = bytes(conv(manager, model));
      int at = indexOf(params, tok);
      assertThat(at).isPositive();
      byte[] old = new byte[params.length - tok.length + conv.length];
      System.arraycopy(params, 0, old, 0, at);
      System.arraycopy(conv, 0, old, at, conv.length);
      System.arraycopy(params, at + tok.length, old, at + conv.length, params.length - at - tok.length);
      Files.write(dir.resolve(LavitiModel.PARAMS_FILE), old);

      try (LavitiModel loaded = LavitiModel.load(dir)) {
        assertThat(loaded.block().tokenizer().loadedLegacy()).isTrue();
        assertThat(loaded.block().tokenizer().weight().getShape()).isEqualTo(new Shape(32, 7 * C));
        assertThat(loaded.block().tokenizer().weight().getArray().toFloatArray())
            .containsExactly(model.block().tokenizer().weight().getArray().toFloatArray());
        // the id a checkpoint had is the hash of its file
        assertThat(loaded.modelId()).isNotEqualTo(model.modelId()).startsWith("laviti-");
        List<float[][]> ws = List.of(LavitiModelTest.window(60, 1), LavitiModelTest.window(9, 2));
        List<List<PredictedMoment>> a = model.predictBatch(ws, FPS);
        List<List<PredictedMoment>> b = loaded.predictBatch(ws, FPS);
        for (int i = 0; i < ws.size(); i++) {
          for (int q = 0; q < a.get(i).size(); q++) {
            assertThat(b.get(i).get(q).embedding()).containsExactly(a.get(i).get(q).embedding());
            assertThat(b.get(i).get(q).startSec()).isEqualTo(a.get(i).get(q).startSec());
            assertThat(b.get(i).get(q).score()).isEqualTo(a.get(i).get(q).score());
          }
        }
        // saved again, it is in the new format
        Path again = dir.resolve("again");
        loaded.save(again, loaded.metadata());
        try (LavitiModel reloaded = LavitiModel.load(again)) {
          assertThat(reloaded.block().tokenizer().loadedLegacy()).isFalse();
          assertThat(reloaded.modelId()).isEqualTo(model.modelId());
        }
      }
    }
  }

  @Test
  void the_linear_tokenizer_computes_what_the_conv_computed_for_one_window() {
    try (LavitiModel model = LavitiModel.random(LavitiConfig.tiny(C, TEXT), "enc-a", FPS, 5);
        NDManager manager = NDManager.newBaseManager()) {
      Conv1d conv = conv(manager, model);
      for (int t : new int[] {7, 70, 75}) {
        float[][] w = LavitiModelTest.window(t, t);
        float[] flat = new float[t * C];
        for (int i = 0; i < t; i++) {
          System.arraycopy(w[i], 0, flat, i * C, C);
        }
        NDArray frames = manager.create(flat, new Shape(1, t, C));
        // a single window takes a conv path that computes right on every CPU (issue 8)
        float[] expected = conv.forward(new ParameterStore(manager, false), new NDList(frames.transpose(0, 2, 1)), false)
            .singletonOrThrow().transpose(0, 2, 1).toFloatArray();
        NDArray got = model.block().tokenizer()
            .forward(new ParameterStore(manager, false), new NDList(frames), false).singletonOrThrow();
        assertThat(got.getShape()).isEqualTo(new Shape(1, t / 7, 32));
        assertThat(got.toFloatArray()).as("T = %d", t).containsExactly(expected, within(1e-5f));
      }
    }
  }

  @Test
  void the_bundled_checkpoint_written_with_the_conv_tokenizer_is_the_seeded_model_it_was() {
    // models/laviti-tiny was written by the conv tokenizer from LavitiModel.random(tiny(64, 64), seed 42)
    Path bundled = Path.of("..", "models", "laviti-tiny");
    try (LavitiModel loaded = LavitiModel.load(bundled);
        LavitiModel seeded = LavitiModel.random(LavitiConfig.tiny(64, 64), "moments-tiny-clip-v1", 6.0, 42)) {
      assertThat(loaded.block().tokenizer().loadedLegacy()).isTrue();
      List<Pair<String, Parameter>> a = loaded.block().getParameters().stream().toList();
      List<Pair<String, Parameter>> b = seeded.block().getParameters().stream().toList();
      assertThat(a).hasSameSizeAs(b);
      for (int i = 0; i < a.size(); i++) {
        assertThat(a.get(i).getKey()).isEqualTo(b.get(i).getKey());
        assertThat(a.get(i).getValue().getArray().toFloatArray()).as(a.get(i).getKey())
            .containsExactly(b.get(i).getValue().getArray().toFloatArray());
      }
      float[][] w = new float[50][64];
      for (float[] row : w) {
        Arrays.fill(row, 0.125f);
      }
      List<PredictedMoment> pa = loaded.predict(w, 6.0);
      List<PredictedMoment> pb = seeded.predict(w, 6.0);
      for (int q = 0; q < pa.size(); q++) {
        assertThat(pa.get(q).embedding()).containsExactly(pb.get(q).embedding());
      }
    }
  }
}
