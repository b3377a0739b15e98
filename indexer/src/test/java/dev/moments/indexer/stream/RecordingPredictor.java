package dev.moments.indexer.stream;

import dev.moments.model.MomentPredictor;
import dev.moments.model.PredictedMoment;
import java.util.ArrayList;
import java.util.List;

/**
 * A deterministic predictor whose outputs are computable by hand, for testing the windowing (not
 * the model): it records every window it sees and predicts two moments per window: slot 0 spans
 * the whole window ({@code [0, T / fps]}, embedding = first frame, score = T / 100), slot 1 spans
 * frames 1 to 2 ({@code [1 / fps, 2 / fps]}, embedding = last frame, score 0.5).
 */
final class RecordingPredictor implements MomentPredictor {
  final List<float[][]> windows = new ArrayList<>();

  @Override
  public synchronized List<PredictedMoment> predict(float[][] window, double fps) {
    float[][] copy = new float[window.length][];
    for (int i = 0; i < window.length; i++) {
      copy[i] = window[i].clone();
    }
    windows.add(copy);
    int t = window.length;
    return List.of(
        new PredictedMoment(0, window[0].clone(), 0, t / fps, t / 100f),
        new PredictedMoment(1, window[t - 1].clone(), 1 / fps, 2 / fps, 0.5f));
  }

  /** The first component of each row: the tests put the frame number there. */
  static List<Float> frameNumbers(float[][] window) {
    List<Float> out = new ArrayList<>();
    for (float[] row : window) {
      out.add(row[0]);
    }
    return out;
  }
}
