package dev.moments.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HungarianTest {
  @Test
  void a_hand_made_matrix_gets_its_known_optimum() {
    // rows -> cols 1, 0, 2 costs 1 + 2 + 2 = 5; the greedy pick (row 0 -> col 0 = 1... ) costs more
    double[][] cost = {{1, 1, 9}, {2, 8, 9}, {9, 9, 2}};
    int[] a = Hungarian.solve(cost);
    assertThat(a).containsExactly(1, 0, 2);
  }

  @Test
  void random_square_and_rectangular_matrices_match_brute_force() {
    Random rnd = new Random(11);
    for (int trial = 0; trial < 300; trial++) {
      int n = 1 + rnd.nextInt(6);
      int m = 1 + rnd.nextInt(6);
      double[][] cost = new double[n][m];
      for (double[] row : cost) {
        for (int j = 0; j < m; j++) {
          // a few ties on purpose: integers 0..4 half of the time
          row[j] = trial % 2 == 0 ? rnd.nextInt(5) : rnd.nextDouble() * 10 - 5;
        }
      }
      int[] a = Hungarian.solve(cost);
      assertThat(a).hasSize(n);
      Set<Integer> cols = new HashSet<>();
      double total = 0;
      int assigned = 0;
      for (int i = 0; i < n; i++) {
        if (a[i] >= 0) {
          assertThat(cols.add(a[i])).as("column used twice").isTrue();
          total += cost[i][a[i]];
          assigned++;
        }
      }
      assertThat(assigned).isEqualTo(Math.min(n, m));
      assertThat(total).as("trial %d (%dx%d)", trial, n, m).isCloseTo(brute(cost), within(1e-9));
    }
  }

  @Test
  void non_finite_costs_are_rejected() {
    assertThatThrownBy(() -> Hungarian.solve(new double[][] {{0, Double.NaN}}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("non-finite");
  }

  /** Minimum over all injective assignments of the smaller side into the larger. */
  private static double brute(double[][] c) {
    int n = c.length;
    int m = c[0].length;
    if (n <= m) {
      return rec(c, 0, new boolean[m], false);
    }
    double[][] t = new double[m][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < m; j++) {
        t[j][i] = c[i][j];
      }
    }
    return rec(t, 0, new boolean[n], false);
  }

  private static double rec(double[][] c, int row, boolean[] used, boolean unused) {
    if (row == c.length) {
      return 0;
    }
    double best = Double.POSITIVE_INFINITY;
    for (int j = 0; j < used.length; j++) {
      if (!used[j]) {
        used[j] = true;
        best = Math.min(best, c[row][j] + rec(c, row + 1, used, unused));
        used[j] = false;
      }
    }
    return best;
  }
}
