package dev.moments.indexer.index;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SearchBenchmarkTest {
  @TempDir Path dir;

  @Test
  void a_small_clustered_index_is_searched_with_high_recall_and_cleaned_up() throws Exception {
    var params = new SearchBenchmark.Params(3000, 16, 20, 10, 30, 0.5f, 7, dir);
    SearchBenchmark.Result r = new SearchBenchmark(params).run(new PrintStream(
        PrintStream.nullOutputStream()));
    assertThat(r.moments()).isEqualTo(3000);
    assertThat(r.queries()).isEqualTo(20);
    // HNSW over 3000 16-d points with 60 candidates finds (nearly) every exact neighbour.
    assertThat(r.recall()).isBetween(0.9, 1.0);
    assertThat(r.recallInt8()).isBetween(0.9, 1.0);
    assertThat(r.p99Ms()).isGreaterThanOrEqualTo(r.p50Ms());
    assertThat(r.sizeOnDiskBytes()).isGreaterThan(3000L * 16); // the int8 vectors at least
    try (var files = Files.list(dir)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void moment_vectors_are_deterministic_unit_vectors() {
    var b = new SearchBenchmark(new SearchBenchmark.Params(10, 8, 1, 1, 3, 0.5f, 1, dir));
    float[] a = b.vector(5, false);
    assertThat(b.vector(5, false)).containsExactly(a);
    double n = 0;
    for (float x : a) {
      n += x * x;
    }
    assertThat(n).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
  }
}
