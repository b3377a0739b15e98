package dev.moments.eval;

import dev.moments.model.MomentPredictor;
import dev.moments.model.rank.FrameEvidence;
import dev.moments.model.rank.MomentVectors;
import dev.moments.model.rank.Rankers;
import dev.moments.model.rank.SpanRanker;
import dev.moments.trainer.ego4d.NlqAnnotations;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Zero-shot NLQ with a moment model (DESIGN §4/§6): for each clip, the model runs over the clip's
 * frame features (the video's {@code .npy} rows from the one holding the clip's start on, via the
 * manifest fps; sliding windows, or the live indexer's windows with {@link Options#live}, see
 * {@link WindowedMoments}); each query's moments are ranked by cosine(query text embedding,
 * moment embedding) with the moment embedding at the int8 precision the served index stores
 * ({@link MomentVectors#similarity}, the same float the index reports), a moment overlapping a better one with IoU above the suppression IoU is
 * dropped (as the served search's NMS does), and the top K spans become {@code predicted_times},
 * in clip seconds: the span's first row starts up to one frame before the clip ({@link
 * FeatureSpans#offsetSec}), and times are shifted by that and clamped to the clip.
 *
 * <p>Queries without a query text are skipped (counted by the annotations); queries whose video has
 * no feature file are skipped and counted in {@link Run#withoutFeatures()}.
 */
public final class NlqEvaluator {
  /**
   * Settings.
   *
   * @param windowSec model window length (the paper trains on 600 s chunks)
   * @param strideSec sliding-window stride for clips longer than a window
   * @param topK predictions per query (the official metrics read the first 5)
   * @param duplicateIou a moment whose span has more than this IoU with a better-ranked one is
   *     dropped (pooled overlapping windows predict the same span twice), as the served search's
   *     NMS drops it; in (0, 1), so an exact repeat (IoU 1) is always dropped
   * @param liveLatenessSec {@code null}: sliding windows every {@code strideSec}; else the live
   *     indexer's windows over each clip replayed as one stream, ending every {@code strideSec}
   *     (the hop) after its first frame, with this lateness ({@link LiveWindows#live})
   * @param liveCopies with the live windows: from how many windows the index keeps each stretch
   *     ({@link dev.moments.model.rank.CentredMoments}), 0 for every moment
   */
  public record Options(double windowSec, double strideSec, int topK, double duplicateIou, Double liveLatenessSec,
      int liveCopies) {
    /** Sliding windows. */
    public Options(double windowSec, double strideSec, int topK, double duplicateIou) {
      this(windowSec, strideSec, topK, duplicateIou, null, 0);
    }

    /**
     * The live indexer's windows and the index's moments: W, hop, lateness and copies as the
     * indexer's; suppression as served.
     */
    public static Options live(double windowSec, double hopSec, double latenessSec, int copies, int topK,
        double nmsIou) {
      return new Options(windowSec, hopSec, topK, nmsIou, latenessSec, copies);
    }

    public Options {
      if (topK < 1) {
        throw new IllegalArgumentException("--top-k must be >= 1, got " + topK);
      }
      if (liveCopies < 0) {
        throw new IllegalArgumentException("copies must be >= 0 (0 keeps every moment), got " + liveCopies);
      }
      if (!(duplicateIou > 0) || duplicateIou >= 1) {
        throw new IllegalArgumentException("duplicate IoU must be in (0, 1), got " + duplicateIou);
      }
    }

    /** 600 s windows, 300 s stride, top 5, duplicates at IoU >= 0.95. */
    public static Options defaults() {
      return new Options(600, 300, 5, 0.95);
    }
  }

  /** The predictions and how many queries had no features to run on. */
  public record Run(List<NlqPredictions.Result> predictions, int withoutFeatures) {}

  private final WindowedMoments windows;
  private final QueryText text;
  private final Options options;

  public NlqEvaluator(MomentPredictor predictor, QueryText text, Options options) {
    this.windows = options.liveLatenessSec() == null
        ? new WindowedMoments(predictor, options.windowSec(), options.strideSec())
        : WindowedMoments.live(predictor, options.windowSec(), options.strideSec(), options.liveLatenessSec(),
            options.liveCopies());
    this.text = text;
    this.options = options;
  }

  /**
   * Predicts every query with a text from the model's moments alone: ranked by cosine with the
   * query, a moment overlapping a better one with IoU above {@link Options#duplicateIou()} dropped
   * ({@link Rankers#laviti(double)}).
   */
  public Run run(NlqAnnotations annotations, Path featuresDir) throws IOException {
    Ranked r = runRanked(annotations, featuresDir, Map.of("laviti", Rankers.laviti(options.duplicateIou())));
    return new Run(r.predictions().get("laviti"), r.withoutFeatures());
  }

  /**
   * Every query with a text ranked by each of {@code rankers} (name to ranker) from the same
   * evidence: the clip's frame features pooled per second ({@link FrameEvidence#pool}, second 0
   * starting at the clip's first frame row) scored against the query, and the model's moments over
   * the clip (as {@link #run}) scored by cosine with the query at the index's int8 precision
   * ({@link MomentVectors#similarity}); spans shifted to clip seconds and
   * clamped as {@link #run} does ({@link #toClip}). The model runs once per clip.
   *
   * @return per ranker name, in the order given, its predictions (top {@link Options#topK()})
   */
  public Ranked runRanked(NlqAnnotations annotations, Path featuresDir, Map<String, SpanRanker> rankers)
      throws IOException {
    FeatureSpans features = new FeatureSpans(featuresDir);
    Map<String, List<NlqPredictions.Result>> out = new LinkedHashMap<>();
    for (String name : rankers.keySet()) {
      out.put(name, new ArrayList<>());
    }
    int withoutFeatures = 0;
    for (List<NlqAnnotations.Query> qs : groupByClip(annotations.queries()).values()) {
      NlqAnnotations.Query first = qs.get(0);
      float[][] span = features.span(first.videoUid(), first.clipVideoStartSec(), first.clipVideoEndSec());
      if (span == null) {
        withoutFeatures += qs.size();
        continue;
      }
      List<WindowedMoments.Moment> moments = new ArrayList<>();
      List<byte[]> stored = new ArrayList<>(); // as the index stores them
      for (WindowedMoments.Moment m : windows.run(span, features.fps())) {
        try {
          stored.add(MomentVectors.int8(m.embedding(), "a moment embedding of clip " + first.clipUid()));
          moments.add(m);
        } catch (IllegalArgumentException zeroOrNotFinite) {
          // the index refuses such a moment (the materializer skips it), so it is not ranked here
        }
      }
      float[][] evidence = FrameEvidence.pool(span, features.fps());
      double offset = features.offsetSec(first.clipVideoStartSec());
      double clipLength = first.clipVideoEndSec() - first.clipVideoStartSec();
      for (NlqAnnotations.Query q : qs) {
        float[] qv = text.embed(q.query());
        double[] frameScores = FrameEvidence.scores(qv, evidence);
        List<SpanRanker.Moment> scored = new ArrayList<>(moments.size());
        for (int i = 0; i < moments.size(); i++) {
          WindowedMoments.Moment m = moments.get(i);
          scored.add(new SpanRanker.Moment(m.startSec(), m.endSec(), MomentVectors.similarity(qv, stored.get(i))));
        }
        for (Map.Entry<String, SpanRanker> r : rankers.entrySet()) {
          List<double[]> spans = new ArrayList<>();
          for (SpanRanker.Span s : r.getValue().rank(frameScores, scored, options.topK())) {
            spans.add(new double[] {s.startSec(), s.endSec()});
          }
          out.get(r.getKey()).add(new NlqPredictions.Result(q.clipUid(), q.annotationUid(), q.queryIdx(),
              toClip(spans, offset, clipLength)));
        }
      }
    }
    return new Ranked(out, withoutFeatures);
  }

  /** The predictions per ranker and how many queries had no features to run on. */
  public record Ranked(Map<String, List<NlqPredictions.Result>> predictions, int withoutFeatures) {}

  /**
   * Span-relative times to clip seconds: shifted by {@code offsetSec} (where the span's first row
   * starts relative to the clip, in (-1 frame, 0]) and clamped to {@code [0, clipLength]}.
   */
  public static List<double[]> toClip(List<double[]> spans, double offsetSec, double clipLength) {
    List<double[]> out = new ArrayList<>(spans.size());
    for (double[] s : spans) {
      double a = Math.min(clipLength, Math.max(0, s[0] + offsetSec));
      double b = Math.min(clipLength, Math.max(a, s[1] + offsetSec));
      out.add(new double[] {a, b});
    }
    return out;
  }

  static Map<String, List<NlqAnnotations.Query>> groupByClip(List<NlqAnnotations.Query> queries) {
    Map<String, List<NlqAnnotations.Query>> m = new LinkedHashMap<>();
    for (NlqAnnotations.Query q : queries) {
      m.computeIfAbsent(q.videoUid() + "/" + q.clipUid(), k -> new ArrayList<>()).add(q);
    }
    return m;
  }
}
