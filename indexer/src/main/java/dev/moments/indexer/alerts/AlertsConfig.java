package dev.moments.indexer.alerts;

import dev.moments.model.rank.Rankers;
import java.util.Objects;

/**
 * How the alert matcher ranks.
 *
 * @param ranker the span ranker by name ({@link Rankers#named}): {@code fused} (default: the served
 *     search's default, so a rule's minScore is on the scale of the scores {@code /api/search}
 *     shows), {@code laviti} (moments by cosine only) or {@code frames}
 * @param horizonSec how much of each stream's recent past is ranked at each evaluation, seconds:
 *     the last {@code horizonSec} seconds of frame evidence and the moments that start in them
 * @param evaluateEveryMs how often (wall clock) the streams that got new moments are evaluated;
 *     a window's moments arrive together, so this adds at most this much latency
 * @param topK spans per rule and evaluation that may fire (each still needs minScore and the
 *     suppression): more than one, so that two events in one horizon both alert
 */
public record AlertsConfig(String ranker, int horizonSec, long evaluateEveryMs, int topK) {
  public static final AlertsConfig DEFAULTS = new AlertsConfig(Rankers.DEFAULT, 60, 250, 3);

  public AlertsConfig {
    Objects.requireNonNull(ranker, "ranker");
    Rankers.named(ranker); // fails with the known names
    if (horizonSec < 10) {
      throw new IllegalArgumentException("horizon must be at least 10 s (a span's flanks), got " + horizonSec + " s");
    }
    if (evaluateEveryMs < 1) {
      throw new IllegalArgumentException("evaluation interval must be positive, got " + evaluateEveryMs + " ms");
    }
    if (topK < 1) {
      throw new IllegalArgumentException("top-k must be >= 1, got " + topK);
    }
  }
}
