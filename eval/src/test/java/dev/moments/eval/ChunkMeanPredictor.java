package dev.moments.eval;

import dev.moments.model.MomentPredictor;
import dev.moments.model.PredictedMoment;
import java.util.ArrayList;
import java.util.List;

/**
 * A naive but real moment model for eval tests: cuts the window into chunks of {@code chunkSec}
 * and predicts one moment per chunk whose embedding is the normalized mean frame feature.
 */
final class ChunkMeanPredictor implements MomentPredictor {
  private final double chunkSec;
  int calls;
  final List<Integer> windowLengths = new ArrayList<>();

  ChunkMeanPredictor(double chunkSec) {
    this.chunkSec = chunkSec;
  }

  @Override
  public List<PredictedMoment> predict(float[][] window, double fps) {
    calls++;
    windowLengths.add(window.length);
    int chunk = Math.max(1, (int) Math.round(chunkSec * fps));
    List<PredictedMoment> out = new ArrayList<>();
    for (int s = 0, slot = 0; s < window.length; s += chunk, slot++) {
      int e = Math.min(window.length, s + chunk);
      float[] mean = new float[window[0].length];
      for (int t = s; t < e; t++) {
        for (int i = 0; i < mean.length; i++) {
          mean[i] += window[t][i] / (e - s);
        }
      }
      out.add(new PredictedMoment(slot, Vectors.normalized(mean), s / fps, e / fps, 1f));
    }
    return out;
  }
}
