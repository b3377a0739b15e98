package dev.moments.api.search;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.moments.api.LuceneMomentStore;
import dev.moments.api.auth.Access;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.indexer.index.MomentIndex;
import dev.moments.topics.MomentRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Not a test: a measurement, run with {@code -Dmoments.search.loadReport=true}. Prints the bytes
 * frame evidence takes per camera-hour (6 fps, dims 64 and 1024) and the latency of the served
 * search over 100 streams × 1 h of evidence and moments at dim 64, within and beyond the scan cap.
 * It asserts nothing (timings depend on the machine).
 */
class RankedSearchLoadReport {
  static final long T0 = 1_746_093_600_000L;
  @TempDir Path dir;

  static float[] random(Random r, int dim) {
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  static void fill(MomentIndex index, String stream, int seconds, int dim, Random r) {
    for (int t = 0; t < seconds * 6; t++) {
      index.evidence().accept(stream, T0 + Math.round(t * 1000 / 6.0), random(r, dim));
    }
    index.evidence().endOfStream(stream);
  }

  static String load() throws Exception {
    Process p = new ProcessBuilder("uptime").redirectErrorStream(true).start();
    return new String(p.getInputStream().readAllBytes()).strip();
  }

  @Test
  void bytes_per_camera_hour_and_search_latency() throws Exception {
    assumeTrue(Boolean.getBoolean("moments.search.loadReport"), "a measurement: -Dmoments.search.loadReport=true");
    Random r = new Random(1);
    for (int dim : new int[] {64, 1024}) {
      Path d = dir.resolve("bytes-" + dim);
      try (MomentIndex index = MomentIndex.open(d)) {
        long empty = index.sizeOnDiskBytes();
        fill(index, "cam", 3600, dim, r);
        index.evidence().flush();
        index.commit(Map.of());
        index.forceMerge(1);
        index.commit(Map.of());
        System.out.printf("evidence dim %d: %d bytes per camera-hour on disk (empty index %d bytes; raw int8 %d)%n",
            dim, index.sizeOnDiskBytes() - empty, empty, 3600L * (4 + dim));
      }
    }
    int streams = 100;
    int dim = 64;
    Path d = dir.resolve("latency");
    try (MomentIndex index = MomentIndex.open(d)) {
      long t0 = System.nanoTime();
      for (int s = 0; s < streams; s++) {
        String id = "cam-" + s;
        fill(index, id, 3600, dim, r);
        for (int w = 0; w < 120; w++) { // a 600 s window every 30 s, 4 moments each
          long ws = T0 + w * 30_000L;
          for (int slot = 0; slot < 4; slot++) {
            long start = ws + r.nextInt(590_000);
            index.upsert(new MomentRecord(MomentRecord.idFor(id, ws, slot), id, start, start + 2_000 + r.nextInt(30_000),
                random(r, dim), r.nextFloat(), MomentRecord.windowIdFor(id, ws), "m"));
          }
        }
      }
      index.evidence().flush();
      index.commit(Map.of());
      System.out.printf("built %d streams x 1 h (%d moments) in %.1f s; index %d bytes%n", streams, index.size(),
          (System.nanoTime() - t0) / 1e9, index.sizeOnDiskBytes());
      LuceneMomentStore store = new LuceneMomentStore(index);
      float[] q = random(r, dim);
      TextEncoder enc = new TextEncoder() {
        public String id() { return "fixed"; }
        public int dim() { return dim; }
        public float[][] encode(List<String> texts) { return new float[][] {q}; }
        public void close() { }
      };
      long a = System.nanoTime();
      var ids = store.rankableStreams();
      long b = System.nanoTime();
      long secs = 0;
      for (String id : ids) {
        secs += store.evidenceSeconds(id, null, null);
      }
      long c = System.nanoTime();
      for (String id : ids) {
        store.frameScores(id, q, null, null);
      }
      long e = System.nanoTime();
      long moments = 0;
      for (String id : ids) {
        moments += store.momentsOf(id, q, null, null).size();
      }
      long f = System.nanoTime();
      System.out.printf("phases: streams %.1f ms, extents %.1f ms (%d s), frame scores %.1f ms, moments %.1f ms (%d)%n",
          (b - a) / 1e6, (c - b) / 1e6, secs, (e - c) / 1e6, (f - e) / 1e6, moments);
      for (long cap : new long[] {SearchService.DEFAULT_MAX_SCAN_SECONDS, 36_000}) {
        SearchService svc = new SearchService(enc, store, dev.moments.model.rank.Rankers.laviti(), cap);
        SearchQuery query = new SearchQuery("keys", null, null, null, 10);
        for (int i = 0; i < 3; i++) {
          svc.search(query, Access.all());
        }
        double[] ms = new double[10];
        double[] cpu = new double[10];
        var bean = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int i = 0; i < ms.length; i++) {
          long c0 = bean.getCurrentThreadCpuTime();
          ms[i] = svc.search(query, Access.all()).tookMs();
          cpu[i] = (bean.getCurrentThreadCpuTime() - c0) / 1e6;
        }
        Arrays.sort(ms);
        Arrays.sort(cpu);
        System.out.printf("  thread CPU per search: p50 %.1f ms, max %.1f ms%n", cpu[cpu.length / 2], cpu[cpu.length - 1]);
        System.out.printf("search, cap %d stream-seconds (%d evidence seconds in range): p50 %.1f ms, max %.1f ms; load %s%n",
            cap, streams * 3600, ms[ms.length / 2], ms[ms.length - 1], load());
      }
    }
    Files.createDirectories(dir);
  }
}
