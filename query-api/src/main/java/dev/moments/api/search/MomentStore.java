package dev.moments.api.search;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The moment index as the API sees it: a k-NN search with filters and per-stream statistics.
 * The production implementation wraps the Lucene {@code MomentIndex} of the indexer module.
 */
public interface MomentStore {
  /**
   * The {@code k} moments most similar to {@code query}, best first.
   *
   * @param streams only these streams, or null for all
   * @param fromMs only moments ending at or after this time (epoch ms), or null
   * @param toMs only moments starting at or before this time (epoch ms), or null
   */
  List<Hit> search(float[] query, int k, Set<String> streams, Long fromMs, Long toMs);

  /** What the index holds per stream. */
  List<StreamMoments> streams();

  /** Live moments in the index. */
  long size();

  /** Bytes the index takes on disk. */
  long sizeOnDiskBytes();

  /**
   * The streams with anything to rank: moments or frame evidence. The default: those with
   * moments.
   */
  default Set<String> rankableStreams() {
    Set<String> out = new TreeSet<>();
    streams().forEach(s -> out.add(s.streamId()));
    return out;
  }

  /**
   * An upper bound of the frame evidence seconds of a stream within {@code [fromMs, toMs]} (what
   * scoring them costs); 0 when the store keeps no frame evidence (the default).
   */
  default long evidenceSeconds(String streamId, Long fromMs, Long toMs) {
    return 0;
  }

  /**
   * The cosine of {@code query} with each frame evidence second of a stream within {@code [fromMs,
   * toMs]}, from its first to its last stored second there; empty when there is none (the default).
   */
  default Optional<FrameScores> frameScores(String streamId, float[] query, Long fromMs, Long toMs) {
    return Optional.empty();
  }

  /**
   * Every moment of a stream overlapping {@code [fromMs, toMs]} with the exact cosine of its
   * embedding with {@code query}, any order. The default asks {@link #search} for many (a store
   * without an exact per-stream read).
   */
  default List<Hit> momentsOf(String streamId, float[] query, Long fromMs, Long toMs) {
    return search(query, 10_000, Set.of(streamId), fromMs, toMs);
  }

  /**
   * Frame scores of a stretch: {@code scores[i]} is the query's cosine with the evidence second
   * {@code [startMs + i s, startMs + (i + 1) s)} (0 where no frame was captured).
   */
  record FrameScores(long startMs, double[] scores) {}

  /** One search hit; {@code similarity} is the cosine of query and moment embedding. */
  record Hit(String momentId, String streamId, long startMs, long endMs, float similarity, float momentScore) {}

  /** Moments of one stream: their count and the span from the first start to the last end. */
  record StreamMoments(String streamId, long firstMs, long lastMs, long moments) {}
}
