package dev.moments.api.search;

import dev.moments.api.auth.Access;
import dev.moments.featurizer.encoder.TextEncoder;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Answers text questions with moments: encodes the text with the text tower, searches the moment
 * index restricted to the streams the caller may see, and reports how long it took.
 *
 * <p>NOTE: the text encoder is called under a lock; DJL predictors are not thread-safe and a text
 * embedding takes milliseconds, far less than a search round trip.
 */
public final class SearchService {
  private final TextEncoder encoder;
  private final MomentStore store;

  public SearchService(TextEncoder encoder, MomentStore store) {
    this.encoder = Objects.requireNonNull(encoder, "encoder");
    this.store = Objects.requireNonNull(store, "store");
  }

  /** The moments of streams {@code access} allows that best match {@code q}, best first. */
  public SearchResult search(SearchQuery q, Access access) {
    long t0 = System.nanoTime();
    Set<String> streams = access.narrow(q.streams());
    List<MomentStore.Hit> hits;
    if (streams != null && streams.isEmpty()) {
      hits = List.of();
    } else {
      float[] vector;
      synchronized (encoder) {
        vector = encoder.encode(q.text());
      }
      hits = store.search(vector, q.k(), streams, q.fromMs(), q.toMs()).stream()
          .filter(h -> access.allows(h.streamId()))
          .toList();
    }
    return new SearchResult(q.text(), (System.nanoTime() - t0) / 1_000_000.0, hits);
  }

  /** The text encoder's id and dimension, for health output. */
  public String encoderId() {
    return encoder.id();
  }

  /**
   * One answered search.
   *
   * @param query the question as searched (trimmed)
   * @param tookMs time to encode and search, in milliseconds
   * @param hits the moments, best first
   */
  public record SearchResult(String query, double tookMs, List<MomentStore.Hit> hits) {}
}
