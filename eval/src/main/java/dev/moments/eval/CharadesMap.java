package dev.moments.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CharadesEgo video-level mAP as LaViLa/EgoVLP's {@code charades_map} computes it (DESIGN §6):
 * rows of videos without any label get {@code -inf} scores for every class; per class, videos are
 * ranked by score (descending) and AP is the mean of the precision at each positive; mAP is the
 * mean AP over the classes that have at least one positive (the others are excluded and listed).
 *
 * <p>NOTE: ties are ranked in video order (a stable sort); numpy's default {@code argsort} does not
 * promise an order for ties, so tied scores can differ from LaViLa in the last digits. NaN scores
 * rank last.
 */
public final class CharadesMap {
  /**
   * The result.
   *
   * @param map mean AP over the classes with a positive, in [0, 1]
   * @param ap per class AP, NaN for an excluded class
   * @param excluded ids of the classes without any positive video
   */
  public record Result(double map, double[] ap, List<String> excluded, int videos, int videosWithoutLabel) {
    public Map<String, Object> asMap() {
      var m = new java.util.LinkedHashMap<String, Object>();
      m.put("mAP", 100.0 * map);
      m.put("videos", videos);
      m.put("videos_without_label", videosWithoutLabel);
      m.put("classes_scored", ap.length - excluded.size());
      m.put("classes_without_positive", excluded.size());
      return m;
    }
  }

  private CharadesMap() {}

  /**
   * mAP of {@code scores[video][class]} against {@code labels[video][class]}.
   *
   * @throws IllegalArgumentException when the shapes differ or no class has a positive
   */
  public static Result compute(double[][] scores, boolean[][] labels, List<String> classIds) {
    if (scores.length != labels.length || scores.length == 0) {
      throw new IllegalArgumentException(
          "need one score row per labelled video: " + scores.length + " vs " + labels.length);
    }
    int n = scores.length;
    int c = classIds.size();
    double[][] fix = new double[n][];
    int unlabelled = 0;
    for (int v = 0; v < n; v++) {
      if (scores[v].length != c || labels[v].length != c) {
        throw new IllegalArgumentException("video row " + v + " does not have " + c + " classes");
      }
      boolean any = false;
      for (boolean b : labels[v]) {
        any |= b;
      }
      fix[v] = scores[v].clone();
      if (!any) {
        Arrays.fill(fix[v], Double.NEGATIVE_INFINITY);
        unlabelled++;
      }
    }
    double[] ap = new double[c];
    List<String> excluded = new ArrayList<>();
    double sum = 0;
    int counted = 0;
    Integer[] order = new Integer[n];
    for (int k = 0; k < c; k++) {
      final int col = k;
      for (int v = 0; v < n; v++) {
        order[v] = v;
      }
      // descending by score, NaN last, ties in video order
      Arrays.sort(order, Comparator.comparingDouble((Integer v) -> {
        double s = fix[v][col];
        return Double.isNaN(s) ? Double.POSITIVE_INFINITY : -s;
      }));
      int tp = 0;
      double precisionSum = 0;
      for (int i = 0; i < n; i++) {
        if (labels[order[i]][col]) {
          tp++;
          precisionSum += tp / (double) (i + 1);
        }
      }
      if (tp == 0) {
        ap[k] = Double.NaN;
        excluded.add(classIds.get(k));
        continue;
      }
      ap[k] = precisionSum / tp;
      sum += ap[k];
      counted++;
    }
    if (counted == 0) {
      throw new IllegalArgumentException("no class has a positive video: mAP is undefined");
    }
    return new Result(sum / counted, ap, List.copyOf(excluded), n, unlabelled);
  }

  /**
   * Scores a score table against annotations: every annotated video must have a row (extra rows
   * are ignored).
   *
   * @throws IllegalArgumentException when annotated videos have no score row
   */
  public static Result compute(CharadesAnnotations gt, Map<String, double[]> scores) {
    List<String> ids = gt.classes().stream().map(CharadesAnnotations.ChClass::id).toList();
    List<String> missing = gt.labels().keySet().stream().filter(v -> !scores.containsKey(v)).toList();
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException(missing.size() + " annotated videos have no score row (e.g. "
          + missing.get(0) + ")");
    }
    int n = gt.labels().size();
    double[][] s = new double[n][];
    boolean[][] l = new boolean[n][ids.size()];
    int v = 0;
    for (Map.Entry<String, Set<Integer>> e : gt.labels().entrySet()) {
      s[v] = scores.get(e.getKey());
      for (int c : e.getValue()) {
        l[v][c] = true;
      }
      v++;
    }
    return compute(s, l, ids);
  }
}
