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
    int n = times.length;
    double[][] out = new double[n][2];
    for (int i = 0; i < n; i++) {
      double t = times[i];
      if (t < windowStart || t > windowEnd) {
        throw new IllegalArgumentException("narration at " + t + " s is outside the window [" + windowStart + ", " + windowEnd + "]");
      }
      if (i > 0 && times[i - 1] > t) {
        throw new IllegalArgumentException("narration timestamps are not sorted: " + times[i - 1] + " > " + t);
      }
      double lo = i == 0 ? windowStart : (times[i - 1] + t) / 2;
      double hi = i == n - 1 ? windowEnd : (t + times[i + 1]) / 2;
      out[i][0] = lo + rnd.nextDouble() * (t - lo);
      out[i][1] = t + rnd.nextDouble() * (hi - t);
    }
    return out;
  }
}
