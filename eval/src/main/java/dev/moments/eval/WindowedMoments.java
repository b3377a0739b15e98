package dev.moments.eval;

import dev.moments.model.MomentPredictor;
import dev.moments.model.PredictedMoment;
import dev.moments.model.rank.CentredMoments;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@link MomentPredictor} over a span of frame features the way the model expects it, and
 * pools all windows' moments with times relative to the span's start. Two window placements:
 *
 * <ul>
 *   <li><b>sliding</b> (the constructor; {@code eval nlq}'s default): the whole span as one window
 *       when it is at most {@code windowSec} long, else windows of {@code windowSec} every {@code
 *       strideSec} from the first frame, with a last window aligned to the span's end;
 *   <li><b>live</b> ({@link #live}): exactly the windows the live indexer runs over the span
 *       replayed as one stream ({@link LiveWindows#live}): windows ending every hop after the
 *       first frame, early ones partial, and the rest at the stream's end; of their moments those
 *       the index keeps ({@link CentredMoments}).
 * </ul>
 */
public final class WindowedMoments {
  /** A pooled moment: its embedding and span-relative times. */
  public record Moment(float[] embedding, double startSec, double endSec) {}

  private final MomentPredictor predictor;
  private final double windowSec;
  private final double strideSec;
  /** The live indexer's lateness in seconds, or {@code null} for sliding windows. */
  private final Double liveLatenessSec;
  /** Live windows: from how many windows the index keeps each stretch (0: every moment). */
  private final int liveCopies;

  public WindowedMoments(MomentPredictor predictor, double windowSec, double strideSec) {
    this(predictor, windowSec, strideSec, null, 0);
  }

  private WindowedMoments(MomentPredictor predictor, double windowSec, double strideSec, Double liveLatenessSec,
      int liveCopies) {
    if (!(windowSec > 0) || !(strideSec > 0) || strideSec > windowSec) {
      throw new IllegalArgumentException("need 0 < " + (liveLatenessSec == null ? "stride" : "hop")
          + " <= window, got window " + windowSec + " s, " + (liveLatenessSec == null ? "stride " : "hop ")
          + strideSec + " s");
    }
    if (liveLatenessSec != null && !(liveLatenessSec >= 0)) {
      throw new IllegalArgumentException("lateness must be >= 0 s, got " + liveLatenessSec);
    }
    this.predictor = predictor;
    this.windowSec = windowSec;
    this.strideSec = strideSec;
    if (liveCopies < 0) {
      throw new IllegalArgumentException("copies must be >= 0 (0 keeps every moment), got " + liveCopies);
    }
    this.liveLatenessSec = liveLatenessSec;
    this.liveCopies = liveCopies;
  }

  /**
   * The live indexer's windows: W = {@code windowSec}, ends every {@code hopSec}, {@code
   * latenessSec}; the moments the index keeps of them with {@code copies} ({@link CentredMoments};
   * 0: every moment).
   */
  public static WindowedMoments live(MomentPredictor predictor, double windowSec, double hopSec, double latenessSec,
      int copies) {
    return new WindowedMoments(predictor, windowSec, hopSec, latenessSec, copies);
  }

  /** Start frames of the windows over {@code frames} frames. */
  static List<Integer> windowStarts(int frames, int windowFrames, int strideFrames) {
    List<Integer> starts = new ArrayList<>();
    if (frames <= windowFrames) {
      starts.add(0);
      return starts;
    }
    for (int s = 0; s + windowFrames < frames; s += strideFrames) {
      starts.add(s);
    }
    starts.add(frames - windowFrames);
    return starts;
  }

  /**
   * The pooled moments of {@code span} (frames at {@code fps}). Sliding windows: times clamped to
   * the span. Live windows: times as the indexer makes them, whole milliseconds through the
   * frames' replay timestamps ({@code round(i * 1000 / fps)}, see {@link #liveMs}), so that the
   * suppression of overlapping answers decides on the very numbers the index compares.
   */
  public List<Moment> run(float[][] span, double fps) {
    double length = span.length / fps;
    List<Moment> out = new ArrayList<>();
    if (span.length == 0) {
      return out;
    }
    if (liveLatenessSec != null) {
      return runLive(span, fps);
    }
    for (LiveWindows.Window w : LiveWindows.offline(span.length, fps, windowSec, strideSec)) {
      float[][] window = java.util.Arrays.copyOfRange(span, w.from(), w.to());
      double offset = w.from() / fps;
      for (PredictedMoment m : predictor.predict(window, fps)) {
        double a = Math.min(length, Math.max(0, offset + m.startSec()));
        double b = Math.min(length, Math.max(a, offset + m.endSec()));
        out.add(new Moment(m.embedding(), a, b));
      }
    }
    return out;
  }

  /** A live window's moment in the index's whole milliseconds from the span's first frame. */
  private record LiveMoment(float[] embedding, long startMs, long endMs) {}

  /**
   * The live windows' moments as the index holds them: each stretch from the {@code liveCopies}
   * windows nearest it ({@link CentredMoments#keep}, the index's rule), or all of them.
   */
  private List<Moment> runLive(float[][] span, double fps) {
    long windowMs = Math.round(windowSec * 1000);
    long hopMs = Math.round(strideSec * 1000);
    List<List<LiveMoment>> perWindow = new ArrayList<>();
    List<CentredMoments.Band> bands = new ArrayList<>();
    for (LiveWindows.Timed t : LiveWindows.liveTimed(span.length, fps, windowSec, strideSec, liveLatenessSec)) {
      LiveWindows.Window w = t.window();
      float[][] window = java.util.Arrays.copyOfRange(span, w.from(), w.to());
      List<LiveMoment> ms = new ArrayList<>();
      for (PredictedMoment m : predictor.predict(window, fps)) {
        long a = liveMs(w, fps, m.startSec());
        long b = Math.max(a, liveMs(w, fps, m.endSec()));
        ms.add(new LiveMoment(m.embedding(), a, b));
      }
      perWindow.add(ms);
      if (liveCopies > 0) {
        bands.add(CentredMoments.band(t.endMs(), windowMs, hopMs, liveCopies, t.coveredUntilMs()));
      }
    }
    List<LiveMoment> kept = liveCopies == 0
        ? perWindow.stream().flatMap(List::stream).toList()
        : CentredMoments.keep(perWindow, bands, LiveMoment::startMs, LiveMoment::endMs);
    List<Moment> out = new ArrayList<>();
    for (LiveMoment m : kept) {
      out.add(new Moment(m.embedding(), m.startMs() / 1000.0, m.endMs() / 1000.0));
    }
    return out;
  }

  /**
   * The indexer's time (ms from the span's first frame) of {@code sec} after window {@code w}'s
   * first frame ({@code WindowingProcessor.timeAt}): frame {@code i} covers {@code [ts[i],
   * ts[i+1])} (the last one frame length, {@code round(1000 / fps)}) and a time inside it is
   * placed proportionally.
   */
  static long liveMs(LiveWindows.Window w, double fps, double sec) {
    int t = w.to() - w.from();
    long frameMs = Math.max(1, Math.round(1000.0 / fps));
    double pos = sec * fps;
    if (!(pos > 0)) {
      return ts(w.from(), fps);
    }
    int i = (int) Math.floor(pos);
    if (i >= t) {
      return ts(w.to() - 1, fps) + frameMs;
    }
    long from = ts(w.from() + i, fps);
    long to = i + 1 < t ? ts(w.from() + i + 1, fps) : from + frameMs;
    return from + Math.round((pos - i) * (to - from));
  }

  /** The replay timestamp (ms from the first frame) of frame {@code i}, as {@code FeatureReplay} sends it. */
  private static long ts(int i, double fps) {
    return Math.round(i * 1000.0 / fps);
  }
}
