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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

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

  /** Leaves d(scale * factor * sum(w))/dw on the weight (and nothing on the bias). */
  private static void backward(List<Parameter> params, float scale, float factor) {
    NDArray w = params.get(0).getArray();
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray loss = w.mul(scale).mul(factor).sum();
      gc.backward(loss);
    }
  }
}
