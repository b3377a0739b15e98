package dev.moments.eval;

import dev.moments.model.MomentPredictor;
import dev.moments.model.PredictedMoment;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@link MomentPredictor} over a span of frame features the way the model expects it: the
 * whole span as one window when it is at most {@code windowSec} long, else sliding windows of
 * {@code windowSec} every {@code strideSec} with a last window aligned to the span's end; all
 * windows' moments are pooled with times relative to the span's start.
 */
public final class WindowedMoments {
  /** A pooled moment: its embedding and span-relative times. */
  public record Moment(float[] embedding, double startSec, double endSec) {}

  private final MomentPredictor predictor;
  private final double windowSec;
  private final double strideSec;

  public WindowedMoments(MomentPredictor predictor, double windowSec, double strideSec) {
    if (!(windowSec > 0) || !(strideSec > 0) || strideSec > windowSec) {
      throw new IllegalArgumentException("need 0 < stride <= window, got window " + windowSec
          + " s, stride " + strideSec + " s");
    }
    this.predictor = predictor;
    this.windowSec = windowSec;
    this.strideSec = strideSec;
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

  /** The pooled moments of {@code span} (frames at {@code fps}), clamped to the span. */
  public List<Moment> run(float[][] span, double fps) {
    int w = Math.max(1, (int) Math.round(windowSec * fps));
    int s = Math.max(1, (int) Math.round(strideSec * fps));
    double length = span.length / fps;
    List<Moment> out = new ArrayList<>();
    for (int start : windowStarts(span.length, w, s)) {
      int end = Math.min(span.length, start + w);
      float[][] window = java.util.Arrays.copyOfRange(span, start, end);
      double offset = start / fps;
      for (PredictedMoment m : predictor.predict(window, fps)) {
        double a = Math.min(length, Math.max(0, offset + m.startSec()));
        double b = Math.min(length, Math.max(a, offset + m.endSec()));
        out.add(new Moment(m.embedding(), a, b));
      }
    }
    return out;
  }
}
