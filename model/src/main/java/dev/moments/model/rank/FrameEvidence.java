package dev.moments.model.rank;

/**
 * Frame evidence as kept for ranking: one L2-normalised vector per whole second of a stream, the
 * mean of the L2-normalised frame features captured in that second (second {@code i} covers capture
 * times {@code [origin + i s, origin + (i + 1) s)}). Seconds without a frame hold a zero vector
 * (similarity 0). Each second is kept at int8 precision ({@link #int8}: one float32 scale per second,
 * {@code max|x| / 127}); {@link #pool} returns the vectors as they read back from that form.
 * Offline evaluation pools a clip's features with {@link #pool} and the served search stores the
 * same int8 values, so both rank from bit-identical evidence.
 */
public final class FrameEvidence {
  private FrameEvidence() {}

  /**
   * Per-second evidence of {@code frames} sampled at {@code fps} (frame {@code t} at {@code t / fps}
   * seconds from the first).
   */
  public static float[][] pool(float[][] frames, double fps) {
    if (!(fps > 0)) {
      throw new IllegalArgumentException("fps must be positive, got " + fps);
    }
    if (frames.length == 0) {
      return new float[0][];
    }
    int dim = frames[0].length;
    int seconds = (int) Math.floor((frames.length - 1) / fps) + 1;
    double[][] sum = new double[seconds][dim];
    for (int t = 0; t < frames.length; t++) {
      float[] f = frames[t];
      if (f.length != dim) {
        throw new IllegalArgumentException("frame " + t + " has " + f.length + " values, frame 0 has " + dim);
      }
      addUnit(sum[(int) Math.floor(t / fps)], f);
    }
    float[][] out = new float[seconds][];
    for (int i = 0; i < seconds; i++) {
      out[i] = ofSum(sum[i]);
    }
    return out;
  }

  /**
   * Adds {@code feature}, L2-normalised, to a second's float64 {@code sum} (an all-zero feature
   * adds nothing): the one accumulation of {@link #pool}, the index's evidence store and the alert
   * matcher's.
   */
  public static void addUnit(double[] sum, float[] feature) {
    double n = norm(feature);
    if (n == 0) {
      return;
    }
    for (int i = 0; i < feature.length; i++) {
      sum[i] += feature[i] / n;
    }
  }

  /**
   * One second's evidence from the float64 sum of its L2-normalised frame features, as it reads
   * back from its int8 form ({@link #pool} of those frames gives the same values; the zero sum
   * gives the zero vector).
   */
  public static float[] ofSum(double[] sum) {
    return dequantized(normalized(sum));
  }

  /** The int8 scale of a unit vector: {@code max|x| / 127} (0 for the zero vector). */
  public static float scale(float[] unit) {
    float max = 0;
    for (float x : unit) {
      max = Math.max(max, Math.abs(x));
    }
    return max / 127f;
  }

  /** The int8 values of a unit vector at {@code scale} ({@link #scale}); all 0 when the scale is 0. */
  public static byte[] int8(float[] unit, float scale) {
    byte[] out = new byte[unit.length];
    if (scale == 0) {
      return out;
    }
    for (int i = 0; i < unit.length; i++) {
      out[i] = (byte) Math.round(unit[i] / scale);
    }
    return out;
  }

  /** What {@code unit} reads back as from its int8 form: each value {@code int8 * scale}. */
  public static float[] dequantized(float[] unit) {
    float scale = scale(unit);
    byte[] q = int8(unit, scale);
    float[] out = new float[unit.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = q[i] * scale;
    }
    return out;
  }

  /** Cosine of {@code query} with each evidence second (evidence is unit length or zero). */
  public static double[] scores(float[] query, float[][] evidence) {
    double qn = norm(query);
    double[] out = new double[evidence.length];
    for (int i = 0; i < evidence.length; i++) {
      float[] e = evidence[i];
      if (e.length != query.length) {
        throw new IllegalArgumentException("query has " + query.length + " dimensions, frame evidence "
            + e.length + " (text and frame features must share one space)");
      }
      double dot = 0;
      for (int j = 0; j < e.length; j++) {
        dot += (double) query[j] * e[j];
      }
      out[i] = qn == 0 ? 0 : dot / qn;
    }
    return out;
  }

  private static double norm(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    return Math.sqrt(s);
  }

  private static float[] normalized(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x * x;
    }
    float[] out = new float[v.length];
    if (s == 0) {
      return out;
    }
    double inv = 1 / Math.sqrt(s);
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) (v[i] * inv);
    }
    return out;
  }
}
