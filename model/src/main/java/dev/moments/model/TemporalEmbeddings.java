package dev.moments.model;

/**
 * The arithmetic of LAVITI's relative temporal embeddings (TE), shared by model, trainer and
 * tests. A TE table has L rows; row i stands for the relative position {@code i / (L - 1)} of a
 * window (0 = its start, 1 = its end). The TE of any relative position r in [0, 1] is the linear
 * interpolation of the two neighbouring rows, so "interpolating E to N tokens" and "the GT TE of
 * a timestamp" are the same operation evaluated at different positions.
 *
 * <p>Positions used by the model: frame k of a T-frame window sits at its centre {@code (k +
 * 0.5) / T}; token j (frames {@code kj .. kj+k-1}) at {@code (kj + k/2) / T}, clamped to 1; a time
 * t seconds into a window of duration {@code T / fps} at {@code t * fps / T}.
 */
public final class TemporalEmbeddings {
  private TemporalEmbeddings() {}

  /** 1-D sinusoidal positional embeddings (Vaswani et al.): {@code [L][D]}. */
  public static float[][] sinusoidal(int length, int dim) {
    float[][] e = new float[length][dim];
    for (int pos = 0; pos < length; pos++) {
      for (int i = 0; i < dim; i += 2) {
        double freq = Math.pow(10000.0, -(double) i / dim);
        e[pos][i] = (float) Math.sin(pos * freq);
        if (i + 1 < dim) {
          e[pos][i + 1] = (float) Math.cos(pos * freq);
        }
      }
    }
    return e;
  }

  /** Index of the lower neighbouring TE row for relative position r (clamped to [0, 1]). */
  public static int lower(double r, int length) {
    double x = clamp01(r) * (length - 1);
    return Math.min((int) Math.floor(x), length - 2);
  }

  /** Weight of the upper row {@code lower(r)+1} for relative position r; the lower row gets 1 - w. */
  public static double upperWeight(double r, int length) {
    double x = clamp01(r) * (length - 1);
    return x - lower(r, length);
  }

  /**
   * Dense interpolation weights {@code [n][L]} (row-major, flattened) for the given relative
   * positions: {@code weights x E} is the interpolated TE of every position.
   */
  public static float[] weights(double[] positions, int length) {
    float[] w = new float[positions.length * length];
    for (int p = 0; p < positions.length; p++) {
      int lo = lower(positions[p], length);
      double up = upperWeight(positions[p], length);
      w[p * length + lo] += (float) (1 - up);
      w[p * length + lo + 1] += (float) up;
    }
    return w;
  }

  /** Interpolates a TE table at one relative position (a plain-Java reference of {@link #weights}). */
  public static float[] at(float[][] table, double r) {
    int lo = lower(r, table.length);
    double up = upperWeight(r, table.length);
    float[] out = new float[table[0].length];
    for (int d = 0; d < out.length; d++) {
      out[d] = (float) ((1 - up) * table[lo][d] + up * table[lo + 1][d]);
    }
    return out;
  }

  /** Number of tokens for a window of T frames: {@code ceil(T / kernel)} (the last one padded). */
  public static int tokenCount(int frames, int kernel) {
    return Math.max(1, (frames + kernel - 1) / kernel);
  }

  /** Relative positions of the tokens of a T-frame window (centre of each token's frames). */
  public static double[] tokenPositions(int frames, int kernel) {
    int n = tokenCount(frames, kernel);
    double[] r = new double[n];
    for (int j = 0; j < n; j++) {
      r[j] = clamp01((kernel * j + kernel / 2.0) / frames);
    }
    return r;
  }

  /** Relative positions of the frames of a T-frame window (centre of each frame). */
  public static double[] framePositions(int frames) {
    double[] r = new double[frames];
    for (int k = 0; k < frames; k++) {
      r[k] = (k + 0.5) / frames;
    }
    return r;
  }

  /** Relative position of a time {@code sec} seconds into a T-frame window at {@code fps}. */
  public static double timePosition(double sec, int frames, double fps) {
    return clamp01(sec * fps / frames);
  }

  static double clamp01(double r) {
    return r < 0 ? 0 : (r > 1 ? 1 : r);
  }
}
