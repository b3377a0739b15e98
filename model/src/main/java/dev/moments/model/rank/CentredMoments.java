package dev.moments.model.rank;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Which of a stream's overlapping windows' moments the index keeps. With 600 s windows every 30 s
 * each stretch of video is predicted about 20 times; the index keeps each stretch from the
 * {@code copies} windows that had it nearest their middle, where the model saw the most context on
 * both sides. A window ending at {@code end} (length W, hop H, middle {@code m = end - W/2}) has
 * the <b>band</b> {@code [m - copies*H/2, m + copies*H/2)}:
 *
 * <ul>
 *   <li>its moments centred before the band are not stored (later windows saw them better);
 *   <li>its moments centred in or after the band are stored: the newest window's newer half stays
 *       searchable until later windows take over;
 *   <li>when it comes, a stored moment of an earlier window that is centred at or after that
 *       window's band end <b>and</b> at or after this window's band start is removed: a later
 *       window stands for it now.
 * </ul>
 *
 * So in steady state a window keeps the moments centred in its band, each stretch is kept from
 * {@code copies} windows, and no stretch is left without moments (a window off the hop grid, such
 * as a stream's final window, removes only what its own band covers). The first windows of a
 * stream (shorter than W, middles before the stream's start) give way to later ones as they come.
 *
 * <p>Times are whole milliseconds; the centre is compared doubled ({@code start + end}, see {@link
 * #mid2}) against twice the band's ends, so that every comparison is exact. The served index applies it per window ({@code
 * MomentIndex}); an offline evaluation of the index calls {@link #keep} with the stream's windows
 * in order, which gives what the index holds. Replays are safe: applying a window again removes
 * and adds the same moments.
 */
public final class CentredMoments {
  private CentredMoments() {}

  /** The default number of windows each stretch is kept from. */
  public static final int DEFAULT_COPIES = 3;

  /**
   * A window's band: the moments centred at or after {@code fromMs} are its own, those centred at
   * or after {@code untilMs} give way to a later window.
   */
  public record Band(long fromMs, long untilMs) {
    public Band {
      if (untilMs < fromMs) {
        throw new IllegalArgumentException("band ends (" + untilMs + ") before it starts (" + fromMs + ")");
      }
    }

    /** Whether a moment {@code [startMs, endMs]} is centred at or after the band's start: stored. */
    public boolean keeps(long startMs, long endMs) {
      return mid2(startMs, endMs) >= 2 * fromMs;
    }

    /**
     * Whether a stored moment {@code [startMs, endMs]} of an earlier window whose band ends at
     * {@code ownUntilMs} gives way to the window of this band.
     */
    public boolean replaces(long startMs, long endMs, long ownUntilMs) {
      long c2 = mid2(startMs, endMs);
      return c2 >= 2 * ownUntilMs && c2 >= 2 * fromMs;
    }
  }

  /**
   * The band of the window ending at {@code endMs} of a stream with windows of {@code windowMs}
   * every {@code hopMs}, each stretch kept from {@code copies} windows: from {@code end - (W +
   * copies * H) / 2} (whole ms, rounded down), {@code copies * H} long; but it starts no later than
   * {@code coveredUntilMs}, where the stream's earlier windows end (its first frame for the first
   * window of a timeline), so that a window off the hop grid (a stream's final window, up to a hop
   * plus the lateness after the last one) keeps every stretch no earlier window saw.
   */
  public static Band band(long endMs, long windowMs, long hopMs, int copies, long coveredUntilMs) {
    if (windowMs <= 0 || hopMs <= 0) {
      throw new IllegalArgumentException("window and hop must be > 0 ms, got " + windowMs + " and " + hopMs);
    }
    if (copies < 1) {
      throw new IllegalArgumentException("copies must be >= 1, got " + copies);
    }
    long width = copies * hopMs;
    long from = endMs - (windowMs + width) / 2;
    return new Band(Math.min(from, coveredUntilMs), from + width);
  }

  /** From how many windows each stretch is kept, in words: "3 windows", or "every window" for 0. */
  public static String describe(int copies) {
    return copies == 0 ? "every window" : copies + (copies == 1 ? " window" : " windows");
  }

  /** Twice a moment's centre, exact: {@code startMs + endMs}. */
  public static long mid2(long startMs, long endMs) {
    return startMs + endMs;
  }

  /**
   * The moments of one stream that the index holds after {@code windows} (in order, each with its
   * moments in slot order, and its {@link #band}), in the order stored.
   */
  public static <T> List<T> keep(List<List<T>> windows, List<Band> bands, ToLongFunction<T> startMs,
      ToLongFunction<T> endMs) {
    if (windows.size() != bands.size()) {
      throw new IllegalArgumentException(windows.size() + " windows but " + bands.size() + " bands");
    }
    record Kept<T>(T moment, long ownUntilMs) {}
    List<Kept<T>> kept = new ArrayList<>();
    for (int w = 0; w < windows.size(); w++) {
      Band band = bands.get(w);
      kept.removeIf(k -> band.replaces(startMs.applyAsLong(k.moment()), endMs.applyAsLong(k.moment()), k.ownUntilMs()));
      for (T m : windows.get(w)) {
        if (band.keeps(startMs.applyAsLong(m), endMs.applyAsLong(m))) {
          kept.add(new Kept<>(m, band.untilMs()));
        }
      }
    }
    List<T> out = new ArrayList<>(kept.size());
    kept.forEach(k -> out.add(k.moment()));
    return out;
  }
}
