package dev.moments.trainer;

import java.util.Random;

/**
 * Narration timestamp -> training interval (DESIGN §4, the paper's eq. 1): for narration i at
 * {@code t_i} with neighbours {@code t_{i-1}, t_{i+1}}, {@code start ~ U[(t_{i-1} + t_i) / 2,
 * t_i]} and {@code end ~ U[t_i, (t_i + t_{i+1}) / 2]}; the first narration's start range begins at
 * the window start, the last one's end range ends at the window end.
 */
public final class Intervals {
  private Intervals() {}

  /**
   * Samples one interval per narration.
   *
   * @param times narration timestamps, sorted ascending, inside [windowStart, windowEnd]
   * @return {@code [n][2]}: start and end of each narration's interval
   * @throws IllegalArgumentException when the timestamps are unsorted or outside the window
   */
  public static double[][] sample(double[] times, double windowStart, double windowEnd, Random rnd) {
    return sample(times, new int[times.length], windowStart, windowEnd, rnd);
  }

  /**
   * Samples one interval per narration where the narrations come from several sequences (Ego4D's
   * two annotation passes): a narration's neighbours are the previous and next narration of its
   * own sequence. Merging the passes into one timeline would put a second annotator's narration of
   * the same action a second away and shrink both intervals to almost nothing.
   *
   * @param sequences the sequence of each narration (any ints; equal means same sequence)
   */
  public static double[][] sample(double[] times, int[] sequences, double windowStart, double windowEnd, Random rnd) {
    int n = times.length;
    if (sequences.length != n) {
      throw new IllegalArgumentException(n + " timestamps but " + sequences.length + " sequence ids");
    }
    double[][] out = new double[n][2];
    for (int i = 0; i < n; i++) {
      double t = times[i];
      if (t < windowStart || t > windowEnd) {
        throw new IllegalArgumentException("narration at " + t + " s is outside the window [" + windowStart + ", " + windowEnd + "]");
      }
      if (i > 0 && times[i - 1] > t) {
        throw new IllegalArgumentException("narration timestamps are not sorted: " + times[i - 1] + " > " + t);
      }
      int prev = i - 1;
      while (prev >= 0 && sequences[prev] != sequences[i]) {
        prev--;
      }
      int next = i + 1;
      while (next < n && sequences[next] != sequences[i]) {
        next++;
      }
      double lo = prev < 0 ? windowStart : (times[prev] + t) / 2;
      double hi = next >= n ? windowEnd : (t + times[next]) / 2;
      out[i][0] = lo + rnd.nextDouble() * (t - lo);
      out[i][1] = t + rnd.nextDouble() * (hi - t);
    }
    return out;
  }
}
