package dev.moments.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class SigmoidLossTest {
  @Test
  void loss_of_a_hand_made_window_matches_the_formula() {
    // M = 2 predictions, G = 1 ground truth matched to prediction 0; all three similarity types
    // have cos = 1 for prediction 0 and cos = 0 for prediction 1; t = 10, b = -10.
    //   pred 0 (positive): z = 10*1 - 10 = 0    -> softplus(-0)   = ln 2          = 0.6931472
    //   pred 1 (negative): z = 10*0 - 10 = -10  -> softplus(-10)  = ln(1 + e^-10) = 0.0000454
    // per type 0.6931926 / G(=1); three types: 2.0795777
    try (NDManager nd = NDManager.newBaseManager()) {
      NDArray cos = nd.create(new float[] {1, 0}, new Shape(2, 1));
      NDArray scale = nd.create(new float[] {10f});
      NDArray bias = nd.create(new float[] {-10f});
      float loss = SigmoidLoss.loss(nd, cos, cos, cos, new int[] {0}, scale, bias).getFloat();
      assertThat(loss).isCloseTo(2.0795777f, within(1e-5f));
      // swapping the match makes prediction 1 the positive:
      //   pred 0 negative: softplus(0) = ln 2; pred 1 positive: z = -10 -> softplus(10) = 10.0000454
      float wrong = SigmoidLoss.loss(nd, cos, cos, cos, new int[] {1}, scale, bias).getFloat();
      assertThat(wrong).isCloseTo(3 * (0.6931472f + 10.0000454f), within(1e-4f));
    }
  }

  @Test
  void two_ground_truths_average_over_g_and_an_unmatched_prediction_is_negative_everywhere() {
    // M = 3, G = 2, matches gt0 -> pred 2, gt1 -> pred 0; pred 1 unmatched. t = 1, b = 0, all cos = 0:
    // every logit is 0, every pair costs ln 2, 6 pairs / G = 3 ln 2 per type, 9 ln 2 in total.
    try (NDManager nd = NDManager.newBaseManager()) {
      NDArray cos = nd.zeros(new Shape(3, 2));
      float loss = SigmoidLoss.loss(nd, cos, cos, cos, new int[] {2, 0}, nd.create(new float[] {1f}),
          nd.create(new float[] {0f})).getFloat();
      assertThat(loss).isCloseTo((float) (9 * Math.log(2)), within(1e-5f));
      assertThat(SigmoidLoss.labels(new int[] {2, 0}, 3)).containsExactly(-1, 1, -1, -1, 1, -1);
    }
  }

  @Test
  void the_match_cost_is_the_negated_product_of_the_three_sigmoids() {
    // [M=2, G=1]: pred 0 has cos 1 everywhere: -(σ(1))^3 = -(0.7310586)^3 = -0.3907118;
    // pred 1 has cos 0, 0, 1: -(0.5 * 0.5 * 0.7310586) = -0.1827646
    double[][] c = SigmoidLoss.matchCost(new float[] {1, 0}, new float[] {1, 0}, new float[] {1, 1}, 2, 1);
    assertThat(c[0][0]).isCloseTo(-0.3907118, within(1e-6));
    assertThat(c[0][1]).isCloseTo(-0.1827646, within(1e-6));
    assertThat(Hungarian.solve(c)).containsExactly(0);
  }
}
