package dev.moments.api;

import dev.moments.api.search.MomentStore;
import dev.moments.indexer.index.MomentHit;
import dev.moments.indexer.index.MomentIndex;
import dev.moments.indexer.index.SearchRequest;
import dev.moments.indexer.index.StreamStats;
import dev.moments.indexer.index.FrameEvidenceStore;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The API's view of the indexer's Lucene {@link MomentIndex}: its moments and the per-second frame
 * evidence kept beside them ({@link FrameEvidenceStore}).
 */
public final class LuceneMomentStore implements MomentStore {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LuceneMomentStore.class);
  private final Set<String> warned = java.util.concurrent.ConcurrentHashMap.newKeySet();
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
    checkDimension(query);
    List<MomentHit> hits = index.search(new SearchRequest(query, k, streams, fromMs, toMs, null));
    return hits.stream()
        .map(h -> new Hit(h.momentId(), h.streamId(), h.startMs(), h.endMs(), h.similarity(), h.momentScore()))
        .toList();
  }

  @Override
  public Set<String> rankableStreams() {
    Set<String> out = new TreeSet<>(index.evidence().streams());
    out.addAll(index.streamIds());
    return out;
  }

  @Override
  public long evidenceSeconds(String streamId, Long fromMs, Long toMs) {
    return index.evidence().extent(streamId, fromMs, toMs)
        .map(e -> e.minutes() * FrameEvidenceStore.SECONDS_PER_DOC).orElse(0L);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Empty, with a warning logged once per stream, when the stream's frame features have another
   * dimension than the query: the featurizer's image encoder is not the text encoder's pair (a
   * LAVITI over features of its own space), so frame similarity means nothing and the stream is
   * ranked from its moments alone.
   */
  @Override
  public Optional<FrameScores> frameScores(String streamId, float[] query, Long fromMs, Long toMs) {
    Optional<FrameEvidenceStore.Extent> extent = index.evidence().extent(streamId, fromMs, toMs);
    if (extent.isEmpty()) {
      return Optional.empty();
    }
    if (extent.get().dim() != query.length) {
      if (warned.add(streamId)) {
        log.warn("frame features of stream '{}' have {} dimensions, the text encoder's embeddings {}: its frame "
            + "evidence is not used (serve with the text tower of the featurizer's image encoder to use it)",
            streamId, extent.get().dim(), query.length);
      }
      return Optional.empty();
    }
    return index.evidence().scores(streamId, query, fromMs, toMs)
        .map(s -> new FrameScores(s.startMs(), s.scores()));
  }

  @Override
  public List<Hit> momentsOf(String streamId, float[] query, Long fromMs, Long toMs) {
    checkDimension(query);
    return index.momentsOf(streamId, fromMs, toMs, query).stream()
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

  private void checkDimension(float[] query) {
    int dim = index.dimension();
    if (dim != 0 && dim != query.length) {
      throw new IllegalStateException("the text encoder makes " + query.length
          + "-dimensional embeddings but the index holds " + dim
          + "-dimensional moments: serve with the text encoder of the model that indexed them (--encoder)");
    }
  }
}
