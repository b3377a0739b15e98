package dev.moments.indexer.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.topics.MomentRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bytes a moment takes on disk at the paper config (dim 1024), measured as docs/scale.md
 * "Bytes per camera-hour" does: a camera's windows of 600 s ending every 30 s, M = 100 moments
 * each, ids, window ids and times as {@code WindowingProcessor} writes them, random embeddings,
 * upserted, committed, merged to one segment, files summed. {@link #main} runs the whole
 * camera-hour (120 windows, 12,000 moments) and prints the numbers.
 */
class MomentIndexBytesTest {
  @TempDir Path dir;

  static final int DIM = 1024;
  static final int MOMENTS_PER_WINDOW = 100;
  static final long WINDOW_MS = 600_000;
  static final long HOP_MS = 30_000;

  /** Upserts {@code windows} hop windows of one camera, commits and merges; returns the moments. */
  static long cameraWindows(MomentIndex index, int windows, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    long first = 1_700_000_000_000L;
    long n = 0;
    for (int w = 1; w <= windows; w++) {
      long end = first + w * HOP_MS;
      long start = end - WINDOW_MS;
      String stream = "cam-0001";
      for (int slot = 0; slot < MOMENTS_PER_WINDOW; slot++) {
        float[] v = new float[DIM];
        for (int j = 0; j < DIM; j++) {
          v[j] = (float) r.nextGaussian();
        }
        long s = Math.max(first, start) + r.nextLong(WINDOW_MS - 60_000);
        long e = s + 2_000 + r.nextLong(58_000);
        index.upsert(new MomentRecord(MomentRecord.idFor(stream, start, slot), stream, s, e, v,
            (float) r.nextDouble(), MomentRecord.windowIdFor(stream, start), "laviti-2d837aba6e1d"));
        n++;
      }
    }
    index.commit(Map.of("offset.moments.0", Long.toString(n)));
    index.forceMerge(1);
    index.commit(Map.of("offset.moments.0", Long.toString(n)));
    return n;
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

  /** One camera-hour (120 windows, 12,000 moments) at dim 1024: bytes on disk, total and per file kind. */
  public static void main(String[] args) throws Exception {
    Path d = Files.createTempDirectory("camera-hour-");
    try (MomentIndex index = MomentIndex.open(d)) {
      long t = System.nanoTime();
      long n = cameraWindows(index, 120, 1);
      long bytes = index.sizeOnDiskBytes();
      System.out.printf("camera-hour: %,d moments, %,d B on disk (%,.0f B per moment), built in %.1f s%n",
          n, bytes, bytes / (double) n, (System.nanoTime() - t) / 1e9);
      Map<String, Long> byExt = new java.util.TreeMap<>();
      try (var files = Files.list(d)) {
        for (Path f : files.toList()) {
          String name = f.getFileName().toString();
          String ext = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : name;
          byExt.merge(ext, Files.size(f), Long::sum);
        }
      }
      byExt.forEach((ext, b) -> System.out.printf("  .%-6s %,12d B%n", ext, b));
    } finally {
      try (var s = Files.walk(d)) {
        for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(f);
        }
      }
    }
  }
}
