package dev.moments.indexer.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.model.rank.CentredMoments;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bytes a moment takes on disk at the paper config (dim 1024), measured as docs/scale.md
 * "Bytes per camera-hour" does ({@link StorageBenchmark}; {@code moments bench storage} runs the
 * whole camera-hour and prints the numbers).
 */
class MomentIndexBytesTest {
  @TempDir Path dir;

  static final int DIM = 1024;
  static final int MOMENTS_PER_WINDOW = 100;
  static final long WINDOW_MS = 600_000;
  static final long HOP_MS = 30_000;

  static long cameraWindows(MomentIndex index, int windows, long seed) {
    return cameraWindows(index, windows, seed, 0);
  }

  static long cameraWindows(MomentIndex index, int windows, long seed, int copies) {
    return StorageBenchmark.upsertWindows(index, windows, WINDOW_MS, HOP_MS, MOMENTS_PER_WINDOW, DIM, seed, copies);
  }

  /**
   * A moment of dim 1024 takes under 1,300 B on disk (its int8 vector is 1,024 B; the float32
   * index took 4,237 B per moment).
   */
  @Test
  void a_moment_of_dim_1024_takes_under_1300_bytes_on_disk() {
    try (MomentIndex index = MomentIndex.open(dir)) {
      long n = cameraWindows(index, 20, 1);
      assertThat(n).isEqualTo(2_000);
      assertThat(index.size()).isEqualTo(2_000);
      long bytes = index.sizeOnDiskBytes();
      assertThat(bytes / (double) n).isLessThan(1_300.0).isGreaterThan(DIM);
    }
  }

  /**
   * With the default band (3 copies) half a camera-hour keeps under a fifth of the moments and of
   * the bytes of every window's every moment (at 20-fold overlap: 3 of 20 in steady state, plus the
   * newest window's newer half), and a kept moment still takes under 1,300 B.
   */
  @Test
  void with_three_copies_a_camera_keeps_under_a_fifth_of_the_moments_and_bytes() {
    long all;
    try (MomentIndex index = MomentIndex.open(dir.resolve("all"))) {
      cameraWindows(index, 60, 2);
      all = index.sizeOnDiskBytes();
    }
    try (MomentIndex index = MomentIndex.open(dir.resolve("banded"))) {
      long offered = cameraWindows(index, 60, 2, CentredMoments.DEFAULT_COPIES);
      long kept = index.size();
      assertThat(kept).isLessThan(offered / 5);
      long bytes = index.sizeOnDiskBytes();
      assertThat(bytes / (double) kept).isLessThan(1_300.0);
      assertThat(bytes * 5).isLessThan(all);
    }
  }
}
