package dev.moments.featurizer.encoder;

/** Small vector helpers shared by the encoders. */
public final class Vectors {
  private Vectors() {}

  /**
   * Splits a row-major {@code [n, dim]} array into L2-normalized rows.
   *
   * @throws IllegalStateException when a row has zero norm or is not finite (a broken model)
   */
  public static float[][] normalizedRows(float[] flat, int n, int dim) {
    if (flat.length != n * dim) {
      throw new IllegalStateException("model output has " + flat.length + " values, expected " + n + " x " + dim);
    }
    float[][] out = new float[n][dim];
    for (int i = 0; i < n; i++) {
      double s = 0;
      for (int j = 0; j < dim; j++) {
        float v = flat[i * dim + j];
        s += (double) v * v;
      }
      double norm = Math.sqrt(s);
      if (!(norm > 0) || Double.isInfinite(norm)) {
        throw new IllegalStateException("model output row " + i + " has norm " + norm);
      }
      for (int j = 0; j < dim; j++) {
        out[i][j] = (float) (flat[i * dim + j] / norm);
      }
    }
    return out;
  }

  /** The dot product (the cosine similarity of L2-normalized vectors). */
  public static float dot(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("dimensions differ: " + a.length + " vs " + b.length);
    }
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return (float) s;
  }
}
