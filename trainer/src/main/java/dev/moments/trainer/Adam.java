package dev.moments.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Adam (Kingma & Ba) with gradient clipping by global norm, written on NDArrays so its state
 * (first and second moments) can be saved and restored exactly for {@code --resume}. Reads the
 * gradients that a {@code GradientCollector} left on the parameters and zeroes them after the
 * update.
 */
final class Adam {
  private static final float BETA1 = 0.9f;
  private static final float BETA2 = 0.999f;
  private static final float EPS = 1e-8f;

  private final List<Parameter> params;
  private final List<NDArray> m = new ArrayList<>();
  private final List<NDArray> v = new ArrayList<>();

  Adam(List<Parameter> params, NDManager manager) {
    this.params = params;
    for (Parameter p : params) {
      m.add(manager.zeros(p.getShape()));
      v.add(manager.zeros(p.getShape()));
    }
  }

  /**
   * One update with the current gradients; {@code step} is 1-based (bias correction).
   *
   * @return the global gradient norm before clipping; when it is not finite the update is
   *     skipped (gradients zeroed, parameters and moments untouched)
   */
  double step(long step, double lr, double clipNorm) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      List<NDArray> grads = new ArrayList<>(params.size());
      double sq = 0;
      for (Parameter p : params) {
        NDArray g = p.getArray().getGradient();
        grads.add(g);
        // one float reduction per parameter; its sum of squares overflows float for entries
        // above ~1e19, and only then is it redone in double (an infinite or NaN gradient stays so)
        double n = g.norm().getFloat();
        sq += Double.isFinite(n) ? n * n : g.toType(DataType.FLOAT64, false).square().sum().getDouble();
      }
      double norm = Math.sqrt(sq);
      if (!Double.isFinite(norm)) {
        // a non-finite gradient would poison the parameters and the moments: skip this update
        zeroGradients();
        return norm;
      }
      float clip = clipNorm > 0 && norm > clipNorm ? (float) (clipNorm / norm) : 1f;
      double c1 = 1 - Math.pow(BETA1, step);
      double sqrtC2 = Math.sqrt(1 - Math.pow(BETA2, step));
      // libtorch's fused update, one call per parameter, in place on m, v and the weight:
      // g' = clip g; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2;
      // w -= (lr sqrt(c2) / c1) m / (sqrt(v) + eps sqrt(c2)),
      // which is w -= lr (m / c1) / (sqrt(v / c2) + eps): Adam with the bias corrections folded
      // into the step size and eps (equal up to float rounding)
      float stepSize = (float) (lr * sqrtC2 / c1);
      float eps = (float) (EPS * sqrtC2);
      for (int i = 0; i < params.size(); i++) {
        JniUtils.adamUpdate((PtNDArray) params.get(i).getArray(), (PtNDArray) grads.get(i), (PtNDArray) m.get(i),
            (PtNDArray) v.get(i), (float) lr, stepSize, 0f, clip, -1f, BETA1, BETA2, eps, false);
      }
      zeroGradients();
      return norm;
    }
  }

  /**
   * Sets every gradient to exactly zero for the next backward pass.
   *
   * <p>NOTE: {@code grad.subi(grad)} (what DJL's own collector does) leaves NaN and infinity in
   * place (NaN - NaN = NaN), so one non-finite step would poison every later one; {@code
   * zeroGrad} on the parameter writes zeros whatever the gradient held.
   */
  void zeroGradients() {
    for (Parameter p : params) {
      JniUtils.zeroGrad((PtNDArray) p.getArray());
    }
  }

  void save(Path file) throws IOException {
    NDList all = new NDList();
    all.addAll(m);
    all.addAll(v);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.write(tmp, all.encode());
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  void load(Path file, NDManager manager) throws IOException {
    try (NDManager tmp = manager.newSubManager()) {
      NDList all = NDList.decode(tmp, Files.readAllBytes(file));
      if (all.size() != 2 * params.size()) {
        throw new IllegalStateException(file + " holds " + all.size() + " arrays, expected " + 2 * params.size());
      }
      for (int i = 0; i < params.size(); i++) {
        copy(all.get(i), m.get(i), file);
        copy(all.get(params.size() + i), v.get(i), file);
      }
    }
  }

  private static void copy(NDArray from, NDArray to, Path file) {
    if (!from.getShape().equals(to.getShape())) {
      throw new IllegalStateException(file + ": optimizer state shape " + from.getShape() + " != " + to.getShape());
    }
    to.set(from.toByteBuffer());
  }
}
