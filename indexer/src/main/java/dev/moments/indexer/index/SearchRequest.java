package dev.moments.indexer.index;

import java.util.Set;

/**
 * A k-NN search over moments with optional filters.
 *
 * @param query the query embedding (any norm but zero; the graph is searched with its int8 form,
 *     the similarities are the exact cosine of this float vector with the stored int8 vectors)
 * @param k how many hits to return after temporal non-maximum suppression, {@code >= 1}
 * @param streams only moments of these streams, or null for all streams
 * @param fromMs only moments that end at or after this time (epoch ms), or null
 * @param toMs only moments that start at or before this time (epoch ms), or null
 * @param minScore only hits whose {@link MomentHit#similarity()} is at least this, or null
 */
public record SearchRequest(
    float[] query, int k, Set<String> streams, Long fromMs, Long toMs, Float minScore) {

  /** A plain k-NN search over all streams and times. */
  public static SearchRequest of(float[] query, int k) {
    return new SearchRequest(query, k, null, null, null, null);
  }
}
