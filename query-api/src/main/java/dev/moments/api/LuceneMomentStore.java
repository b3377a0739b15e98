package dev.moments.api;

import dev.moments.api.search.MomentStore;
import dev.moments.indexer.index.MomentHit;
import dev.moments.indexer.index.MomentIndex;
import dev.moments.indexer.index.SearchRequest;
import dev.moments.indexer.index.StreamStats;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/** The API's view of the indexer's Lucene {@link MomentIndex}. */
public final class LuceneMomentStore implements MomentStore {
  private final MomentIndex index;

  public LuceneMomentStore(MomentIndex index) {
    this.index = Objects.requireNonNull(index, "index");
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalStateException when the query's dimension differs from the stored moments'
   *     (the server's text encoder does not belong to the model that filled the index)
   */
  @Override
  public List<Hit> search(float[] query, int k, Set<String> streams, Long fromMs, Long toMs) {
    int dim = index.dimension();
    if (dim != 0 && dim != query.length) {
      throw new IllegalStateException("the text encoder makes " + query.length
          + "-dimensional embeddings but the index holds " + dim
          + "-dimensional moments: serve with the text encoder of the model that indexed them (--encoder)");
    }
    List<MomentHit> hits = index.search(new SearchRequest(query, k, streams, fromMs, toMs, null));
    return hits.stream()
        .map(h -> new Hit(h.momentId(), h.streamId(), h.startMs(), h.endMs(), h.similarity(), h.momentScore()))
        .toList();
  }

  @Override
  public List<StreamMoments> streams() {
    List<StreamStats> stats = index.streams();
    return stats.stream().map(s -> new StreamMoments(s.streamId(), s.firstMs(), s.lastMs(), s.moments())).toList();
  }

  @Override
  public long size() {
    return index.size();
  }

  @Override
  public long sizeOnDiskBytes() {
    return index.sizeOnDiskBytes();
  }
}
