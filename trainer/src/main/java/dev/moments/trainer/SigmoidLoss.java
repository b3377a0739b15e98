package dev.moments.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;

/**
 * LAVITI's matching cost and SigLIP sigmoid loss for one window (DESIGN §4).
 *
 * <p>Inputs are the three cosine-similarity matrices {@code [M, G]} between the M predictions and
 * the G ground-truth moments: visual/language ({@code v̂} vs narration text), start ({@code ŝ} vs
 * GT start TE) and end ({@code ê} vs GT end TE).
 *
 * <ul>
 *   <li>Matching cost {@code [G][M]}: {@code -(σ(cos_v) σ(cos_s) σ(cos_e))}, plain sigmoid of the
 *       cosine as in the paper.
 *   <li>Loss: with logits {@code z = t·cos + b} (learnable t = exp(logitScale), b) and labels
 *       {@code y = +1} for the matched (prediction, GT) pairs and -1 for every other pair
 *       (unmatched predictions get -1 against all GT), each similarity type contributes
 *       {@code Σ softplus(-y·z) / G}; the window's loss is the sum of the three.
 * </ul>
 */
public final class SigmoidLoss {
  private SigmoidLoss() {}

  /** The Hungarian cost {@code [G][M]} from the {@code [M, G]} row-major cosine matrices. */
  public static double[][] matchCost(float[] cosV, float[] cosS, float[] cosE, int m, int g) {
    double[][] cost = new double[g][m];
    for (int p = 0; p < m; p++) {
      for (int j = 0; j < g; j++) {
        int at = p * g + j;
        cost[j][p] = -(sigmoid(cosV[at]) * sigmoid(cosS[at]) * sigmoid(cosE[at]));
      }
    }
    return cost;
  }

  /** Labels {@code [M, G]} (+1 matched, -1 otherwise) for a GT-to-prediction assignment. */
  public static float[] labels(int[] gtToPred, int m) {
    int g = gtToPred.length;
    float[] y = new float[m * g];
    java.util.Arrays.fill(y, -1f);
    for (int j = 0; j < g; j++) {
      if (gtToPred[j] >= 0) {
        y[gtToPred[j] * g + j] = 1f;
      }
    }
    return y;
  }

  /**
   * The window's loss (a scalar NDArray carrying gradients).
   *
   * @param scale the temperature t (not its log), shape [1]
   * @param bias the bias b, shape [1]
   */
  public static NDArray loss(
      NDManager manager, NDArray cosV, NDArray cosS, NDArray cosE, int[] gtToPred, NDArray scale, NDArray bias) {
    long m = cosV.getShape().get(0);
    int g = gtToPred.length;
    NDArray y = manager.create(labels(gtToPred, (int) m), new Shape(m, g));
    NDArray total = null;
    for (NDArray cos : new NDArray[] {cosV, cosS, cosE}) {
      // -log σ(y·z) = softplus(-y·z), z = t·cos + b
      NDArray z = cos.mul(scale).add(bias);
      NDArray part = Activation.softPlus(z.mul(y).neg()).sum().div(g);
      total = total == null ? part : total.add(part);
    }
    return total;
  }

  static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }
}
