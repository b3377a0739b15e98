package dev.moments.api.search;

import dev.moments.model.rank.SpanRanker;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The served ranking before frame evidence: the LAVITI moments themselves, best cosine first, a
 * moment dropped when it overlaps an already kept one with temporal IoU above {@link #nmsIou()}
 * (neighbouring windows predict the same moment several times). Frame scores are ignored. This is
 * exactly what {@code MomentIndex.search} does per stream (k-NN, then NMS at IoU 0.5), so it is the
 * default {@link SpanRanker} until a fused one is configured.
 *
 * <p>Ties keep the order of {@code moments} (the served search passes them sorted by cosine, then
 * the model's confidence, then moment id, as the index did). IoU is computed on times rounded to
 * whole milliseconds, the resolution of stored moments, so that a pair exactly at the threshold is
 * judged as the index judged it.
 */
public final class LavitiOnlyRanker implements SpanRanker {
  private final double nmsIou;

  /** Suppression at IoU 0.5, the index's default. */
  public LavitiOnlyRanker() {
    this(0.5);
  }

  /** @param nmsIou drop a moment overlapping a kept one with IoU above this (1 = keep all) */
  public LavitiOnlyRanker(double nmsIou) {
    if (!(nmsIou >= 0 && nmsIou <= 1)) {
      throw new IllegalArgumentException("nmsIou must be in [0, 1], got " + nmsIou);
    }
    this.nmsIou = nmsIou;
  }

  public double nmsIou() {
    return nmsIou;
  }

  @Override
  public List<Span> rank(double[] frameScores, List<Moment> moments, int k) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be >= 1, got " + k);
    }
    List<Moment> sorted = new ArrayList<>(moments);
    sorted.sort(Comparator.comparingDouble((Moment m) -> -m.score())); // stable: ties keep their order
    List<Span> kept = new ArrayList<>();
    for (Moment m : sorted) {
      if (kept.size() == k) {
        break;
      }
      boolean overlaps = false;
      for (Span better : kept) {
        if (iou(ms(m.startSec()), ms(m.endSec()), ms(better.startSec()), ms(better.endSec())) > nmsIou) {
          overlaps = true;
          break;
        }
      }
      if (!overlaps) {
        kept.add(new Span(m.startSec(), m.endSec(), m.score()));
      }
    }
    return kept;
  }

  private static long ms(double sec) {
    return Math.round(sec * 1000);
  }

  /** Temporal IoU of [s1, e1] and [s2, e2]; two equal points have IoU 1 (as the index computes it). */
  static double iou(long s1, long e1, long s2, long e2) {
    long inter = Math.min(e1, e2) - Math.max(s1, s2);
    long union = Math.max(e1, e2) - Math.min(s1, s2);
    if (union <= 0) {
      return s1 == s2 ? 1.0 : 0.0;
    }
    return Math.max(0, inter) / (double) union;
  }
}
