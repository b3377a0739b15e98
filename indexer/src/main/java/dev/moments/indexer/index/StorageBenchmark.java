package dev.moments.indexer.index;

import dev.moments.model.rank.CentredMoments;
import dev.moments.topics.MomentRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Bytes per camera-hour in the moment index (docs/scale.md "Bytes per camera-hour"): one camera's
 * windows of W ending every hop from its first frame, M moments each with ids, window ids and
 * times as the indexer writes them (a moment starts anywhere in its window but the last minute
 * and lasts 2-60 s), random embeddings, each window's moments upserted with the band the
 * indexer's headers give them for {@code copies} ({@link CentredMoments}; 0: every moment); then
 * committed, merged to one segment, files summed. Optionally the camera's frame evidence too (its
 * frames at {@code fps}, random features, in an index of their own), as the materializer adds it.
 */
public final class StorageBenchmark {
  /** One camera's first frame. */
  static final long FIRST_MS = 1_700_000_000_000L;

  /** Settings; the paper config: 600 s every 30 s, M = 100, dim 1024, 6 fps. */
  public record Params(double hours, long windowMs, long hopMs, int momentsPerWindow, int dim, double fps,
      long seed, Path dir) {
    public Params {
      if (!(hours > 0) || windowMs <= 0 || hopMs <= 0 || hopMs > windowMs || momentsPerWindow < 1 || dim < 1
          || !(fps > 0)) {
        throw new IllegalArgumentException("need hours > 0, 0 < hop <= window, moments per window >= 1, dim >= 1,"
            + " fps > 0");
      }
    }

    int windows() {
      return (int) Math.round(hours * 3_600_000 / hopMs);
    }
  }

  /** The moments of one setting of copies. */
  public record Moments(int copies, long offered, long kept, long bytes) {}

  private final Params p;

  public StorageBenchmark(Params p) {
    this.p = p;
  }

  /** Indexes the camera's moments with {@code copies}, returns what the index keeps and its bytes. */
  public Moments moments(int copies) {
    return inTempIndex("moments-", index -> {
      long offered = upsertWindows(index, p.windows(), p.windowMs(), p.hopMs(), p.momentsPerWindow(), p.dim(),
          p.seed(), copies);
      return new Moments(copies, offered, index.size(), index.sizeOnDiskBytes());
    });
  }

  /** Bytes of the camera's frame evidence (frames at fps over the hours, random features). */
  public long evidenceBytes() {
    return inTempIndex("evidence-", index -> {
      SplittableRandom r = new SplittableRandom(p.seed() + 1);
      long frames = Math.round(p.hours() * 3600 * p.fps());
      for (long i = 0; i < frames; i++) {
        float[] f = new float[p.dim()];
        for (int j = 0; j < f.length; j++) {
          f[j] = (float) r.nextGaussian();
        }
        index.evidence().accept("cam-0001", FIRST_MS + Math.round(i * 1000 / p.fps()), f);
      }
      index.evidence().endOfStream("cam-0001");
      index.evidence().flush();
      index.commit(Map.of("offset.features.0", Long.toString(frames)));
      index.forceMerge(1);
      index.commit(Map.of("offset.features.0", Long.toString(frames)));
      return index.sizeOnDiskBytes();
    });
  }

  /**
   * Upserts {@code windows} hop windows of one camera (each with its band for {@code copies}, none
   * for 0), commits and merges to one segment; returns the moments offered.
   */
  public static long upsertWindows(MomentIndex index, int windows, long windowMs, long hopMs, int perWindow, int dim,
      long seed, int copies) {
    SplittableRandom r = new SplittableRandom(seed);
    long n = 0;
    String stream = "cam-0001";
    for (int w = 1; w <= windows; w++) {
      long end = FIRST_MS + w * hopMs;
      long start = end - windowMs;
      CentredMoments.Band band = copies == 0 ? null
          : CentredMoments.band(end, windowMs, hopMs, copies, end - hopMs);
      long span = Math.max(1, windowMs - Math.min(60_000, windowMs / 2));
      for (int slot = 0; slot < perWindow; slot++) {
        float[] v = new float[dim];
        for (int j = 0; j < dim; j++) {
          v[j] = (float) r.nextGaussian();
        }
        long s = Math.max(FIRST_MS, start) + r.nextLong(span);
        long e = s + 2_000 + r.nextLong(58_000);
        index.upsert(new MomentRecord(MomentRecord.idFor(stream, start, slot), stream, s, e, v,
            (float) r.nextDouble(), MomentRecord.windowIdFor(stream, start), "laviti-2d837aba6e1d"), band);
        n++;
      }
    }
    index.commit(Map.of("offset.moments.0", Long.toString(n)));
    index.forceMerge(1);
    index.commit(Map.of("offset.moments.0", Long.toString(n)));
    return n;
  }

  private <T> T inTempIndex(String prefix, java.util.function.Function<MomentIndex, T> body) {
    Path d;
    try {
      Files.createDirectories(p.dir());
      d = Files.createTempDirectory(p.dir(), prefix);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make a temporary index under " + p.dir(), e);
    }
    try (MomentIndex index = MomentIndex.open(d)) {
      return body.apply(index);
    } finally {
      SearchBenchmark.deleteTree(d);
    }
  }
}
