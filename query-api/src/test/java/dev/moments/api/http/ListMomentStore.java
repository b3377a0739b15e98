package dev.moments.api.http;

import dev.moments.api.search.MomentStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A brute-force moment store over a list, for HTTP-layer tests (the Lucene index has its own
 * tests; the end-to-end test uses it). Similarity is the dot product of the (normalized) vectors.
 */
final class ListMomentStore implements MomentStore {
  record Stored(String momentId, String streamId, long startMs, long endMs, float[] embedding) {}

  private final List<Stored> moments = new ArrayList<>();

  ListMomentStore add(String streamId, long startMs, long endMs, float[] embedding) {
    moments.add(new Stored(streamId + "/" + startMs + "/" + moments.size(), streamId, startMs, endMs, embedding));
    return this;
  }

  @Override
  public List<Hit> search(float[] query, int k, Set<String> streams, Long fromMs, Long toMs) {
    return moments.stream()
        .filter(m -> streams == null || streams.contains(m.streamId()))
        .filter(m -> fromMs == null || m.endMs() >= fromMs)
        .filter(m -> toMs == null || m.startMs() <= toMs)
        .map(m -> new Hit(m.momentId(), m.streamId(), m.startMs(), m.endMs(), dot(query, m.embedding()), 0.5f))
        .sorted(Comparator.comparingDouble(h -> -h.similarity()))
        .limit(k)
        .toList();
  }

  @Override
  public List<StreamMoments> streams() {
    Map<String, StreamMoments> by = new TreeMap<>();
    for (Stored m : moments) {
      by.merge(m.streamId(), new StreamMoments(m.streamId(), m.startMs(), m.endMs(), 1),
          (a, b) -> new StreamMoments(a.streamId(), Math.min(a.firstMs(), b.firstMs()), Math.max(a.lastMs(), b.lastMs()),
              a.moments() + b.moments()));
    }
    return List.copyOf(by.values());
  }

  @Override
  public long size() {
    return moments.size();
  }

  @Override
  public long sizeOnDiskBytes() {
    return 0;
  }

  private static float dot(float[] a, float[] b) {
    float s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
