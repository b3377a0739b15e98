package dev.moments.eval;

import dev.moments.trainer.ego4d.NlqAnnotations;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Ego4D NLQ scoring with exactly the semantics of the official {@code evaluate_ego4d_nlq.py}
 * (DESIGN §6): for each submitted prediction, IoU of each predicted window with the ground truth;
 * Recall@k at IoU θ is {@code any(IoU(pred[:k]) > θ)} (strictly greater), averaged over the
 * submitted predictions (a query predicted twice counts twice, an unpredicted query not at all);
 * mIoU is the mean IoU of the top-1 window.
 *
 * <p>NOTE: IoU is intersection over the span {@code max(ends) - min(starts)}, as the official
 * script computes it (equal to the union whenever the windows overlap). Where the official script
 * divides 0 by 0 (both windows empty at the same instant) and gets NaN, this class returns 0.
 */
public final class NlqMetrics {
  /** The thresholds and ranks reported. */
  public static final double[] THRESHOLDS = {0.3, 0.5};
  public static final int[] TOP_K = {1, 3, 5};

  /**
   * The scores of one prediction file.
   *
   * @param recall {@code recall[t][k]} in [0, 1] for {@link #THRESHOLDS}[t] and {@link #TOP_K}[k]
   * @param meanIou mean top-1 IoU in [0, 1]
   * @param evaluated number of predictions scored
   * @param groundTruthQueries language queries in the annotations (all, as the official count)
   * @param withoutPrediction ground-truth queries no prediction named
   * @param missingQueryText ground-truth queries without a query text (skipped by eval)
   */
  public record Scores(double[][] recall, double meanIou, int evaluated, int groundTruthQueries,
      int withoutPrediction, int missingQueryText) {

    public double recall(int k, double threshold) {
      for (int t = 0; t < THRESHOLDS.length; t++) {
        for (int r = 0; r < TOP_K.length; r++) {
          if (THRESHOLDS[t] == threshold && TOP_K[r] == k) {
            return recall[t][r];
          }
        }
      }
      throw new IllegalArgumentException("no R@" + k + " at IoU " + threshold);
    }

    /**
     * The metrics in percent under the keys scripts read: {@code r1_iou0.3, r3_iou0.3, r5_iou0.3,
     * r1_iou0.5, r3_iou0.5, r5_iou0.5, miou}, then the counts.
     */
    public Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      for (int t = 0; t < THRESHOLDS.length; t++) {
        for (int r = 0; r < TOP_K.length; r++) {
          m.put("r" + TOP_K[r] + "_iou" + THRESHOLDS[t], 100.0 * recall[t][r]);
        }
      }
      m.put("miou", 100.0 * meanIou);
      m.put("evaluated", evaluated);
      m.put("ground_truth_queries", groundTruthQueries);
      m.put("without_prediction", withoutPrediction);
      m.put("missing_query_text", missingQueryText);
      return m;
    }
  }

  private NlqMetrics() {}

  /** IoU of two windows as the official script computes it (see the class note). */
  public static double iou(double predStart, double predEnd, double gtStart, double gtEnd) {
    double inter = Math.max(0.0, Math.min(predEnd, gtEnd) - Math.max(predStart, gtStart));
    double span = Math.max(0.0, Math.max(predEnd, gtEnd) - Math.min(predStart, gtStart));
    return span == 0.0 ? 0.0 : inter / span;
  }

  /**
   * Scores predictions against the annotations.
   *
   * @throws IllegalArgumentException when a prediction names a (clip, annotation, query) that the
   *     annotations lack (the official script stops with "Instance not present!"), or there are
   *     no predictions at all
   */
  public static Scores score(NlqAnnotations gt, List<NlqPredictions.Result> predictions) {
    if (predictions.isEmpty()) {
      throw new IllegalArgumentException("no predictions to score");
    }
    int nt = THRESHOLDS.length;
    int nk = TOP_K.length;
    long[][] hits = new long[nt][nk];
    double iouSum = 0;
    Set<NlqAnnotations.Key> predicted = new HashSet<>();
    for (NlqPredictions.Result p : predictions) {
      NlqAnnotations.Query q = gt.find(p.key());
      if (q == null) {
        throw new IllegalArgumentException("prediction for a query not in the annotations: clip_uid "
            + p.clipUid() + ", annotation_uid " + p.annotationUid() + ", query_idx " + p.queryIdx());
      }
      predicted.add(p.key());
      double[] ious = new double[p.predictedTimes().size()];
      for (int i = 0; i < ious.length; i++) {
        double[] w = p.predictedTimes().get(i);
        ious[i] = iou(w[0], w[1], q.gtStartSec(), q.gtEndSec());
      }
      iouSum += ious[0];
      for (int t = 0; t < nt; t++) {
        for (int r = 0; r < nk; r++) {
          int k = Math.min(TOP_K[r], ious.length);
          for (int i = 0; i < k; i++) {
            if (ious[i] > THRESHOLDS[t]) {
              hits[t][r]++;
              break;
            }
          }
        }
      }
    }
    double[][] recall = new double[nt][nk];
    for (int t = 0; t < nt; t++) {
      for (int r = 0; r < nk; r++) {
        recall[t][r] = hits[t][r] / (double) predictions.size();
      }
    }
    int unpredicted = 0;
    for (NlqAnnotations.Query q : gt.allQueries()) {
      if (!predicted.contains(q.key())) {
        unpredicted++;
      }
    }
    return new Scores(recall, iouSum / predictions.size(), predictions.size(), gt.totalQueries(),
        unpredicted, gt.missingQueryText());
  }
}
