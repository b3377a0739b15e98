package dev.moments.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the live indexer places its windows over a replayed clip, next to where offline eval
 * places them ({@link WindowedMoments}), so that a difference between online and offline metrics
 * can be traced to window placement.
 *
 * <p>The live rule (the indexer's {@code WindowingProcessor}, DESIGN §1): over a stream whose
 * first frame is at t0, windows end at {@code t0 + k * hop} (k = 1, 2, ...) and cover
 * {@code [end - W, end)}; a window is emitted once the stream's newest frame reaches
 * {@code end + lateness}; after the stream goes idle, the frames not yet covered by an emitted
 * window are flushed as a final window ending one frame after the newest frame. Offline, a clip
 * no longer than W is one window and a longer one gets windows every stride plus one aligned to
 * its end.
 *
 * <p>NOTE: the two coincide exactly when {@code W >= clip length} and {@code hop >= W} (no hop
 * window is ever due, the idle flush covers the whole clip: one window, as offline). With a
 * shorter hop the live index additionally holds the moments of the early, partial windows
 * (frames 0 .. k*hop), which can outrank or duplicate the full window's moments.
 */
public final class LiveWindows {
  private LiveWindows() {}

  /** Frame range {@code [from, to)} of one window. */
  public record Window(int from, int to) {}

  /**
   * The windows the live indexer emits over a clip of {@code frames} frames at {@code fps}, with
   * frame {@code i} at {@code i * 1000 / fps} ms (rounded, as {@link FeatureReplay} sends them).
   */
  public static List<Window> live(int frames, double fps, double windowSec, double hopSec, double latenessSec) {
    long w = Math.round(windowSec * 1000);
    long hop = Math.round(hopSec * 1000);
    long late = Math.round(latenessSec * 1000);
    long frameMs = Math.max(1, Math.round(1000.0 / fps));
    long[] ts = new long[frames];
    for (int i = 0; i < frames; i++) {
      ts[i] = Math.round(i * 1000.0 / fps);
    }
    long maxTs = ts[frames - 1];
    List<Window> out = new ArrayList<>();
    long lastEnd = Long.MIN_VALUE;
    for (long end = hop; end <= maxTs - late; end += hop) {
      Window win = range(ts, end - w, end);
      if (win != null) {
        out.add(win);
      }
      lastEnd = end;
    }
    if (lastEnd == Long.MIN_VALUE || maxTs >= lastEnd) {
      long end = maxTs + frameMs;
      Window win = range(ts, end - w, end);
      if (win != null) {
        out.add(win);
      }
    }
    return out;
  }

  /** The windows offline eval runs over the same clip ({@link WindowedMoments}). */
  public static List<Window> offline(int frames, double fps, double windowSec, double strideSec) {
    int w = Math.max(1, (int) Math.round(windowSec * fps));
    int s = Math.max(1, (int) Math.round(strideSec * fps));
    List<Window> out = new ArrayList<>();
    for (int start : WindowedMoments.windowStarts(frames, w, s)) {
      out.add(new Window(start, Math.min(frames, start + w)));
    }
    return out;
  }

  private static Window range(long[] ts, long fromMs, long toMs) {
    int from = -1;
    int to = -1;
    for (int i = 0; i < ts.length; i++) {
      if (ts[i] >= fromMs && ts[i] < toMs) {
        if (from < 0) {
          from = i;
        }
        to = i + 1;
      }
    }
    return from < 0 ? null : new Window(from, to);
  }
}
