package dev.moments.model.rank;

/**
 * A moment's embedding as the index stores it and as everything reads it back: int8 only. The
 * embedding is scaled to unit length ({@link #unit(float[], String)}) and quantized symmetrically with
 * one scale per moment by {@link FrameEvidence#int8} at {@link FrameEvidence#scale} ({@code
 * max|x| / 127}; each value {@code Math.round(x / scale)}, ties toward +infinity), the same function as
 * the frame evidence. The scale is not kept: cosine similarity does not depend on it, so the 1 byte
 * per dimension is the whole stored moment vector (1,024 B at dim 1024 instead of 4,096).
 *
 * <p>Every reader goes through here so that all see the same values: the served index (its k-NN
 * hits, {@code momentsOf}) and the offline evaluation ({@code eval nlq}, {@code replay}'s offline
 * row) score a moment by {@link #similarity} of the float query with its int8 vector. Both sides
 * get the same float from the same inputs, so online = offline holds exactly.
 */
public final class MomentVectors {
  private MomentVectors() {}

  /**
   * The stored int8 form of an embedding (never all zeros: the largest value maps to +-127).
   *
   * @throws IllegalArgumentException for a null, empty, all-zero or non-finite embedding ({@code
   *     what} names it in the message)
   */
  public static byte[] int8(float[] embedding, String what) {
    float[] u = unit(embedding, what);
    return FrameEvidence.int8(u, FrameEvidence.scale(u));
  }

  /**
   * The embedding scaled to unit length in float arithmetic (what {@link #int8} quantizes).
   *
   * @throws IllegalArgumentException for a null, empty, all-zero or non-finite vector ({@code what}
   *     names it in the message)
   */
  public static float[] unit(float[] v, String what) {
    if (v == null || v.length == 0) {
      throw new IllegalArgumentException(what + " must not be empty");
    }
    double sum = 0;
    for (float x : v) {
      if (!Float.isFinite(x)) {
        throw new IllegalArgumentException(what + " has a non-finite value");
      }
      sum += (double) x * x;
    }
    if (sum == 0) {
      throw new IllegalArgumentException(what + " must not be all zeros");
    }
    float inv = (float) (1.0 / Math.sqrt(sum));
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] * inv;
    }
    return out;
  }

  /**
   * The similarity of a moment with a query as the index reports it: the exact cosine of the float
   * {@code query} with the int8 vector {@code v}, accumulated in double, rounded to float. 0 for a
   * zero query.
   *
   * @throws IllegalArgumentException when the dimensions differ
   */
  public static float similarity(float[] query, byte[] v) {
    if (query.length != v.length) {
      throw new IllegalArgumentException("query has " + query.length + " dimensions, the moment vector "
          + v.length + " (text embeddings and the model must share one space)");
    }
    double dot = 0;
    double qq = 0;
    long vv = 0;
    for (int i = 0; i < v.length; i++) {
      dot += (double) query[i] * v[i];
      qq += (double) query[i] * query[i];
      vv += v[i] * v[i];
    }
    if (qq == 0 || vv == 0) {
      return 0f;
    }
    return (float) (dot / (Math.sqrt(qq) * Math.sqrt((double) vv)));
  }
}
