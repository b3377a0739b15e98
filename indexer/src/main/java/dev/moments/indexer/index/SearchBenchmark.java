package dev.moments.indexer.index;

import dev.moments.model.rank.MomentVectors;
import dev.moments.topics.MomentRecord;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * {@code bench search}: builds an on-disk {@link MomentIndex} of N clustered random moments,
 * then measures recall@k of {@link MomentIndex#search} against exact brute force (two truths: the
 * float cosine of the moments' embeddings, and the cosine with their stored int8 vectors, {@link
 * MomentVectors#similarity}, which is the best the index can return), and its p50/p99 latency. Moment i belongs to a random one of C unit-norm cluster centres plus Gaussian noise of
 * norm about {@code noise}; queries are fresh points of random clusters (pure Gaussian vectors
 * would make recall meaningless: every neighbour is about equally far). Stream {@code i % 100}
 * with non-overlapping intervals per stream, so temporal NMS removes nothing and the measured
 * path is the production search.
 */
public final class SearchBenchmark {
  /** What to build and measure. */
  public record Params(int moments, int dim, int queries, int k, int clusters, float noise,
      long seed, Path dir) {
    public Params {
      if (moments < 1 || dim < 1 || queries < 1 || k < 1 || clusters < 1) {
        throw new IllegalArgumentException("moments, dim, queries, k and clusters must be >= 1");
      }
    }
  }

  /**
   * The measured numbers; {@code recall} against the float embeddings' exact top k, {@code
   * recallInt8} against the exact top k by the similarity the index reports (the int8 vectors').
   */
  public record Result(int moments, int dim, double buildSeconds, double momentsPerSecond,
      long sizeOnDiskBytes, double recall, double recallInt8, double p50Ms, double p99Ms, double meanMs,
      int queries, int k) {}

  private final Params p;
  private final float[][] centres;

  public SearchBenchmark(Params p) {
    this.p = p;
    SplittableRandom r = new SplittableRandom(p.seed());
    centres = new float[p.clusters()][];
    for (int c = 0; c < p.clusters(); c++) {
      float[] v = new float[p.dim()];
      for (int j = 0; j < v.length; j++) {
        v[j] = (float) r.nextGaussian();
      }
      centres[c] = MomentVectors.unit(v, "centre");
    }
  }

  /** The L2-normalized vector of moment i (or of query i when {@code query}). */
  float[] vector(long i, boolean query) {
    SplittableRandom r = new SplittableRandom(
        p.seed() * 0x9E3779B97F4A7C15L + (query ? 0x5DEECE66DL : 0) + i * 0xBF58476D1CE4E5B9L);
    float[] c = centres[r.nextInt(centres.length)];
    float[] v = new float[c.length];
    double scale = p.noise() / Math.sqrt(c.length);
    for (int j = 0; j < v.length; j++) {
      v[j] = c[j] + (float) (scale * r.nextGaussian());
    }
    return MomentVectors.unit(v, "vector");
  }

  /** Builds the index in a fresh folder under {@link Params#dir()}, measures, deletes it. */
  public Result run(PrintStream log) {
    Path dir;
    try {
      Files.createDirectories(p.dir());
      dir = Files.createTempDirectory(p.dir(), "bench-search-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a benchmark folder under " + p.dir(), e);
    }
    try {
      return run(dir, log);
    } finally {
      deleteTree(dir);
    }
  }

  private Result run(Path dir, PrintStream log) {
    int n = p.moments();
    float[][] queries = new float[p.queries()][];
    for (int q = 0; q < queries.length; q++) {
      queries[q] = vector(q, true);
    }
    // Exact top-k of every query (brute force over all moments, one pass).
    List<PriorityQueue<double[]>> exact = new ArrayList<>();
    List<PriorityQueue<double[]>> exact8 = new ArrayList<>();
    for (int q = 0; q < queries.length; q++) {
      exact.add(new PriorityQueue<>(Comparator.comparingDouble((double[] a) -> a[0])));
      exact8.add(new PriorityQueue<>(Comparator.comparingDouble((double[] a) -> a[0])));
    }
    try (MomentIndex index = MomentIndex.open(dir, 1.0f)) {
      long buildNanos = 0;
      int batch = 10_000;
      MomentRecord[] recs = new MomentRecord[batch];
      for (int from = 0; from < n; from += batch) {
        int to = Math.min(n, from + batch);
        for (int i = from; i < to; i++) {
          float[] v = vector(i, false);
          byte[] v8 = MomentVectors.int8(v, "moment " + i);
          for (int q = 0; q < queries.length; q++) {
            double dot = 0;
            float[] qv = queries[q];
            for (int j = 0; j < v.length; j++) {
              dot += qv[j] * v[j];
            }
            offer(exact.get(q), dot, i);
            offer(exact8.get(q), MomentVectors.similarity(qv, v8), i);
          }
          String stream = "bench-" + (i % 100);
          long start = 1_700_000_000_000L + (i / 100) * 10_000L;
          recs[i - from] = new MomentRecord(Integer.toString(i), stream, start, start + 5_000, v,
              0.5f, MomentRecord.windowIdFor(stream, start), "bench");
        }
        long t = System.nanoTime();
        for (int i = from; i < to; i++) {
          index.upsert(recs[i - from]);
        }
        buildNanos += System.nanoTime() - t;
        if ((from / batch) % 10 == 9) {
          log.printf("  indexed %,d / %,d%n", to, n);
        }
      }
      long t = System.nanoTime();
      index.commit(java.util.Map.of());
      index.refresh();
      buildNanos += System.nanoTime() - t;
      double buildSec = buildNanos / 1e9;
      log.printf("  built in %.1f s (%,.0f moments/s), %,d bytes on disk%n", buildSec,
          n / buildSec, index.sizeOnDiskBytes());

      // Warm-up with other queries, then measure.
      for (int w = 0; w < Math.min(50, queries.length); w++) {
        index.search(SearchRequest.of(vector(1_000_000 + w, true), p.k()));
      }
      double[] ms = new double[queries.length];
      double recallSum = 0;
      double recall8Sum = 0;
      for (int q = 0; q < queries.length; q++) {
        long s = System.nanoTime();
        List<MomentHit> hits = index.search(SearchRequest.of(queries[q], p.k()));
        ms[q] = (System.nanoTime() - s) / 1e6;
        recallSum += found(hits, exact.get(q)) / (double) Math.min(p.k(), n);
        recall8Sum += found(hits, exact8.get(q)) / (double) Math.min(p.k(), n);
      }
      double[] sorted = ms.clone();
      Arrays.sort(sorted);
      return new Result(n, p.dim(), buildSec, n / buildSec, index.sizeOnDiskBytes(),
          recallSum / queries.length, recall8Sum / queries.length, percentile(sorted, 0.50), percentile(sorted, 0.99),
          Arrays.stream(ms).average().orElse(0), queries.length, p.k());
    }
  }

  // Keeps the k best (score, moment) pairs in a min-heap.
  private void offer(PriorityQueue<double[]> heap, double score, int i) {
    if (heap.size() < p.k()) {
      heap.add(new double[] {score, i});
    } else if (score > heap.peek()[0]) {
      heap.poll();
      heap.add(new double[] {score, i});
    }
  }

  private static int found(List<MomentHit> hits, PriorityQueue<double[]> truthHeap) {
    Set<String> truth = new HashSet<>();
    for (double[] e : truthHeap) {
      truth.add(Integer.toString((int) e[1]));
    }
    int found = 0;
    for (MomentHit h : hits) {
      if (truth.contains(h.momentId())) {
        found++;
      }
    }
    return found;
  }

  private static double percentile(double[] sorted, double q) {
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.clamp(i, 0, sorted.length - 1)];
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete benchmark folder " + dir, e);
    }
  }
}
