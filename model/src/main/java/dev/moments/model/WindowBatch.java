package dev.moments.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * Builds the block inputs for a batch of windows of any lengths: frames padded to a common
 * multiple of the kernel, TE interpolation weights per token and an additive key mask.
 *
 * <p>A window of T frames becomes {@code ceil(T / k)} tokens; its last token is filled by
 * repeating the last frame (so a window with T < k still gives one token). Windows shorter than
 * the longest one in the batch get zero frames beyond their tokens, zero TE weights and a -1e9
 * key mask there, so the padding never reaches a real query.
 */
public final class WindowBatch {
  /** Additive mask value of a padding key. */
  public static final float MASKED = -1e9f;

  private WindowBatch() {}

  /**
   * Returns {@code NDList(frames [B, N*k, C], teWeights [B, N, L], mask [B, 1, 1, N])}; the mask
   * is omitted when no window needs padding.
   *
   * @throws IllegalArgumentException for an empty window or a row whose length is not C
   */
  public static NDList inputs(NDManager manager, LavitiConfig cfg, List<float[][]> windows) {
    if (windows.isEmpty()) {
      throw new IllegalArgumentException("no windows");
    }
    int k = cfg.kernel();
    int c = cfg.featureDim();
    int l = cfg.teLength();
    int b = windows.size();
    int n = 0;
    for (float[][] w : windows) {
      if (w.length == 0) {
        throw new IllegalArgumentException("a window needs at least one frame, got 0");
      }
      n = Math.max(n, TemporalEmbeddings.tokenCount(w.length, k));
    }
    int tPad = n * k;
    // the frames go straight into native memory (one copy of each row, no float[] of the whole
    // batch, which would be allocated, zeroed and copied once more), then into libtorch's own
    int size = Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(b, tPad), c), Float.BYTES);
    ByteBuffer bytes = ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
    FloatBuffer frames = bytes.asFloatBuffer();
    float[] te = new float[b * n * l];
    float[] mask = new float[b * n];
    boolean padded = false;
    for (int i = 0; i < b; i++) {
      float[][] w = windows.get(i);
      int ni = TemporalEmbeddings.tokenCount(w.length, k);
      for (int t = 0; t < ni * k; t++) {
        float[] row = w[Math.min(t, w.length - 1)];
        if (row.length != c) {
          throw new IllegalArgumentException(
              "frame " + t + " of window " + i + " has " + row.length + " features, the model expects " + c);
        }
        frames.put((i * tPad + t) * c, row);
      }
      float[] wi = TemporalEmbeddings.weights(TemporalEmbeddings.tokenPositions(w.length, k), l);
      System.arraycopy(wi, 0, te, i * n * l, wi.length);
      for (int j = ni; j < n; j++) {
        mask[i * n + j] = MASKED;
        padded = true;
      }
    }
    NDArray f;
    try (NDArray wrapped = manager.create(bytes, new Shape(b, tPad, c), DataType.FLOAT32)) {
      f = wrapped.duplicate();
    }
    NDArray tw = owned(manager, te, new Shape(b, n, l));
    if (!padded) {
      return new NDList(f, tw);
    }
    return new NDList(f, tw, owned(manager, mask, new Shape(b, 1, 1, n)));
  }

  /**
   * An array of {@code data} in libtorch's own (64-byte aligned) memory.
   *
   * <p>NOTE: DJL's {@code create} wraps a JVM direct buffer in place, wherever the JVM put it, and
   * MKL's GEMM may round differently for differently aligned inputs; a copy makes the same inputs
   * give the same bits in every run (exact training resume depends on it).
   */
  public static NDArray owned(NDManager manager, float[] data, Shape shape) {
    try (NDArray wrapped = manager.create(FloatBuffer.wrap(data), shape)) {
      return wrapped.duplicate();
    }
  }
}
