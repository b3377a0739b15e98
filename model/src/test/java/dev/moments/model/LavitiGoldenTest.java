package dev.moments.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.moments.model.nn.FrameTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The model's outputs for fixed weights and inputs against golden values computed by an
 * independent PyTorch implementation ({@code scripts/laviti_golden.py}, which says how the
 * fixture {@code laviti-golden.npz} was made): batches of 1 to 4 windows, lengths that are and
 * are not multiples of the kernel, padded and unpadded batches. Every window's expected outputs
 * were computed for the window alone, so a batch must not change them.
 */
class LavitiGoldenTest {
  private static final float TOLERANCE = 1e-4f;
  private static NDManager manager;
  private static Map<String, NDArray> fixture;
  private static LavitiModel model;
  private static double fps;

  @BeforeAll
  static void load() throws IOException {
    manager = NDManager.newBaseManager();
    byte[] bytes;
    try (InputStream in = LavitiGoldenTest.class.getResourceAsStream("/laviti-golden.npz")) {
      assertThat(in).as("fixture laviti-golden.npz").isNotNull();
      bytes = in.readAllBytes();
    }
    fixture = new HashMap<>();
    for (NDArray a : NDList.decode(manager, bytes)) {
      fixture.put(a.getName(), a);
    }
    int[] c = fixture.get("config").toIntArray();
    LavitiConfig cfg = new LavitiConfig(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]);
    fps = fixture.get("fps").getFloat(0);
    model = LavitiModel.random(cfg, "golden", fps, 0);
    for (Pair<String, Parameter> p : model.block().getParameters()) {
      Parameter param = p.getValue();
      float[] v;
      if (param == model.block().tokenizer().weight()) {
        // the reference holds the paper's conv weight [D, C, k]: convert it as old checkpoints are
        v = FrameTokenizer.fromConvLayout(array("tokenizer_conv_weight").toFloatArray(), cfg.dModel(),
            cfg.featureDim(), cfg.kernel());
      } else {
        NDArray a = array(path(p.getKey()));
        assertThat(a.getShape()).as(p.getKey()).isEqualTo(param.getShape());
        v = a.toFloatArray();
      }
      param.getArray().set(FloatBuffer.wrap(v));
    }
  }

  @AfterAll
  static void close() {
    model.close();
    manager.close();
  }

  /** DJL's parameter name without the two-digit child prefixes: 05encoder0_02attn_01q_weight -> encoder0_attn_q_weight. */
  static String path(String djlName) {
    return djlName.replaceAll("(^|_)\\d\\d(?=[a-zA-Z])", "$1");
  }

  private static NDArray array(String name) {
    NDArray a = fixture.get(name);
    assertThat(a).as("fixture array " + name + " (fixture has " + fixture.keySet() + ")").isNotNull();
    return a;
  }

  private static List<float[][]> windows(int c) {
    int[] lengths = array("case" + c + "_lengths").toIntArray();
    List<float[][]> ws = new ArrayList<>();
    for (int j = 0; j < lengths.length; j++) {
      NDArray w = array("case" + c + "_w" + j);
      int t = Math.toIntExact(w.getShape().get(0));
      int dim = Math.toIntExact(w.getShape().get(1));
      assertThat(t).isEqualTo(lengths[j]);
      float[] flat = w.toFloatArray();
      float[][] rows = new float[t][dim];
      for (int i = 0; i < t; i++) {
        System.arraycopy(flat, i * dim, rows[i], 0, dim);
      }
      ws.add(rows);
    }
    return ws;
  }

  private static int cases() {
    int n = 0;
    while (fixture.containsKey("case" + n + "_lengths")) {
      n++;
    }
    return n;
  }

  @Test
  void the_fixture_covers_batches_of_one_to_four_and_lengths_off_the_kernel() {
    assertThat(cases()).isGreaterThanOrEqualTo(6);
    List<Integer> sizes = new ArrayList<>();
    boolean offKernel = false;
    for (int c = 0; c < cases(); c++) {
      int[] lengths = array("case" + c + "_lengths").toIntArray();
      sizes.add(lengths.length);
      for (int t : lengths) {
        offKernel |= t % model.config().kernel() != 0;
      }
    }
    assertThat(sizes).contains(1, 2, 3, 4);
    assertThat(offKernel).isTrue();
  }

  @Test
  void the_network_outputs_match_the_pytorch_reference_in_every_batch() {
    for (int c = 0; c < cases(); c++) {
      List<float[][]> ws = windows(c);
      float[][] out = new float[3][];
      try (NDManager sub = model.manager().newSubManager()) {
        NDList in = WindowBatch.inputs(sub, model.config(), ws);
        NDList o = model.block().forward(new ParameterStore(sub, false), in, false);
        for (int i = 0; i < 3; i++) {
          out[i] = o.get(i).toFloatArray();
        }
      }
      String[] names = {"v", "s", "e"};
      for (int i = 0; i < 3; i++) {
        float[] expected = array("case" + c + "_" + names[i]).toFloatArray();
        assertThat(out[i]).as("case %d (lengths %s) output %s", c, lengths(c), names[i])
            .containsExactly(expected, org.assertj.core.api.Assertions.within(TOLERANCE));
      }
    }
  }

  @Test
  void predicted_embeddings_and_scores_match_the_pytorch_reference_in_every_batch() {
    for (int c = 0; c < cases(); c++) {
      List<float[][]> ws = windows(c);
      List<List<PredictedMoment>> got = model.predictBatch(ws, fps);
      float[] v = array("case" + c + "_v").toFloatArray();
      float[] score = array("case" + c + "_score").toFloatArray();
      int m = model.config().numQueries();
      int text = model.config().textDim();
      for (int b = 0; b < ws.size(); b++) {
        for (int q = 0; q < m; q++) {
          PredictedMoment pm = got.get(b).get(q);
          float[] ev = new float[text];
          System.arraycopy(v, (b * m + q) * text, ev, 0, text);
          assertThat(pm.embedding()).as("case %d window %d query %d embedding", c, b, q)
              .containsExactly(ev, org.assertj.core.api.Assertions.within(TOLERANCE));
          assertThat(pm.score()).as("case %d window %d query %d score", c, b, q)
              .isCloseTo(score[b * m + q], org.assertj.core.api.Assertions.within(TOLERANCE));
        }
      }
    }
  }

  private static String lengths(int c) {
    return java.util.Arrays.toString(array("case" + c + "_lengths").toIntArray());
  }
}
