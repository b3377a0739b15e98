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
 *   <li>Frame similarity (NLQ): cosine of the query embedding with each frame's feature, minus
 *       the clip's mean cosine; every window of {@link #FRAME_WINDOWS_SEC} seconds at every frame
 *       is scored by the sum of these centred similarities (so the best window covers the whole
 *       above-average stretch, not just its peak); the top K after suppressing windows with IoU
 *       > 0.5 with a better one. This
 *       assumes text and frame features share a space (true for CLIP-style encoders). CharadesEgo:
 *       a video's class score is the mean over its frames of cosine(class embedding, frame).
 * </ul>
 */
public final class Baselines {
  /** Window lengths the frame-similarity baseline tries. */
  public static final double[] FRAME_WINDOWS_SEC = {2, 4, 6, 8, 12, 16, 24, 32, 48, 64};

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

  /** Frame-similarity windows for every query with a text whose video has features. */
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
        double mean = 0;
        for (int t = 0; t < frames.length; t++) {
          sim[t] = Vectors.cosine(qv, frames[t]);
          mean += sim[t] / frames.length;
        }
        double[] prefix = new double[frames.length + 1];
        for (int t = 0; t < frames.length; t++) {
          prefix[t + 1] = prefix[t] + sim[t] - mean;
        }
        List<double[]> spans = new ArrayList<>();
        List<Double> scores = new ArrayList<>();
        for (double sec : FRAME_WINDOWS_SEC) {
          int w = Math.min(frames.length, Math.max(1, (int) Math.round(sec * fps)));
          for (int s = 0; s + w <= frames.length; s++) {
            spans.add(new double[] {s / fps, (s + w) / fps});
            scores.add(prefix[s + w] - prefix[s]);
          }
          if (w == frames.length) {
            break;
          }
        }
        double[] sc = scores.stream().mapToDouble(Double::doubleValue).toArray();
        out.add(new NlqPredictions.Result(q.clipUid(), q.annotationUid(), q.queryIdx(),
            nms(spans, sc, k, 0.5)));
      }
    }
    return out;
  }

  /** Greedy non-maximum suppression: drop a span with IoU > {@code iou} with a kept one. */
  static List<double[]> nms(List<double[]> spans, double[] scores, int k, double iou) {
    Integer[] order = new Integer[spans.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
    List<double[]> kept = new ArrayList<>();
    for (int i : order) {
      double[] s = spans.get(i);
      boolean suppressed = false;
      for (double[] t : kept) {
        if (NlqMetrics.iou(s[0], s[1], t[0], t[1]) > iou) {
          suppressed = true;
          break;
        }
      }
      if (!suppressed) {
        kept.add(s);
        if (kept.size() == k) {
          break;
        }
      }
    }
    return kept;
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
