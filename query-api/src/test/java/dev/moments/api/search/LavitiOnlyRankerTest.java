package dev.moments.api.search;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.api.LuceneMomentStore;
import dev.moments.api.auth.Access;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.indexer.index.MomentHit;
import dev.moments.indexer.index.MomentIndex;
import dev.moments.indexer.index.SearchRequest;
import dev.moments.model.rank.SpanRanker;
import dev.moments.topics.MomentRecord;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default ranker through the served search gives exactly the answers the moment index gave
 * before rankers (k-NN, then NMS at IoU 0.5 per stream): same moments, same order, same spans.
 */
class LavitiOnlyRankerTest {
  static final long T0 = 1_746_093_600_000L;
  static final int DIM = 16;

  @TempDir Path dir;

  static float[] random(Random r) {
    float[] v = new float[DIM];
    for (int i = 0; i < DIM; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  @Test
  void served_search_with_the_laviti_ranker_equals_the_index_search() {
    Random r = new Random(11);
    try (MomentIndex index = MomentIndex.open(dir)) {
      for (int s = 0; s < 4; s++) {
        String stream = "cam-" + s;
        for (int w = 0; w < 40; w++) { // overlapping windows predict overlapping moments
          long ws = T0 + w * 30_000L;
          for (int slot = 0; slot < 5; slot++) {
            long start = ws + 1000L * r.nextInt(120);
            index.upsert(new MomentRecord(MomentRecord.idFor(stream, ws, slot), stream, start,
                start + 1000L * (1 + r.nextInt(40)), random(r), r.nextFloat(), MomentRecord.windowIdFor(stream, ws), "m"));
          }
        }
      }
      index.commit(Map.of());
      float[][] q = {null};
      TextEncoder enc = new TextEncoder() {
        public String id() { return "fixed"; }
        public int dim() { return DIM; }
        public float[][] encode(List<String> texts) { return new float[][] {q[0]}; }
        public void close() { }
      };
      SearchService served = new SearchService(enc, new LuceneMomentStore(index),
          dev.moments.model.rank.Rankers.laviti(), SearchService.DEFAULT_MAX_SCAN_SECONDS);
      int compared = 0;
      for (int i = 0; i < 12; i++) {
        q[0] = random(r);
        for (int k : new int[] {1, 5, 20, 100}) {
          Long from = i % 3 == 0 ? T0 + 300_000 : null;
          Long to = i % 4 == 0 ? T0 + 900_000 : null;
          Set<String> streams = i % 2 == 0 ? null : Set.of("cam-1", "cam-3");
          List<MomentHit> before = index.search(new SearchRequest(q[0], k, streams, from, to, null));
          List<MomentStore.Hit> now = served.search(new SearchQuery("q", streams, from, to, k), Access.all()).hits();
          assertThat(now).extracting(MomentStore.Hit::momentId, MomentStore.Hit::startMs, MomentStore.Hit::endMs)
              .as("query %d, k %d", i, k)
              .containsExactlyElementsOf(before.stream()
                  .map(h -> org.assertj.core.groups.Tuple.tuple(h.momentId(), h.startMs(), h.endMs())).toList());
          for (int j = 0; j < now.size(); j++) {
            assertThat(now.get(j).similarity()).isCloseTo(before.get(j).similarity(), org.assertj.core.data.Offset.offset(1e-5f));
          }
          compared += now.size();
        }
      }
      assertThat(compared).isGreaterThan(500);
    }
  }

  @Test
  void suppresses_a_worse_moment_overlapping_a_kept_one_above_iou_half_and_keeps_one_at_exactly_half() {
    dev.moments.model.rank.SpanRanker ranker = dev.moments.model.rank.Rankers.laviti();
    List<SpanRanker.Span> spans = ranker.rank(new double[0], List.of(
        new SpanRanker.Moment(0, 10, 0.9),
        new SpanRanker.Moment(1, 10, 0.8), // IoU 0.9 with the first: dropped
        new SpanRanker.Moment(5, 15, 0.7), // IoU 5/15 with the first: kept
        new SpanRanker.Moment(0, 20, 0.6), // IoU 0.5 exactly with the first, 0.5 with the third: kept
        new SpanRanker.Moment(30, 31, 0.1)), 3);
    assertThat(spans).containsExactly(new SpanRanker.Span(0, 10, 0.9), new SpanRanker.Span(5, 15, 0.7),
        new SpanRanker.Span(0, 20, 0.6));
  }
}
