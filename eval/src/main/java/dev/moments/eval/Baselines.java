package dev.moments.eval;

import dev.moments.trainer.ego4d.NlqAnnotations;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Reference predictors printed next to a model so a reader sees whether it adds anything. Both
 * write the same prediction/score formats and are scored by the same scorers.
 *
 * <ul>
 *   <li>Random intervals (NLQ): K windows per query, each between two uniform points of the clip,
 *       seeded per query. Random scores (CharadesEgo): uniform per video and class, seeded.
 *   <li>Frame similarity (NLQ): cosine of the query embedding with each frame's feature,
 *       smoothed, its highest peaks each grown while the score stays near the peak ({@link
 *       #frameSimilarity}); assumes text and frame features share a space (true for CLIP-style
 *       encoders). It replaced a sliding-window sum of centred similarities that reached R@1
 *       IoU0.3 26/40/28 on three seeds of {@code synth features} where the peaks reach 74/84/86
 *       (issue 11: a baseline must be strong before beating it means anything). CharadesEgo: a
 *       video's class score is the mean over its frames of cosine(class embedding, frame).
 * </ul>
 */
public final class Baselines {
  private Baselines() {}

  /** K random windows per query with a text. */
  public static List<NlqPredictions.Result> randomIntervals(NlqAnnotations ann, int k, long seed) {
    List<NlqPredictions.Result> out = new ArrayList<>();
    for (NlqAnnotations.Query q : ann.queries()) {
      Random r = new Random(seed * 0x9E3779B97F4A7C15L
          ^ (q.clipUid() + "/" + q.annotationUid() + "/" + q.queryIdx()).hashCode());
      double len = q.clipVideoEndSec() - q.clipVideoStartSec();
      List<double[]> w = new ArrayList<>();
      for (int i = 0; i < k; i++) {
        double a = r.nextDouble() * len;
        double b = r.nextDouble() * len;
        w.add(new double[] {Math.min(a, b), Math.max(a, b)});
      }
      out.add(new NlqPredictions.Result(q.clipUid(), q.annotationUid(), q.queryIdx(), w));
    }
    return out;
  }

  /** Width of the box filter over per-frame similarities, seconds. */
  public static final double PEAK_SMOOTH_SEC = 2;
  /** Least distance between two peaks, seconds. */
  public static final double PEAK_SEPARATION_SEC = 6;
  /** A peak's span grows while the smoothed similarity stays within this of the peak. */
  public static final double PEAK_DROP = 0.05;
  /** Shortest and longest span, seconds. */
  public static final double PEAK_MIN_SEC = 2;
  public static final double PEAK_MAX_SEC = 30;

  /**
   * Frame-similarity peaks for every query with a text whose video has features: cosine of the
   * query with each frame, smoothed by a {@link #PEAK_SMOOTH_SEC} box filter; the {@code k} highest
   * local maxima at least {@link #PEAK_SEPARATION_SEC} apart, each grown to both sides while the
   * smoothed score stays within {@link #PEAK_DROP} of the peak, then held between {@link
   * #PEAK_MIN_SEC} and {@link #PEAK_MAX_SEC} around the peak. Ranked by peak height.
   */
  public static List<NlqPredictions.Result> frameSimilarity(
      NlqAnnotations ann, Path featuresDir, QueryText text, int k) throws IOException {
    FeatureSpans features = new FeatureSpans(featuresDir);
    double fps = features.fps();
    List<NlqPredictions.Result> out = new ArrayList<>();
    for (List<NlqAnnotations.Query> qs : NlqEvaluator.groupByClip(ann.queries()).values()) {
      NlqAnnotations.Query first = qs.get(0);
      float[][] span = features.span(first.videoUid(), first.clipVideoStartSec(), first.clipVideoEndSec());
      if (span == null) {
        continue;
      }
      float[][] frames = new float[span.length][];
      for (int t = 0; t < span.length; t++) {
        frames[t] = Vectors.normalized(span[t]);
      }
      for (NlqAnnotations.Query q : qs) {
        float[] qv = text.embed(q.query());
        double[] sim = new double[frames.length];
        for (int t = 0; t < frames.length; t++) {
          sim[t] = Vectors.cosine(qv, frames[t]);
        }
        out.add(new NlqPredictions.Result(q.clipUid(), q.annotationUid(), q.queryIdx(), peaks(sim, fps, k)));
      }
    }
    return out;
  }

  /** The {@code k} peak spans (seconds from the first frame) of per-frame scores {@code sim}. */
  static List<double[]> peaks(double[] sim, double fps, int k) {
    int n = sim.length;
    int half = Math.max(0, (int) Math.round(PEAK_SMOOTH_SEC * fps) / 2);
    double[] prefix = new double[n + 1];
    for (int t = 0; t < n; t++) {
      prefix[t + 1] = prefix[t] + sim[t];
    }
    double[] sm = new double[n];
    for (int t = 0; t < n; t++) {
      int a = Math.max(0, t - half);
      int b = Math.min(n, t + half + 1);
      sm[t] = (prefix[b] - prefix[a]) / (b - a);
    }
    Integer[] order = new Integer[n];
    for (int t = 0; t < n; t++) {
      order[t] = t;
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(sm[b], sm[a]));
    int sep = (int) Math.round(PEAK_SEPARATION_SEC * fps);
    int minLen = Math.max(1, (int) Math.round(PEAK_MIN_SEC * fps));
    int maxLen = Math.max(minLen, (int) Math.round(PEAK_MAX_SEC * fps));
    List<Integer> chosen = new ArrayList<>();
    List<double[]> spans = new ArrayList<>();
    for (int p : order) {
      if (chosen.size() == k) {
        break;
      }
      boolean local = (p == 0 || sm[p] >= sm[p - 1]) && (p == n - 1 || sm[p] >= sm[p + 1]);
      if (!local || chosen.stream().anyMatch(c -> Math.abs(c - p) < sep)) {
        continue;
      }
      chosen.add(p);
      int l = p;
      int r = p;
      while (l > 0 && sm[l - 1] >= sm[p] - PEAK_DROP && r - l + 1 < maxLen) {
        l--;
      }
      while (r < n - 1 && sm[r + 1] >= sm[p] - PEAK_DROP && r - l + 1 < maxLen) {
        r++;
      }
      while (r - l + 1 < minLen && (l > 0 || r < n - 1)) {
        if (l > 0) {
          l--;
        }
        if (r - l + 1 < minLen && r < n - 1) {
          r++;
        }
      }
      spans.add(new double[] {l / fps, (r + 1) / fps});
    }
    return spans;
  }

  /** Uniform random class scores per annotated video. */
  public static Map<String, double[]> randomScores(CharadesAnnotations gt, long seed) {
    Random r = new Random(seed);
    Map<String, double[]> out = new LinkedHashMap<>();
    for (String v : gt.labels().keySet()) {
      double[] s = new double[gt.classes().size()];
      for (int c = 0; c < s.length; c++) {
        s[c] = r.nextDouble();
      }
      out.put(v, s);
    }
    return out;
  }

  /**
   * Mean frame similarity per annotated video and class.
   *
   * @throws IllegalArgumentException when an annotated video has no feature file
   */
  public static Map<String, double[]> frameSimilarityScores(
      CharadesAnnotations gt, Path featuresDir, QueryText text) throws IOException {
    FeatureSpans features = new FeatureSpans(featuresDir);
    float[][] classes = CharadesEvaluator.classEmbeddings(gt, text);
    Map<String, double[]> out = new LinkedHashMap<>();
    for (String v : gt.labels().keySet()) {
      float[][] frames = features.span(v, 0, Double.POSITIVE_INFINITY);
      if (frames == null) {
        throw new IllegalArgumentException("no features for CharadesEgo video " + v + " in " + featuresDir);
      }
      double[] s = new double[classes.length];
      for (float[] f : frames) {
        for (int c = 0; c < classes.length; c++) {
          s[c] += Vectors.cosine(classes[c], f);
        }
      }
      for (int c = 0; c < s.length; c++) {
        s[c] /= frames.length;
      }
      out.put(v, s);
    }
    return out;
  }
}
