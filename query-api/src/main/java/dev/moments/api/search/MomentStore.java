package dev.moments.api.search;

import java.util.List;
import java.util.Set;

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

  /** One search hit; {@code similarity} is the cosine of query and moment embedding. */
  record Hit(String momentId, String streamId, long startMs, long endMs, float similarity, float momentScore) {}

  /** Moments of one stream: their count and the span from the first start to the last end. */
  record StreamMoments(String streamId, long firstMs, long lastMs, long moments) {}
}
