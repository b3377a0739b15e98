package dev.moments.eval;

/** Small vector helpers shared by the evaluators. */
final class Vectors {
  private Vectors() {}

  static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("embedding dimensions differ: " + a.length + " vs " + b.length
          + " (text embeddings and model/features must share one space)");
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    double d = Math.sqrt(na) * Math.sqrt(nb);
    return d == 0 ? 0 : dot / d;
  }

  static float[] normalized(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    float[] out = v.clone();
    if (s == 0) {
      return out;
    }
    float inv = (float) (1 / Math.sqrt(s));
    for (int i = 0; i < out.length; i++) {
      out[i] *= inv;
    }
    return out;
  }
}
