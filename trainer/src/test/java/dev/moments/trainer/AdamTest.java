package dev.moments.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdamTest {
  @Test
  void a_non_finite_step_is_skipped_and_does_not_poison_the_next_one() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Linear linear = Linear.builder().setUnits(2).build();
      linear.initialize(manager, DataType.FLOAT32, new Shape(1, 3));
      List<Parameter> params = new ArrayList<>();
      linear.getParameters().forEach(p -> params.add(p.getValue()));
      Adam adam = new Adam(params, manager);
      NDArray w = params.get(0).getArray();
      float[] before = w.toFloatArray();

      // step 1: a NaN gradient (0 * inf) -> skipped, parameters untouched
      backward(params, Float.POSITIVE_INFINITY, 0f);
      assertThat(adam.step(1, 0.1, 1.0)).isNaN();
      assertThat(w.toFloatArray()).containsExactly(before);
      // the gradients are exactly zero again (grad - grad would have left NaN in place)
      assertThat(w.getGradient().toFloatArray()).containsOnly(0f);

      // step 2: a finite gradient -> a finite norm and a real update
      backward(params, 1f, 1f);
      double norm = adam.step(2, 0.1, 1.0);
      assertThat(norm).isFinite().isPositive();
      assertThat(w.toFloatArray()).doesNotContain(Float.NaN);
      assertThat(w.toFloatArray()).isNotEqualTo(before);
    }
  }

  @Test
  void the_gradient_norm_of_huge_gradients_does_not_overflow() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Linear linear = Linear.builder().setUnits(2).build();
      linear.initialize(manager, DataType.FLOAT32, new Shape(1, 3));
      List<Parameter> params = new ArrayList<>();
      linear.getParameters().forEach(p -> params.add(p.getValue()));
      Adam adam = new Adam(params, manager);
      // d/dw of 1e25 * sum(w) = 1e25 per element: squares overflow float, not double
      backward(params, 1e25f, 1f);
      double norm = adam.step(1, 0.1, 1.0);
      // 6 weights + 2 biases... only the weights get 1e25: sqrt(6) * 1e25
      assertThat(norm).isCloseTo(Math.sqrt(6) * 1e25, org.assertj.core.data.Percentage.withPercentage(0.01));
    }
  }

  @Test
  void saved_and_loaded_state_continues_with_exactly_the_updates_of_an_uninterrupted_run(@TempDir Path dir)
      throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      List<Parameter> a = linear(manager);
      List<Parameter> b = linear(manager);
      Adam full = new Adam(a, manager);
      Adam first = new Adam(b, manager);
      for (int step = 1; step <= 5; step++) {
        quadratic(a, step);
        full.step(step, 0.05, 1.0);
        if (step <= 2) {
          quadratic(b, step);
          first.step(step, 0.05, 1.0);
        }
      }
      Path state = dir.resolve("adam.ndlist");
      first.save(state);
      // a new optimizer over the same parameters, as after a restart: moments from the file
      List<Parameter> c = linear(manager);
      for (int i = 0; i < c.size(); i++) {
        c.get(i).getArray().set(b.get(i).getArray().toFloatArray());
      }
      Adam resumed = new Adam(c, manager);
      resumed.load(state, manager);
      for (int step = 3; step <= 5; step++) {
        quadratic(c, step);
        resumed.step(step, 0.05, 1.0);
      }
      for (int i = 0; i < a.size(); i++) {
        assertThat(c.get(i).getArray().toFloatArray()).containsExactly(a.get(i).getArray().toFloatArray());
      }
      // and a fresh optimizer (zero moments) would not have: the state file matters
      List<Parameter> d = linear(manager);
      for (int i = 0; i < d.size(); i++) {
        d.get(i).getArray().set(b.get(i).getArray().toFloatArray());
      }
      Adam reset = new Adam(d, manager);
      for (int step = 3; step <= 5; step++) {
        quadratic(d, step);
        reset.step(step, 0.05, 1.0);
      }
      assertThat(d.get(0).getArray().toFloatArray()).isNotEqualTo(a.get(0).getArray().toFloatArray());
    }
  }

  @Test
  void the_update_is_textbook_adam_with_clipping_up_to_float_rounding() {
    try (NDManager manager = NDManager.newBaseManager()) {
      List<Parameter> params = linear(manager);
      Adam adam = new Adam(params, manager);
      int n = params.size();
      double[][] w = new double[n][];
      double[][] m = new double[n][];
      double[][] v = new double[n][];
      for (int i = 0; i < n; i++) {
        w[i] = toDouble(params.get(i).getArray().toFloatArray());
        m[i] = new double[w[i].length];
        v[i] = new double[w[i].length];
      }
      double lr = 0.05;
      double clipNorm = 1.0;
      for (int step = 1; step <= 6; step++) {
        quadratic(params, step);
        // the same gradient in double: d/dp step * (p^2 + p^3) = step * (2p + 3p^2)
        double[][] g = new double[n][];
        double sq = 0;
        for (int i = 0; i < n; i++) {
          g[i] = new double[w[i].length];
          for (int j = 0; j < w[i].length; j++) {
            g[i][j] = step * (2 * w[i][j] + 3 * w[i][j] * w[i][j]);
            sq += g[i][j] * g[i][j];
          }
        }
        double norm = Math.sqrt(sq);
        assertThat(adam.step(step, lr, clipNorm)).isCloseTo(norm, org.assertj.core.data.Percentage.withPercentage(1e-4));
        double clip = norm > clipNorm ? clipNorm / norm : 1;
        assertThat(clip).as("the gradients are clipped at step %d", step).isLessThan(1);
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < w[i].length; j++) {
            double gj = g[i][j] * clip;
            m[i][j] = 0.9 * m[i][j] + 0.1 * gj;
            v[i][j] = 0.999 * v[i][j] + 0.001 * gj * gj;
            double mHat = m[i][j] / (1 - Math.pow(0.9, step));
            double vHat = v[i][j] / (1 - Math.pow(0.999, step));
            w[i][j] -= lr * mHat / (Math.sqrt(vHat) + 1e-8);
          }
          float[] got = params.get(i).getArray().toFloatArray();
          for (int j = 0; j < got.length; j++) {
            assertThat((double) got[j]).as("parameter %d[%d] after step %d", i, j, step).isCloseTo(w[i][j],
                org.assertj.core.data.Offset.offset(1e-5));
          }
          // carry on from the float parameters, as the optimizer does
          w[i] = toDouble(got);
        }
      }
    }
  }

  private static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  private static List<Parameter> linear(NDManager manager) {
    Linear linear = Linear.builder().setUnits(3).build();
    linear.initialize(manager, DataType.FLOAT32, new Shape(1, 4));
    List<Parameter> params = new ArrayList<>();
    linear.getParameters().forEach(p -> params.add(p.getValue()));
    float[] w = new float[12];
    for (int i = 0; i < w.length; i++) {
      w[i] = (i % 5 - 2) * 0.3f + 0.01f * i;
    }
    params.get(0).getArray().set(w);
    params.get(1).getArray().set(new float[] {0.5f, -0.25f, 1f});
    params.forEach(p -> p.getArray().setRequiresGradient(true));
    return params;
  }

  /** Leaves the gradient of step * sum(p^2 + p^3) on every parameter (elementwise, so exact). */
  private static void quadratic(List<Parameter> params, int step) {
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray loss = null;
      for (Parameter p : params) {
        NDArray x = p.getArray();
        NDArray l = x.square().add(x.pow(3)).sum().mul(step);
        loss = loss == null ? l : loss.add(l);
      }
      gc.backward(loss);
    }
  }

  /** Leaves d(scale * factor * sum(w))/dw on the weight (and nothing on the bias). */
  private static void backward(List<Parameter> params, float scale, float factor) {
    NDArray w = params.get(0).getArray();
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray loss = w.mul(scale).mul(factor).sum();
      gc.backward(loss);
    }
  }
}
