package dev.moments.indexer.stream;

import dev.moments.model.LavitiModel;
import dev.moments.model.PredictedMoment;
import dev.moments.topics.MomentRecord;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code bench index}: windows per second of the indexer's path from a window of features to its
 * moment records ({@link LavitiModel#predict}, what the topology runs per emitted window, then one
 * encoded {@link MomentRecord} per moment) on one window of random L2-normalized features.
 */
public final class InferenceBenchmark {
  /** The measured numbers. */
  public record Result(int frames, int featureDim, int moments, int windows, double msPerWindow,
      double windowsPerSecond) {}

  private InferenceBenchmark() {}

  /**
   * The rest of the indexer's path from a window to its output: one {@link MomentRecord} per
   * predicted moment, encoded as the moments topic carries it; returns the number of records.
   */
  private static int records(List<PredictedMoment> predicted, int window) {
    long windowStart = window * 600_000L;
    String windowId = MomentRecord.windowIdFor("bench", windowStart);
    int bytes = 0;
    for (PredictedMoment p : predicted) {
      long startMs = windowStart + Math.round(p.startSec() * 1000);
      long endMs = Math.max(startMs, windowStart + Math.round(p.endSec() * 1000));
      bytes += new MomentRecord(MomentRecord.idFor("bench", windowStart, p.slot()), "bench", startMs, endMs,
          p.embedding(), p.score(), windowId, "bench-model").toBytes().length;
    }
    return bytes > 0 ? predicted.size() : 0;
  }

  /** Runs {@code warmup} untimed then {@code windows} timed predictions of a T-frame window. */
  public static Result run(LavitiModel model, int frames, double fps, int warmup, int windows,
      long seed) {
    if (frames < 1 || windows < 1 || warmup < 0) {
      throw new IllegalArgumentException("frames and windows must be >= 1, warmup >= 0");
    }
    int dim = model.config().featureDim();
    SplittableRandom r = new SplittableRandom(seed);
    float[][] window = new float[frames][dim];
    for (float[] row : window) {
      double n = 0;
      for (int j = 0; j < dim; j++) {
        row[j] = (float) r.nextGaussian();
        n += row[j] * row[j];
      }
      float inv = (float) (1 / Math.sqrt(n));
      for (int j = 0; j < dim; j++) {
        row[j] *= inv;
      }
    }
    int m = 0;
    for (int i = 0; i < warmup; i++) {
      m = records(model.predict(window, fps), i);
    }
    long t = System.nanoTime();
    for (int i = 0; i < windows; i++) {
      m = records(model.predict(window, fps), i);
    }
    double ms = (System.nanoTime() - t) / 1e6 / windows;
    return new Result(frames, dim, m, windows, ms, 1000.0 / ms);
  }
}
