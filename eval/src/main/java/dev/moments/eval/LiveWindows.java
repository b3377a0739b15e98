package dev.moments.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the live indexer places its windows over a replayed clip ({@link #live}), next to where
 * offline eval's sliding windows go ({@link #offline}). {@code replay}'s offline row and {@code
 * eval nlq --hop-sec} run the model over exactly the {@link #live} windows ({@link
 * WindowedMoments#live}), so that they read the frames the live pipeline reads.
 *
 * <p>The live rule (the indexer's {@code WindowingProcessor}, DESIGN §1): over a stream whose
 * first frame is at t0, windows end at {@code t0 + k * hop} (k = 1, 2, ...) and cover
 * {@code [end - W, end)}; a window is emitted once the stream's newest frame reaches
 * {@code end + lateness}; at the stream's end-of-stream mark, the hop windows still pending
 * within the lateness are emitted while a final window would not cover every frame since the
 * last emitted one (hop + lateness > W), then the frames not yet covered become the final
 * window, ending one frame after the newest frame. Offline sliding windows: a clip no longer
 * than W is one window and a longer one gets windows every stride from frame 0 plus one aligned
 * to its end.
 *
 * <p>The two coincide when {@code W >= clip length} and {@code hop >= W} (one window), and when
 * hop = stride = W with a clip whose pending hop windows all come out at its end (e.g. a 485 s
 * clip, W = hop = 120 s, lateness 10 s: [0, 120), ..., [360, 480), then [365, 485) both ways).
 * With a hop shorter than W the live index also holds the moments of the early, partial windows
 * ([0, hop), [0, 2 hop), ...), which sliding windows never run.
 */
public final class LiveWindows {
  private LiveWindows() {}

  /** Frame range {@code [from, to)} of one window. */
  public record Window(int from, int to) {}

  /**
   * A live window's frame range, its end in ms from the first frame (its record timestamp) and
   * where the windows before it end (0 for the first): what the indexer's band of it depends on.
   */
  public record Timed(Window window, long endMs, long coveredUntilMs) {}

  /**
   * The windows the live indexer emits over a clip of {@code frames} frames at {@code fps}, with
   * frame {@code i} at {@code i * 1000 / fps} ms (rounded, as {@link FeatureReplay} sends them).
   */
  public static List<Window> live(int frames, double fps, double windowSec, double hopSec, double latenessSec) {
    return liveTimed(frames, fps, windowSec, hopSec, latenessSec).stream().map(Timed::window).toList();
  }

  /** {@link #live}'s windows with their ends (ms from the first frame). */
  public static List<Timed> liveTimed(int frames, double fps, double windowSec, double hopSec, double latenessSec) {
    long w = Math.round(windowSec * 1000);
    long hop = Math.round(hopSec * 1000);
    long late = Math.round(latenessSec * 1000);
    long frameMs = Math.max(1, Math.round(1000.0 / fps));
    long[] ts = new long[frames];
    for (int i = 0; i < frames; i++) {
      ts[i] = Math.round(i * 1000.0 / fps);
    }
    long maxTs = ts[frames - 1];
    List<Timed> out = new ArrayList<>();
    // covered: where the windows so far end (the first frame, 0, before any)
    long covered = 0;
    boolean any = false;
    for (long end = hop; end <= maxTs - late; end += hop) {
      add(out, ts, w, end, covered);
      covered = end;
      any = true;
    }
    // The clip's end-of-stream mark: pending hop windows first while the final window would
    // leave frames since the last emitted window out (hop + lateness > W), then the final one.
    long finalEnd = maxTs + frameMs;
    for (long end = any ? covered + hop : hop; covered < finalEnd - w && end < finalEnd; end += hop) {
      add(out, ts, w, end, covered);
      covered = end;
      any = true;
    }
    if (!any || maxTs >= covered) {
      add(out, ts, w, finalEnd, covered);
    }
    return out;
  }

  /** Adds the window ending at {@code end} when it holds a frame. */
  private static void add(List<Timed> out, long[] ts, long w, long end, long covered) {
    Window win = range(ts, end - w, end);
    if (win != null) {
      out.add(new Timed(win, end, covered));
    }
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
