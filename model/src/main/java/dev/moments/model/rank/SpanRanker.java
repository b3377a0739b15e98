package dev.moments.model.rank;

import java.util.List;

/**
 * Ranks time spans of one stretch of video (an NLQ clip offline, a stream's searched range in the
 * served search) for one text query, from two kinds of evidence: the similarity of the query with
 * every second of the stretch's frames ({@link FrameEvidence}) and the LAVITI moments predicted over
 * it. The served search ({@code /api/search}), {@code eval nlq} and {@code replay} call the same
 * implementation, so what is measured offline is what a user gets.
 *
 * <p>Times are seconds from the stretch's first evidence second. Scores must be comparable across
 * stretches (the served search merges the answers of many streams into one list), so an
 * implementation must not normalise scores per stretch.
 */
public interface SpanRanker {
  /** A LAVITI moment over the stretch; {@code score} is the cosine of its embedding with the query. */
  record Moment(double startSec, double endSec, double score) {}

  /** An answer: a span of the stretch and its score (higher is better). */
  record Span(double startSec, double endSec, double score) {}

  /**
   * The best at most {@code k} spans, best first.
   *
   * @param frameScores cosine of the query with each evidence second of the stretch, in order
   *     (second {@code i} covers {@code [i, i + 1)} s); may be empty when no frame evidence is kept
   * @param moments the model's moments over the stretch, any order; may be empty
   */
  List<Span> rank(double[] frameScores, List<Moment> moments, int k);
}
