package dev.moments.model.rank;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * The one rule by which a stream's overlapping windows' moments are merged when they are stored:
 * with 600 s windows every 30 s each stretch of video is predicted about 20 times, and a moment
 * that repeats an already stored moment of the same stream (temporal IoU on whole milliseconds at
 * least {@link #MIN_IOU} and cosine of the unit embeddings at least {@link #MIN_COSINE}) is merged
 * into it: not stored again. The first stored one stands for the later repeats.
 *
 * <p>Only moments of different windows merge (a window's own moments are its model's distinct
 * answers). The served index applies it when {@code MomentIndex.setMerging(true)} (off by default:
 * on the README smoke set it kept about half the moments at the cost of 13 points of LAVITI-only
 * R@1, docs/scale.md); an offline evaluation of such an index must call {@link #merge} with the
 * stream's windows in order and each window's moments in slot order, which gives what
 * {@link #duplicate} decides in the index. The relation is symmetric, which makes the merge
 * order-safe under replays: a moment stored once is never a repeat of a moment stored after it
 * (that one was compared with it), so a replayed window keeps what it kept and merges what it
 * merged.
 */
public final class MomentMerge {
  private MomentMerge() {}

  /** Least temporal IoU (whole ms, {@link Rankers#iouMs}) of a repeat with the stored moment. */
  public static final double MIN_IOU = 0.5;
  /** Least cosine of a repeat's unit embedding with the stored moment's. */
  public static final double MIN_COSINE = 0.8;

  /**
   * The embedding scaled to unit length in float arithmetic (what {@link MomentVectors#int8}
   * quantizes; the merge compares embeddings as they read back, {@link MomentVectors#readBack}).
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

  /** Dot product of two unit embeddings, accumulated in double. */
  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("embedding dimensions differ: " + a.length + " vs " + b.length);
    }
    double dot = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
    }
    return dot;
  }

  /**
   * Whether a moment {@code [s1, e1]} (ms) with unit embedding {@code u1} repeats the stored moment
   * {@code [s2, e2]} with {@code u2}. Symmetric. The index passes embeddings as they read back from
   * its int8 form ({@link MomentVectors#readBack}); an offline merge must pass the same.
   */
  public static boolean duplicate(long s1, long e1, float[] u1, long s2, long e2, float[] u2) {
    return Rankers.iouMs(s1, e1, s2, e2) >= MIN_IOU && cosine(u1, u2) >= MIN_COSINE;
  }

  /**
   * The moments of one stream that the index keeps, in order: each moment of {@code windows} (the
   * stream's windows in order, each window's moments in slot order) unless it repeats one kept
   * before it from another window.
   */
  public static <T> List<T> merge(List<List<T>> windows, ToLongFunction<T> startMs, ToLongFunction<T> endMs,
      Function<T, float[]> unitEmbedding) {
    List<T> kept = new ArrayList<>();
    List<float[]> units = new ArrayList<>();
    List<Integer> keptWindow = new ArrayList<>();
    for (int w = 0; w < windows.size(); w++) {
      for (T m : windows.get(w)) {
        long s = startMs.applyAsLong(m);
        long e = endMs.applyAsLong(m);
        float[] u = unitEmbedding.apply(m);
        boolean repeat = false;
        for (int i = 0; i < kept.size() && !repeat; i++) {
          T k = kept.get(i);
          repeat = keptWindow.get(i) != w
              && duplicate(s, e, u, startMs.applyAsLong(k), endMs.applyAsLong(k), units.get(i));
        }
        if (!repeat) {
          kept.add(m);
          units.add(u);
          keptWindow.add(w);
        }
      }
    }
    return kept;
  }
}
