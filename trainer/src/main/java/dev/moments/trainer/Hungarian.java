package dev.moments.trainer;

import java.util.Arrays;

/**
 * Minimum-cost bipartite assignment (Hungarian algorithm with potentials, O(n^2 m)) on a dense
 * cost matrix. With n rows and m columns every row gets a distinct column when n <= m, every
 * column a distinct row when n > m.
 */
public final class Hungarian {
  private Hungarian() {}

  /**
   * Solves the assignment problem.
   *
   * @param cost {@code [n][m]} finite costs
   * @return for each row the assigned column, or -1 for the rows left unassigned when n > m
   * @throws IllegalArgumentException for ragged or non-finite input
   */
  public static int[] solve(double[][] cost) {
    int n = cost.length;
    if (n == 0) {
      return new int[0];
    }
    int m = cost[0].length;
    for (double[] row : cost) {
      if (row.length != m) {
        throw new IllegalArgumentException("ragged cost matrix: rows of " + m + " and " + row.length);
      }
      for (double c : row) {
        if (!Double.isFinite(c)) {
          throw new IllegalArgumentException("cost matrix has a non-finite entry: " + c);
        }
      }
    }
    if (n > m) {
      double[][] t = new double[m][n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++) {
          t[j][i] = cost[i][j];
        }
      }
      int[] colToRow = solve(t);
      int[] rowToCol = new int[n];
      Arrays.fill(rowToCol, -1);
      for (int j = 0; j < m; j++) {
        rowToCol[colToRow[j]] = j;
      }
      return rowToCol;
    }
    // potentials u (rows), v (columns); p[j] = row matched to column j (1-based, 0 = none)
    double[] u = new double[n + 1];
    double[] v = new double[m + 1];
    int[] p = new int[m + 1];
    int[] way = new int[m + 1];
    for (int i = 1; i <= n; i++) {
      p[0] = i;
      int j0 = 0;
      double[] minv = new double[m + 1];
      Arrays.fill(minv, Double.POSITIVE_INFINITY);
      boolean[] used = new boolean[m + 1];
      do {
        used[j0] = true;
        int i0 = p[j0];
        double delta = Double.POSITIVE_INFINITY;
        int j1 = 0;
        for (int j = 1; j <= m; j++) {
          if (!used[j]) {
            double cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
            if (cur < minv[j]) {
              minv[j] = cur;
              way[j] = j0;
            }
            if (minv[j] < delta) {
              delta = minv[j];
              j1 = j;
            }
          }
        }
        for (int j = 0; j <= m; j++) {
          if (used[j]) {
            u[p[j]] += delta;
            v[j] -= delta;
          } else {
            minv[j] -= delta;
          }
        }
        j0 = j1;
      } while (p[j0] != 0);
      // augment along the alternating path
      do {
        int j1 = way[j0];
        p[j0] = p[j1];
        j0 = j1;
      } while (j0 != 0);
    }
    int[] rowToCol = new int[n];
    for (int j = 1; j <= m; j++) {
      if (p[j] != 0) {
        rowToCol[p[j] - 1] = j - 1;
      }
    }
    return rowToCol;
  }
}
