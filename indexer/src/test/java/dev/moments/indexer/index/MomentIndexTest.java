package dev.moments.indexer.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

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
   * (1,0,0), so the cosines are m1 1.0, m2 0.8, m3 0.6, m4 0.0.
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
      assertThat(hits.get(1).similarity()).isCloseTo(0.8f, within(1e-5f));
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
}
