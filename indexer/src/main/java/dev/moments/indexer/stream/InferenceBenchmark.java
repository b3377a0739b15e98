package dev.moments.indexer.stream;

import dev.moments.model.LavitiModel;
import dev.moments.model.PredictedMoment;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code bench index}: windows per second of the indexer's inference call ({@link
 * LavitiModel#predict}, what the topology runs per emitted window) on one window of random
 * L2-normalized features.
 */
public final class InferenceBenchmark {
  /** The measured numbers. */
  public record Result(int frames, int featureDim, int moments, int windows, double msPerWindow,
      double windowsPerSecond) {}

  private InferenceBenchmark() {}

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
      m = model.predict(window, fps).size();
    }
    long t = System.nanoTime();
    for (int i = 0; i < windows; i++) {
      List<PredictedMoment> out = model.predict(window, fps);
      m = out.size();
    }
    double ms = (System.nanoTime() - t) / 1e6 / windows;
    return new Result(frames, dim, m, windows, ms, 1000.0 / ms);
  }
}
