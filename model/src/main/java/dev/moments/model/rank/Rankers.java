package dev.moments.model.rank;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * The three rankers a stretch is ranked by, each measurable on its own ({@code eval nlq} prints them
 * side by side), and a random reference.
 *
 * <ul>
 *   <li>{@link #laviti()}: the model's moments by their cosine with the query, a moment overlapping
 *       a better one with IoU above {@link #NMS_IOU} dropped (the served index's suppression).
 *   <li>{@link #frames()}: peaks of the per-second frame similarity ({@link #framePeaks}).
 *   <li>{@link #fused()}: both signals; see {@link #fused()} for the mechanism.
 * </ul>
 *
 * <p>None normalises scores per stretch: a span's score depends on the query and the evidence
 * inside or next to the span only, so the spans of many streams can be merged by score.
 */
public final class Rankers {
  private Rankers() {}

  /** The served search's ranker unless configured otherwise ({@code serve --ranker}). */
  public static final String DEFAULT = "fused";

  /** The rankers known by name: the served search's {@code --ranker} choices. */
  public static java.util.Set<String> names() {
    return java.util.Set.of("fused", "laviti", "frames");
  }

  /**
   * A ranker by name: {@code fused} ({@link #fused()}), {@code laviti} ({@link #laviti()}) or
   * {@code frames} ({@link #frames()}).
   *
   * @throws IllegalArgumentException for an unknown name (the message lists the known ones)
   */
  public static SpanRanker named(String name) {
    return switch (name) {
      case "fused" -> fused();
      case "laviti" -> laviti();
      case "frames" -> frames();
      default -> throw new IllegalArgumentException("unknown ranker '" + name + "', known: fused, laviti, frames");
    };
  }

  /** A worse span overlapping a chosen one with IoU above this is dropped (as the served index). */
  public static final double NMS_IOU = 0.5;
  /** Width of the box filter over the per-second similarity, seconds (a 2 s box at 1 Hz: 1/4, 1/2, 1/4). */
  public static final double PEAK_SMOOTH_SEC = 2;
  /** Least distance between two peaks, seconds. */
  public static final int PEAK_SEPARATION_SEC = 6;
  /** A peak's span grows while the smoothed similarity stays within this of the peak. */
  public static final double PEAK_DROP = 0.05;
  /** Shortest and longest peak span, seconds. */
  public static final int PEAK_MIN_SEC = 2;
  public static final int PEAK_MAX_SEC = 30;

  /** LAVITI alone: moments by cosine, suppressed as the served index does ({@link #NMS_IOU}). */
  public static SpanRanker laviti() {
    return laviti(NMS_IOU);
  }

  /**
   * LAVITI alone, a moment dropped when its IoU with a better one is above {@code nmsIou} (on whole
   * ms); {@code train --eval-nlq} pools overlapping sliding windows and drops only near-repeats (0.95).
   */
  public static SpanRanker laviti(double nmsIou) {
    return (frameScores, moments, k) -> {
      List<SpanRanker.Span> all = new ArrayList<>();
      for (SpanRanker.Moment m : moments) {
        all.add(new SpanRanker.Span(m.startSec(), m.endSec(), m.score()));
      }
      return suppress(all, k, nmsIou);
    };
  }

  /** Frame similarity alone: {@link #framePeaks} of the per-second scores, ranked by peak height. */
  public static SpanRanker frames() {
    return (frameScores, moments, k) -> framePeaks(frameScores, k);
  }

  /**
   * Both signals fused. Candidates come from both: every LAVITI moment, and around each of the
   * {@link #FUSED_PEAKS} highest frame peaks the span grown at each drop of {@link #FUSED_DROPS}
   * (one peak's event at several scales, so a long event whose similarity wavers is also put
   * forward whole). Each candidate is scored by
   *
   * <pre>
   *   frame contrast + LAVITI_WEIGHT * LAVITI support
   *   frame contrast  = mean smoothed similarity inside the span
   *                     - FLANK_WEIGHT * (max(0, mean over the FLANK left of it)
   *                                       + max(0, mean over the FLANK right of it)) / 2
   *   FLANK           = half the span's length, held to [2 s, 10 s]; at the stretch's edge the one
   *                     flank there stands for both
   *   LAVITI support  = max over moments of (moment's cosine with the query) * IoU(span, moment)
   * </pre>
   *
   * and the best are kept with the same suppression as {@link #laviti()}. The contrast is the
   * height of the frame similarity, docked where the span's surroundings look like the query too: a
   * fragment of an event has the event on its flanks, so the span covering the event whole wins.
   * Flanks are clipped at 0 so that a span next to very dissimilar frames gains nothing from them
   * (an encoder whose gaps score far below 0 would otherwise favour any blip next to a trough); the
   * support lets the model decide between look-alike events the frames cannot
   * separate and puts forward events the frame peaks miss. With no frame evidence the ranking is the
   * model's; with no moments it is the frame contrast. Both terms read only the evidence in and
   * next to the span, so scores stay comparable across stretches.
   */
  public static SpanRanker fused() {
    return fused(LAVITI_WEIGHT);
  }

  /** {@link #fused()} with another weight of the LAVITI support (0 = frame contrast only). */
  public static SpanRanker fused(double lavitiWeight) {
    return (frameScores, moments, k) -> {
      double[] sm = smooth(frameScores);
      List<SpanRanker.Span> candidates = new ArrayList<>();
      for (int p : peakSeconds(sm, FUSED_PEAKS)) {
        for (double drop : FUSED_DROPS) {
          int[] lr = grow(sm, p, drop);
          candidates.add(new SpanRanker.Span(lr[0], lr[1] + 1, 0));
        }
      }
      for (SpanRanker.Moment m : moments) {
        candidates.add(new SpanRanker.Span(m.startSec(), m.endSec(), 0));
      }
      List<SpanRanker.Span> scored = new ArrayList<>(candidates.size());
      for (SpanRanker.Span c : candidates) {
        double support = 0;
        for (SpanRanker.Moment m : moments) {
          support = Math.max(support, m.score() * iou(c.startSec(), c.endSec(), m.startSec(), m.endSec()));
        }
        scored.add(new SpanRanker.Span(c.startSec(), c.endSec(),
            contrast(sm, c.startSec(), c.endSec()) + lavitiWeight * support));
      }
      return suppress(scored, k);
    };
  }

  /** Weight of the LAVITI support against the frame contrast in {@link #fused()}. */
  public static final double LAVITI_WEIGHT = 0.05;
  /** Frame peaks whose spans {@link #fused()} puts forward. */
  public static final int FUSED_PEAKS = 20;
  /** The drops at which {@link #fused()} grows each peak's span. */
  static final double[] FUSED_DROPS = {0.05, 0.1, 0.2};
  /** Flank of the frame contrast: this share of the span's length, held to [2 s, 10 s]. */
  public static final double FLANK_SHARE = 0.5;
  public static final double FLANK_MAX_SEC = 10;
  /** Weight of the flanks' similarity (each clipped at 0) subtracted from the inside's. */
  public static final double FLANK_WEIGHT = 0.5;

  /**
   * Frame contrast of [a, b) on smoothed per-second scores {@code sm}: mean inside minus the mean
   * of the two flanks (see {@link #fused()}); 0 without evidence.
   */
  static double contrast(double[] sm, double a, double b) {
    if (sm.length == 0) {
      return 0;
    }
    double flank = Math.max(PEAK_MIN_SEC, Math.min(FLANK_MAX_SEC, FLANK_SHARE * (b - a)));
    double in = meanInside(sm, a, b);
    boolean hasLeft = a > 0;
    boolean hasRight = b < sm.length;
    double left = hasLeft ? meanInside(sm, Math.max(0, a - flank), a) : 0;
    double right = hasRight ? meanInside(sm, b, Math.min(sm.length, b + flank)) : 0;
    if (!hasLeft && !hasRight) {
      return in;
    }
    if (!hasLeft) {
      left = right;
    } else if (!hasRight) {
      right = left;
    }
    return in - FLANK_WEIGHT * (Math.max(0, left) + Math.max(0, right)) / 2;
  }

  /** Mean of per-second {@code s} over the seconds that overlap [a, b), weighted by overlap. */
  static double meanInside(double[] s, double a, double b) {
    double sum = 0;
    double w = 0;
    int from = (int) Math.max(0, Math.floor(a));
    int to = (int) Math.min(s.length, Math.ceil(b));
    for (int t = from; t < to; t++) {
      double o = Math.min(b, t + 1) - Math.max(a, t);
      if (o > 0) {
        sum += o * s[t];
        w += o;
      }
    }
    return w == 0 ? 0 : sum / w;
  }

  /**
   * K random spans, each between two uniform points of the stretch (its frame evidence, else its
   * moments), seeded by the evidence so that a rerun gives the same answer: the floor any ranker
   * must clear.
   */
  public static SpanRanker random(long seed) {
    return (frameScores, moments, k) -> {
      double len = frameScores.length;
      for (SpanRanker.Moment m : moments) {
        len = Math.max(len, m.endSec());
      }
      // seeded by the frame evidence when there is some (the model's moments differ slightly from
      // run to run, the evidence does not), else by the moments
      Random r = new Random(seed * 0x9E3779B97F4A7C15L
          ^ (frameScores.length > 0 ? Arrays.hashCode(frameScores) : moments.hashCode()));
      List<SpanRanker.Span> out = new ArrayList<>();
      for (int i = 0; i < k && len > 0; i++) {
        double a = r.nextDouble() * len;
        double b = r.nextDouble() * len;
        out.add(new SpanRanker.Span(Math.min(a, b), Math.max(a, b), k - i));
      }
      return out;
    };
  }

  /** The per-second similarity smoothed by a {@link #PEAK_SMOOTH_SEC} box (weights 1/4, 1/2, 1/4). */
  static double[] smooth(double[] s) {
    int n = s.length;
    double[] out = new double[n];
    for (int t = 0; t < n; t++) {
      double sum = 0.5 * s[t];
      double w = 0.5;
      if (t > 0) {
        sum += 0.25 * s[t - 1];
        w += 0.25;
      }
      if (t < n - 1) {
        sum += 0.25 * s[t + 1];
        w += 0.25;
      }
      out[t] = sum / w;
    }
    return out;
  }

  /**
   * Frame-similarity peaks: the per-second cosine with the query smoothed ({@link #smooth}); the
   * {@code k} highest local maxima at least {@link #PEAK_SEPARATION_SEC} apart, each grown to both
   * sides while the smoothed score stays within {@link #PEAK_DROP} of the peak, then held between
   * {@link #PEAK_MIN_SEC} and {@link #PEAK_MAX_SEC}. A span's score is its peak's height.
   */
  public static List<SpanRanker.Span> framePeaks(double[] frameScores, int k) {
    double[] sm = smooth(frameScores);
    List<SpanRanker.Span> out = new ArrayList<>();
    for (int p : peakSeconds(sm, k)) {
      int[] lr = grow(sm, p);
      out.add(new SpanRanker.Span(lr[0], lr[1] + 1, sm[p]));
    }
    return out;
  }

  /** The seconds of the {@code k} highest local maxima of {@code sm} at least the separation apart. */
  static List<Integer> peakSeconds(double[] sm, int k) {
    int n = sm.length;
    Integer[] order = new Integer[n];
    for (int t = 0; t < n; t++) {
      order[t] = t;
    }
    Arrays.sort(order, (a, b) -> Double.compare(sm[b], sm[a]));
    List<Integer> chosen = new ArrayList<>();
    for (int p : order) {
      if (chosen.size() == k) {
        break;
      }
      boolean local = (p == 0 || sm[p] >= sm[p - 1]) && (p == n - 1 || sm[p] >= sm[p + 1]);
      if (local && chosen.stream().noneMatch(c -> Math.abs(c - p) < PEAK_SEPARATION_SEC)) {
        chosen.add(p);
      }
    }
    return chosen;
  }

  /** First and last second of the span grown around peak {@code p} of {@code sm}. */
  static int[] grow(double[] sm, int p) {
    return grow(sm, p, PEAK_DROP);
  }

  static int[] grow(double[] sm, int p, double drop) {
    int n = sm.length;
    int l = p;
    int r = p;
    while (l > 0 && sm[l - 1] >= sm[p] - drop && r - l + 1 < PEAK_MAX_SEC) {
      l--;
    }
    while (r < n - 1 && sm[r + 1] >= sm[p] - drop && r - l + 1 < PEAK_MAX_SEC) {
      r++;
    }
    while (r - l + 1 < PEAK_MIN_SEC && (l > 0 || r < n - 1)) {
      if (l > 0) {
        l--;
      }
      if (r - l + 1 < PEAK_MIN_SEC && r < n - 1) {
        r++;
      }
    }
    return new int[] {l, r};
  }

  /**
   * IoU of two spans on whole milliseconds, as the moment index computes it for its suppression:
   * moment boundaries sit on the frame grid, so an IoU of exactly 0.5 is common, and only the same
   * integers decide "above 0.5" the same way in the index, the served search and {@code eval nlq}.
   * Two equal points have IoU 1.
   */
  public static double msIou(double a0, double a1, double b0, double b1) {
    return iouMs(Math.round(a0 * 1000), Math.round(a1 * 1000), Math.round(b0 * 1000), Math.round(b1 * 1000));
  }

  /** Temporal IoU of {@code [s1, e1]} and {@code [s2, e2]} in whole ms; two equal points have IoU 1. */
  public static double iouMs(long s1, long e1, long s2, long e2) {
    long inter = Math.min(e1, e2) - Math.max(s1, s2);
    long union = Math.max(e1, e2) - Math.min(s1, s2);
    if (union <= 0) {
      return s1 == s2 ? 1.0 : 0.0;
    }
    return Math.max(0, inter) / (double) union;
  }

  /** IoU of two spans (0 when either is empty). */
  public static double iou(double a0, double a1, double b0, double b1) {
    double inter = Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
    double union = Math.max(a1, b1) - Math.min(a0, b0);
    return union <= 0 ? 0 : inter / union;
  }

  /**
   * The best {@code k} of {@code spans} by score (ties in input order), a span overlapping an
   * already chosen one with IoU above {@link #NMS_IOU} dropped.
   */
  static List<SpanRanker.Span> suppress(List<SpanRanker.Span> spans, int k) {
    return suppress(spans, k, NMS_IOU);
  }

  /** As {@link #suppress(List, int)} with IoU threshold {@code nmsIou}. */
  static List<SpanRanker.Span> suppress(List<SpanRanker.Span> spans, int k, double nmsIou) {
    List<SpanRanker.Span> sorted = new ArrayList<>(spans);
    sorted.sort(Comparator.comparingDouble(SpanRanker.Span::score).reversed());
    List<SpanRanker.Span> kept = new ArrayList<>();
    for (SpanRanker.Span s : sorted) {
      if (kept.size() == k) {
        break;
      }
      boolean dup = false;
      for (SpanRanker.Span t : kept) {
        if (msIou(s.startSec(), s.endSec(), t.startSec(), t.endSec()) > nmsIou) {
          dup = true;
          break;
        }
      }
      if (!dup) {
        kept.add(s);
      }
    }
    return kept;
  }
}
