package dev.moments.api.search;

import dev.moments.api.auth.Access;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.model.rank.SpanRanker;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Answers text questions with spans of video: encodes the text with the text tower, then for each
 * stream the caller may see (within the from/to filter) hands the query's cosine with every
 * second of the stream's frame evidence and the stream's LAVITI moments (each with its exact
 * cosine) to the configured {@link SpanRanker}, and merges the streams' spans by score.
 *
 * <p><b>Bounded work.</b> Scoring frame evidence costs one dot product per stream-second. When the
 * streams in range hold more than {@code maxScanSeconds} evidence seconds together (default
 * {@value #DEFAULT_MAX_SCAN_SECONDS}, about 278 camera-hours), only the neighbourhoods of the
 * moments a k-NN search finds ({@value #KNN_CANDIDATES} moments, each widened by {@value
 * #PAD_MS} ms on both sides, merged per stream) are ranked, best k-NN hit first, until that many
 * seconds are spent (the best hit's neighbourhood always). Streams without moments are then not
 * ranked at all.
 *
 * <p>NOTE: the text encoder is called under a lock; DJL predictors are not thread-safe and a text
 * embedding takes milliseconds, far less than a search round trip.
 */
public final class SearchService {
  /** The default cap on stream-seconds of frame evidence scored per query. */
  public static final long DEFAULT_MAX_SCAN_SECONDS = 1_000_000;
  /** Moments a k-NN search contributes as candidate neighbourhoods beyond the cap. */
  public static final int KNN_CANDIDATES = 200;
  /** How far around a candidate moment its neighbourhood reaches. */
  public static final long PAD_MS = 60_000;

  private final TextEncoder encoder;
  private final MomentStore store;
  private final SpanRanker ranker;
  private final long maxScanSeconds;

  /** With the default ranker ({@link dev.moments.model.rank.Rankers#DEFAULT}) and scan cap. */
  public SearchService(TextEncoder encoder, MomentStore store) {
    this(encoder, store, dev.moments.model.rank.Rankers.named(dev.moments.model.rank.Rankers.DEFAULT), DEFAULT_MAX_SCAN_SECONDS);
  }

  public SearchService(TextEncoder encoder, MomentStore store, SpanRanker ranker, long maxScanSeconds) {
    this.encoder = Objects.requireNonNull(encoder, "encoder");
    this.store = Objects.requireNonNull(store, "store");
    this.ranker = Objects.requireNonNull(ranker, "ranker");
    if (maxScanSeconds < 0) {
      throw new IllegalArgumentException("maxScanSeconds must be >= 0, got " + maxScanSeconds);
    }
    this.maxScanSeconds = maxScanSeconds;
  }

  /** The spans of streams {@code access} allows that best match {@code q}, best first. */
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
      hits = rank(vector, q, streams, access);
    }
    return new SearchResult(q.text(), (System.nanoTime() - t0) / 1_000_000.0, hits);
  }

  /** One stretch to rank: a stream within [fromMs, toMs] (null = unbounded). */
  private record Range(String streamId, Long fromMs, Long toMs) {}

  private List<MomentStore.Hit> rank(float[] vector, SearchQuery q, Set<String> streams, Access access) {
    List<String> candidates = new ArrayList<>();
    for (String s : store.rankableStreams()) {
      if ((streams == null || streams.contains(s)) && access.allows(s)) {
        candidates.add(s);
      }
    }
    long total = 0;
    for (String s : candidates) {
      total += store.evidenceSeconds(s, q.fromMs(), q.toMs());
    }
    List<Range> ranges = new ArrayList<>();
    if (total <= maxScanSeconds) {
      candidates.forEach(s -> ranges.add(new Range(s, q.fromMs(), q.toMs())));
    } else {
      ranges.addAll(neighbourhoods(vector, q, new LinkedHashSet<>(candidates)));
    }
    List<MomentStore.Hit> all = new ArrayList<>();
    for (Range r : ranges) {
      all.addAll(rank(vector, r, q.k()));
    }
    all.sort(ORDER);
    return all.size() > q.k() ? List.copyOf(all.subList(0, q.k())) : all;
  }

  // The index's order: cosine, then the model's confidence, then moment id.
  private static final Comparator<MomentStore.Hit> ORDER =
      Comparator.comparingDouble((MomentStore.Hit h) -> -h.similarity())
          .thenComparingDouble(h -> -h.momentScore())
          .thenComparing(MomentStore.Hit::momentId);

  // Beyond the cap: the neighbourhoods of the k-NN moments, merged per stream, best hit first,
  // until maxScanSeconds are spent.
  private List<Range> neighbourhoods(float[] vector, SearchQuery q, Set<String> candidates) {
    List<MomentStore.Hit> knn = store.search(vector, KNN_CANDIDATES, candidates, q.fromMs(), q.toMs());
    Map<String, List<long[]>> byStream = new LinkedHashMap<>();
    long spent = 0;
    for (MomentStore.Hit h : knn) {
      if (!candidates.contains(h.streamId())) {
        continue;
      }
      long from = h.startMs() - PAD_MS;
      long to = h.endMs() + PAD_MS;
      if (q.fromMs() != null) {
        from = Math.max(from, q.fromMs());
      }
      if (q.toMs() != null) {
        to = Math.min(to, q.toMs());
      }
      if (to < from) {
        continue;
      }
      List<long[]> list = byStream.computeIfAbsent(h.streamId(), s -> new ArrayList<>());
      long[] overlapping = null;
      for (long[] r : list) {
        if (from <= r[1] && to >= r[0]) {
          overlapping = r;
          break;
        }
      }
      long cost = overlapping == null
          ? (to - from) / 1000 + 1
          : (Math.max(overlapping[1], to) - Math.min(overlapping[0], from) - (overlapping[1] - overlapping[0])) / 1000;
      if (spent > 0 && cost > 0 && spent + cost > maxScanSeconds) {
        break; // the best hit's neighbourhood is always ranked, however small the cap
      }
      spent += cost;
      if (overlapping == null) {
        list.add(new long[] {from, to});
      } else {
        overlapping[0] = Math.min(overlapping[0], from);
        overlapping[1] = Math.max(overlapping[1], to);
      }
    }
    List<Range> out = new ArrayList<>();
    byStream.forEach((s, list) -> {
      list.sort(Comparator.comparingLong((long[] r) -> r[0]));
      long[] cur = null;
      for (long[] r : list) { // ranges grown by merging may now overlap each other
        if (cur != null && r[0] <= cur[1]) {
          cur[1] = Math.max(cur[1], r[1]);
        } else {
          if (cur != null) {
            out.add(new Range(s, cur[0], cur[1]));
          }
          cur = r.clone();
        }
      }
      if (cur != null) {
        out.add(new Range(s, cur[0], cur[1]));
      }
    });
    return out;
  }

  // One stretch through the ranker; its spans as hits (a span equal to a moment takes its id and
  // confidence, another gets the id "<stream>/span/<startMs>-<endMs>").
  private List<MomentStore.Hit> rank(float[] vector, Range r, int k) {
    List<MomentStore.Hit> moments = new ArrayList<>(store.momentsOf(r.streamId(), vector, r.fromMs(), r.toMs()));
    moments.sort(ORDER);
    Optional<MomentStore.FrameScores> frames = store.frameScores(r.streamId(), vector, r.fromMs(), r.toMs());
    if (moments.isEmpty() && frames.isEmpty()) {
      return List.of();
    }
    long startMs;
    double[] scores;
    if (frames.isPresent()) {
      startMs = frames.get().startMs();
      scores = frames.get().scores();
      long earliest = moments.stream().mapToLong(MomentStore.Hit::startMs).min().orElse(startMs);
      if (earliest < startMs) { // keep every time >= 0 and the grid: pad with seconds of no evidence
        int pad = (int) Math.ceilDiv(startMs - earliest, 1000L);
        double[] padded = new double[pad + scores.length];
        System.arraycopy(scores, 0, padded, pad, scores.length);
        scores = padded;
        startMs -= pad * 1000L;
      }
    } else {
      startMs = moments.stream().mapToLong(MomentStore.Hit::startMs).min().orElseThrow();
      scores = new double[0];
    }
    List<SpanRanker.Moment> ms = new ArrayList<>(moments.size());
    Map<Long, Map<Long, MomentStore.Hit>> byTimes = new HashMap<>();
    for (MomentStore.Hit h : moments) {
      ms.add(new SpanRanker.Moment((h.startMs() - startMs) / 1000.0, (h.endMs() - startMs) / 1000.0, h.similarity()));
      byTimes.computeIfAbsent(h.startMs(), x -> new HashMap<>()).putIfAbsent(h.endMs(), h); // best first
    }
    List<MomentStore.Hit> out = new ArrayList<>();
    for (SpanRanker.Span s : ranker.rank(scores, ms, k)) {
      long from = startMs + Math.round(s.startSec() * 1000);
      long to = startMs + Math.round(s.endSec() * 1000);
      MomentStore.Hit same = byTimes.getOrDefault(from, Map.of()).get(to);
      String id = same != null ? same.momentId() : r.streamId() + "/span/" + from + "-" + to;
      float confidence = same != null ? same.momentScore() : 0f;
      out.add(new MomentStore.Hit(id, r.streamId(), from, to, (float) s.score(), confidence));
    }
    return out;
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
   * @param hits the spans, best first
   */
  public record SearchResult(String query, double tookMs, List<MomentStore.Hit> hits) {}
}
