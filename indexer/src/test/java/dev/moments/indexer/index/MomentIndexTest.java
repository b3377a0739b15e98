package dev.moments.indexer.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.moments.model.rank.CentredMoments;
import dev.moments.model.rank.MomentVectors;
import dev.moments.topics.MomentRecord;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MomentIndexTest {
  @TempDir Path dir;

  private static MomentRecord moment(String id, String stream, long s, long e, float score,
      float... v) {
    return new MomentRecord(id, stream, s, e, v, score, stream + "/w", "model-a");
  }

  /**
   * Stream s1: m1 [0,1000] (1,0,0); m2 [500,1500] (0.8,0.6,0); m3 [100,1000] given as (3,4,0),
   * normalized to (0.6,0.8,0). Stream s2: m4 [0,1000] (0,1,0). Query (2,0,0) normalizes to
   * (1,0,0), so the cosines are m1 1.0, m2 0.8, m3 0.6, m4 0.0 (stored as int8: m2 (127, 95, 0)
   * reads back with cosine 0.8007, m3 (95, 127, 0) with 0.5990).
   */
  private static void fill(MomentIndex index) {
    index.upsert(moment("m1", "s1", 0, 1000, 0.9f, 1, 0, 0));
    index.upsert(moment("m2", "s1", 500, 1500, 0.8f, 0.8f, 0.6f, 0));
    index.upsert(moment("m3", "s1", 100, 1000, 0.7f, 3, 4, 0));
    index.upsert(moment("m4", "s2", 0, 1000, 0.6f, 0, 1, 0));
  }

  @Test
  void search_ranks_by_cosine_and_suppresses_overlapping_worse_hits_of_the_same_stream() {
    try (MomentIndex index = MomentIndex.open(dir)) {
      fill(index);
      List<MomentHit> hits = index.search(SearchRequest.of(new float[] {2, 0, 0}, 10));
      // m3 overlaps m1 with IoU 900/1000 = 0.9 > 0.5 and is dropped; m2 overlaps m1 with IoU
      // 500/1500 = 0.33 and stays; m4 has m1's interval but another stream and stays.
      assertThat(hits).extracting(MomentHit::momentId).containsExactly("m1", "m2", "m4");
      assertThat(hits.get(0).similarity()).isCloseTo(1.0f, within(1e-5f));
      // the cosine with m2's int8 vector (127, 95, 0): 127 / sqrt(127^2 + 95^2)
      assertThat(hits.get(1).similarity()).isCloseTo((float) (127 / Math.hypot(127, 95)), within(1e-6f));
      assertThat(hits.get(2).similarity()).isCloseTo(0.0f, within(1e-5f));
      assertThat(hits.get(0)).isEqualTo(
          new MomentHit("m1", "s1", 0, 1000, hits.get(0).similarity(), 0.9f, "model-a"));
    }
  }

  @Test
  void nms_iou_of_one_keeps_every_hit_and_k_limits_the_list() {
    try (MomentIndex index = MomentIndex.open(dir, 1.0f)) {
      fill(index);
      assertThat(index.search(SearchRequest.of(new float[] {1, 0, 0}, 10)))
          .extracting(MomentHit::momentId).containsExactly("m1", "m2", "m3", "m4");
      assertThat(index.search(SearchRequest.of(new float[] {1, 0, 0}, 2)))
          .extracting(MomentHit::momentId).containsExactly("m1", "m2");
    }
  }

  /**
   * The search equals a brute-force ranking of every moment (the float query's cosine with the
   * int8 vector, then the model's score, then id) followed by the per-stream NMS, cut at k: 300
   * moments of 4 streams, many overlapping and many exactly tied (a few distinct vectors), with and
   * without a minimum similarity. The search reads the stored fields of candidates only as their
   * turn comes; this pins that it keeps the same hits in the same order.
   */
  @Test
  void search_equals_a_brute_force_ranking_with_ties_and_nms() {
    java.util.SplittableRandom r = new java.util.SplittableRandom(11);
    float[][] vectors = new float[6][];
    for (int v = 0; v < vectors.length; v++) {
      vectors[v] = new float[] {(float) r.nextGaussian(), (float) r.nextGaussian(), (float) r.nextGaussian(), 1};
    }
    List<MomentRecord> all = new java.util.ArrayList<>();
    for (int i = 0; i < 300; i++) {
      long start = r.nextLong(60_000);
      float[] v = vectors[r.nextInt(vectors.length)];
      all.add(new MomentRecord("m" + i, "s" + r.nextInt(4), start, start + 1_000 + r.nextLong(10_000), v,
          r.nextInt(3) / 2f, "w", "model-a"));
    }
    try (MomentIndex index = MomentIndex.open(dir)) {
      all.forEach(index::upsert);
      for (int t = 0; t < 20; t++) {
        float[] q = {(float) r.nextGaussian(), (float) r.nextGaussian(), (float) r.nextGaussian(), 0.5f};
        int k = 1 + r.nextInt(12);
        Float min = t % 2 == 0 ? null : 0.2f;
        List<MomentHit> expected = new java.util.ArrayList<>();
        List<MomentRecord> ranked = new java.util.ArrayList<>(all);
        java.util.Map<String, Float> sim = new java.util.HashMap<>();
        ranked.forEach(m -> sim.put(m.momentId(), MomentVectors.similarity(q, MomentVectors.int8(m.embedding(), "e"))));
        ranked.sort(java.util.Comparator.comparingDouble((MomentRecord m) -> -sim.get(m.momentId()))
            .thenComparingDouble(m -> -m.score()).thenComparing(MomentRecord::momentId));
        for (MomentRecord m : ranked) {
          if (expected.size() == k || (min != null && sim.get(m.momentId()) < min)) {
            continue;
          }
          boolean overlaps = expected.stream().anyMatch(h -> h.streamId().equals(m.streamId())
              && dev.moments.model.rank.Rankers.iouMs(m.startMs(), m.endMs(), h.startMs(), h.endMs()) > 0.5);
          if (!overlaps) {
            expected.add(new MomentHit(m.momentId(), m.streamId(), m.startMs(), m.endMs(), sim.get(m.momentId()),
                m.score(), m.modelId()));
          }
        }
        assertThat(index.search(new SearchRequest(q, k, null, null, null, min))).as("query %d, k %d", t, k)
            .isEqualTo(expected);
      }
    }
  }

  @Test
  void filters_by_stream_time_overlap_and_minimum_similarity() {
    try (MomentIndex index = MomentIndex.open(dir)) {
      fill(index);
      float[] q = {1, 0, 0};
      assertThat(index.search(new SearchRequest(q, 10, Set.of("s2"), null, null, null)))
          .extracting(MomentHit::momentId).containsExactly("m4");
      // Only m2 [500,1500] overlaps [1200, 2000].
      assertThat(index.search(new SearchRequest(q, 10, null, 1200L, 2000L, null)))
          .extracting(MomentHit::momentId).containsExactly("m2");
      // [1000, 1000] touches the ends of m1, m3 and m4 and lies inside m2; m3 is suppressed.
      assertThat(index.search(new SearchRequest(q, 10, null, 1000L, 1000L, null)))
          .extracting(MomentHit::momentId).containsExactly("m1", "m2", "m4");
      // Cosines 1.0 and 0.8 pass 0.7, 0.6 and 0.0 do not.
      assertThat(index.search(new SearchRequest(q, 10, null, null, null, 0.7f)))
          .extracting(MomentHit::momentId).containsExactly("m1", "m2");
      assertThat(index.search(new SearchRequest(q, 10, Set.of(), null, null, null))).isEmpty();
    }
  }

  @Test
  void bad_queries_are_rejected_with_exact_messages() {
    try (MomentIndex index = MomentIndex.open(dir)) {
      fill(index);
      assertThatThrownBy(() -> index.search(SearchRequest.of(new float[] {1, 0}, 5)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("query vector has 2 dimensions, but the index holds 3-dimensional moment "
              + "embeddings");
      assertThatThrownBy(() -> index.search(SearchRequest.of(new float[] {0, 0, 0}, 5)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("query vector must not be all zeros");
      assertThatThrownBy(() -> index.search(SearchRequest.of(new float[] {1, 0, 0}, 0)))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("k must be >= 1, got 0");
      assertThatThrownBy(() -> index.search(new SearchRequest(new float[] {1, 0, 0}, 5, null,
          10L, 5L, null)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("time range is empty: from 10 is after to 5");
      assertThatThrownBy(() -> index.upsert(moment("x", "s1", 0, 1, 1f, 1, 0)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("moment x has a 2-dimensional embedding, but the index holds "
              + "3-dimensional embeddings");
    }
  }

  @Test
  void upsert_by_id_replaces_and_streams_report_extents_and_counts() {
    try (MomentIndex index = MomentIndex.open(dir)) {
      fill(index);
      index.upsert(moment("m4", "s2", 2000, 3000, 0.5f, 0, 0, 1));
      assertThat(index.size()).isEqualTo(4);
      assertThat(index.streams()).containsExactly(
          new StreamStats("s1", 0, 1500, 3), new StreamStats("s2", 2000, 3000, 1));
      List<MomentHit> hits = index.search(SearchRequest.of(new float[] {0, 0, 1}, 1));
      assertThat(hits).extracting(MomentHit::momentId, MomentHit::startMs)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("m4", 2000L));
      assertThat(index.sizeOnDiskBytes()).isPositive();
    }
  }

  @Test
  void only_committed_moments_and_user_data_survive_a_reopen() {
    try (MomentIndex index = MomentIndex.open(dir)) {
      assertThat(index.commitData()).isEmpty();
      assertThat(index.search(SearchRequest.of(new float[] {1, 0, 0}, 3))).isEmpty();
      fill(index);
      index.commit(Map.of("offset.t.0", "4"));
      index.upsert(moment("m5", "s3", 0, 10, 0.1f, 0, 0, 1));
      assertThat(index.size()).isEqualTo(5);
    }
    try (MomentIndex index = MomentIndex.open(dir)) {
      assertThat(index.size()).isEqualTo(4);
      assertThat(index.dimension()).isEqualTo(3);
      assertThat(index.commitData()).containsExactly(Map.entry("offset.t.0", "4"));
    }
  }

  /**
   * Every similarity the index reports, from the k-NN search and from {@code momentsOf}, is the
   * exact cosine of the float query with the moment's stored int8 vector ({@link
   * MomentVectors#similarity}, the function the offline evaluation scores with), and the k-NN hits
   * are the top k by it.
   */
  @Test
  void similarities_are_the_exact_cosine_of_the_float_query_with_the_int8_vector() {
    int dim = 64;
    java.util.SplittableRandom r = new java.util.SplittableRandom(3);
    Map<String, float[]> embeddings = new java.util.HashMap<>();
    try (MomentIndex index = MomentIndex.open(dir, 1.0f)) {
      for (int i = 0; i < 500; i++) {
        float[] v = new float[dim];
        for (int j = 0; j < dim; j++) {
          v[j] = (float) r.nextGaussian();
        }
        String id = "m" + i;
        embeddings.put(id, v);
        index.upsert(moment(id, "s" + (i % 3), i * 1000L, i * 1000L + 500, 0.5f, v));
      }
      index.commit(Map.of());
      float[] q = new float[dim];
      for (int j = 0; j < dim; j++) {
        q[j] = (float) r.nextGaussian();
      }
      Map<String, Float> expected = new java.util.HashMap<>();
      embeddings.forEach((id, v) -> expected.put(id, MomentVectors.similarity(q, MomentVectors.int8(v, id))));
      List<MomentHit> hits = index.search(SearchRequest.of(q, 10));
      assertThat(hits).hasSize(10);
      for (MomentHit h : hits) {
        assertThat(h.similarity()).as(h.momentId()).isEqualTo(expected.get(h.momentId()));
      }
      List<String> top10 = expected.entrySet().stream()
          .sorted(Map.Entry.<String, Float>comparingByValue().reversed()).limit(10).map(Map.Entry::getKey).toList();
      assertThat(hits).extracting(MomentHit::momentId).containsExactlyElementsOf(top10);
      List<MomentHit> all = index.momentsOf("s1", null, null, q);
      assertThat(all).hasSize(167);
      for (MomentHit h : all) {
        assertThat(h.similarity()).as(h.momentId()).isEqualTo(expected.get(h.momentId()));
      }
    }
  }

  /**
   * An index written when moment vectors were float32 cannot take int8 ones under the same field:
   * opening it says so and what to do, and leaves the folder unlocked and as it was.
   */
  @Test
  void an_index_with_float_vectors_is_refused_with_what_to_do() throws Exception {
    try (var d = org.apache.lucene.store.FSDirectory.open(dir);
        var w = new org.apache.lucene.index.IndexWriter(d, new org.apache.lucene.index.IndexWriterConfig())) {
      org.apache.lucene.document.Document doc = new org.apache.lucene.document.Document();
      doc.add(new org.apache.lucene.document.StringField(MomentIndex.F_ID, "old", org.apache.lucene.document.Field.Store.YES));
      doc.add(new org.apache.lucene.document.KnnFloatVectorField(MomentIndex.F_VECTOR, new float[] {1, 0, 0},
          org.apache.lucene.index.VectorSimilarityFunction.DOT_PRODUCT));
      w.addDocument(doc);
      w.commit();
    }
    for (int attempt = 0; attempt < 2; attempt++) { // the first one released the write lock
      assertThatThrownBy(() -> MomentIndex.open(dir))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("the moment index at " + dir + " holds FLOAT32 moment vectors, written by a version before"
              + " int8 vectors; this version cannot add to it. Move or delete the folder: the query API rebuilds it"
              + " from the moments and features topics (while their retention still holds the records)");
    }
    try (var d = org.apache.lucene.store.FSDirectory.open(dir); var reader = org.apache.lucene.index.DirectoryReader.open(d)) {
      assertThat(reader.numDocs()).isEqualTo(1);
    }
  }

  // --- each stretch kept from the windows nearest it (CentredMoments) ---

  private static final long W = 600_000;
  private static final long HOP = 30_000;

  /** Event e: seconds [30 e + 5, 30 e + 25] with its own direction (dim 8), slightly turned per window. */
  private static float[] eventVector(int e, long windowEnd) {
    float[] v = new float[8];
    v[e % 8] = 1;
    v[(e + 3) % 8] = 0.5f;
    v[(int) (windowEnd / HOP) % 8] += 0.05f;
    return v;
  }

  /**
   * The moments a window ending at {@code end} predicts over stream s: one per event inside
   * [end - W, end), with ids and window ids as the indexer makes them.
   */
  private static List<MomentRecord> window(String stream, long end) {
    List<MomentRecord> out = new java.util.ArrayList<>();
    long start = end - W;
    int slot = 0;
    for (int e = 0; e < 120; e++) {
      long s = e * HOP + 5_000;
      long t = e * HOP + 25_000;
      if (s >= Math.max(0, start) && t <= end) {
        // times as a window sees them: the later the window, the later its start by up to 1 s
        long jitter = (end / HOP) % 3 * 300;
        out.add(new MomentRecord(MomentRecord.idFor(stream, start, slot), stream, s + jitter, t + jitter,
            eventVector(e, end), 0.5f, MomentRecord.windowIdFor(stream, start), "model-a"));
        slot++;
      }
    }
    return out;
  }

  /** The band of the window ending at {@code end} after the hop windows before it (from 0 on). */
  private static CentredMoments.Band band(long end, int copies) {
    return CentredMoments.band(end, W, HOP, copies, (end - 1) / HOP * HOP);
  }

  /** Upserts the window ending at {@code end} with its band (as the materializer does with the indexer's headers). */
  private static void upsertWindow(MomentIndex index, String stream, long end, int copies) {
    CentredMoments.Band b = band(end, copies);
    window(stream, end).forEach(m -> index.upsert(m, b));
  }

  private static Set<String> ids(MomentIndex index, String stream) {
    Set<String> out = new java.util.TreeSet<>();
    for (MomentHit h : index.momentsOf(stream, null, null, new float[] {1, 0, 0, 0, 0, 0, 0, 0})) {
      out.add(h.momentId());
    }
    return out;
  }

  /** Events (by start second / 30) that have at least one stored moment. */
  private static Set<Integer> eventsCovered(MomentIndex index, String stream) {
    Set<Integer> out = new java.util.TreeSet<>();
    for (MomentHit h : index.momentsOf(stream, null, null, new float[] {1, 0, 0, 0, 0, 0, 0, 0})) {
      out.add((int) (h.startMs() / HOP));
    }
    return out;
  }

  private static List<MomentRecord> offline(List<Long> ends, String stream, int copies) {
    List<List<MomentRecord>> windows = new java.util.ArrayList<>();
    List<CentredMoments.Band> bands = new java.util.ArrayList<>();
    for (long end : ends) {
      windows.add(window(stream, end));
      bands.add(band(end, copies));
    }
    return CentredMoments.keep(windows, bands, MomentRecord::startMs, MomentRecord::endMs);
  }

  private static List<Long> hopEnds(long upTo) {
    List<Long> ends = new java.util.ArrayList<>();
    for (long end = HOP; end <= upTo; end += HOP) {
      ends.add(end);
    }
    return ends;
  }

  /**
   * One camera-hour at 600 s windows every 30 s: every event is predicted by up to 20 windows; with
   * 3 copies the index keeps an event from 3 windows (fewer at the hour's ends: the newest window
   * alone stands for its newer half until later windows come), 339 of 2,210 moments, and every event
   * is still found; exactly what the offline rule keeps; with 1 copy 120, one per event. Without
   * bands (records of a producer that sends none) all 2,210 stay.
   */
  @Test
  void a_stream_seen_by_twenty_overlapping_windows_keeps_each_stretch_from_the_windows_nearest_it() {
    List<Long> ends = hopEnds(3_600_000);
    for (int copies : new int[] {3, 1}) {
      try (MomentIndex index = MomentIndex.open(dir.resolve("c" + copies))) {
        long offered = 0;
        for (long end : ends) {
          upsertWindow(index, "cam", end, copies);
          offered += window("cam", end).size();
        }
        index.refresh();
        assertThat(offered).isEqualTo(2_210);
        List<MomentRecord> offline = offline(ends, "cam", copies);
        assertThat(ids(index, "cam")).isEqualTo(new java.util.TreeSet<>(offline.stream().map(MomentRecord::momentId).toList()));
        assertThat(index.size()).isEqualTo(copies == 3 ? 339 : 120);
        assertThat(eventsCovered(index, "cam")).hasSize(120); // no stretch left without moments
        // an event in the middle of the hour: from exactly `copies` windows
        long event60 = index.momentsOf("cam", 60 * HOP, 60 * HOP + 30_000, new float[] {1, 0, 0, 0, 0, 0, 0, 0})
            .stream().filter(h -> h.startMs() / HOP == 60).count();
        assertThat(event60).isEqualTo(copies);
        // the newest window's newer half is all there: events 109..119 from the last window
        String last = MomentRecord.windowIdFor("cam", 3_600_000 - W);
        assertThat(ids(index, "cam").stream().filter(id -> id.startsWith(last + "/")).count())
            .isEqualTo(window("cam", 3_600_000).stream()
                .filter(m -> band(3_600_000, copies).keeps(m.startMs(), m.endMs())).count());
        // another stream's same stretch is its own
        upsertWindow(index, "other", 600_000, copies);
        index.refresh();
        assertThat(ids(index, "cam")).hasSize(copies == 3 ? 339 : 120);
      }
    }
    try (MomentIndex index = MomentIndex.open(dir.resolve("all"))) {
      ends.forEach(end -> window("cam", end).forEach(index::upsert));
      index.refresh();
      assertThat(index.size()).isEqualTo(2_210);
    }
  }

  /**
   * A final window off the hop grid (the stream ends 20 s after a hop) takes over only what its
   * own band covers: the previous window keeps the stretch before it, so no event loses its
   * moments; and the offline rule keeps the same.
   */
  @Test
  void a_final_window_off_the_grid_leaves_no_stretch_without_moments() {
    List<Long> ends = hopEnds(1_200_000);
    ends.add(1_220_000L + 1); // the final window, one frame after the last frame
    try (MomentIndex index = MomentIndex.open(dir)) {
      ends.forEach(end -> upsertWindow(index, "cam", end, 1));
      index.refresh();
      assertThat(eventsCovered(index, "cam")).hasSize(40);
      assertThat(ids(index, "cam")).isEqualTo(new java.util.TreeSet<>(
          offline(ends, "cam", 1).stream().map(MomentRecord::momentId).toList()));
    }
  }

  /**
   * A provisional window P (the stream went quiet at 615 s; its records carry no band) is stored
   * whole and takes nothing away; the stream goes on, P is retracted before anything else of the
   * stream comes, and the index holds what a run without the quiet holds.
   */
  @Test
  void a_retracted_provisional_window_takes_its_moments_and_no_other_with_it() {
    Set<String> straight;
    try (MomentIndex index = MomentIndex.open(dir.resolve("straight"))) {
      hopEnds(900_000).forEach(end -> upsertWindow(index, "cam", end, 3));
      index.refresh();
      straight = ids(index, "cam");
    }
    try (MomentIndex index = MomentIndex.open(dir.resolve("quiet"))) {
      hopEnds(600_000).forEach(end -> upsertWindow(index, "cam", end, 3));
      index.refresh();
      Set<String> before = ids(index, "cam");
      long pEnd = 630_000 - 1; // a provisional window of the frames up to 630 s (not on the hop grid)
      List<MomentRecord> p = window("cam", pEnd);
      p.forEach(index::upsert); // no band
      index.refresh();
      Set<String> withP = ids(index, "cam");
      assertThat(withP).containsAll(before).hasSize(before.size() + p.size());
      index.deleteWindow(p.get(0).windowId());
      index.refresh();
      assertThat(ids(index, "cam")).isEqualTo(before);
      for (long end = 630_000; end <= 900_000; end += HOP) {
        upsertWindow(index, "cam", end, 3);
      }
      index.refresh();
      assertThat(ids(index, "cam")).isEqualTo(straight);
    }
  }

  /**
   * Replayed windows (the same records again, same ids, in order) and a kill after a commit (the
   * materializer replays the records after it onto the committed index) leave the moments of a
   * straight run.
   */
  @Test
  void replayed_windows_and_a_restart_keep_the_same_moments() {
    List<Long> ends = hopEnds(1_800_000);
    Set<String> straight;
    try (MomentIndex index = MomentIndex.open(dir.resolve("straight"))) {
      ends.forEach(end -> upsertWindow(index, "cam", end, 3));
      index.refresh();
      straight = ids(index, "cam");
      assertThat(straight).hasSize(159);
      // the last windows again (a replay after a restart of the materializer): nothing changes
      ends.subList(50, ends.size()).forEach(end -> upsertWindow(index, "cam", end, 3));
      index.refresh();
      assertThat(ids(index, "cam")).isEqualTo(straight);
    }
    Path d = dir.resolve("killed");
    try (MomentIndex index = MomentIndex.open(d)) {
      ends.subList(0, 25).forEach(end -> upsertWindow(index, "cam", end, 3));
      index.commit(Map.of("offset", "25"));
      ends.subList(25, 40).forEach(end -> upsertWindow(index, "cam", end, 3)); // lost: never committed
    }
    try (MomentIndex index = MomentIndex.open(d)) {
      assertThat(index.commitData()).containsEntry("offset", "25");
      ends.subList(20, ends.size()).forEach(end -> upsertWindow(index, "cam", end, 3)); // from before the commit
      index.refresh();
      assertThat(ids(index, "cam")).isEqualTo(straight);
    }
  }
}
