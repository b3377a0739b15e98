package dev.moments.model;

import java.util.List;

/**
 * The one inference call shared by trainer, indexer and eval: a window of frame features in,
 * the decoder's M moments out.
 */
public interface MomentPredictor {
  /**
   * Predicts the moments of one window.
   *
   * @param window frame features {@code [T][C]} at {@code fps} frames per second, any T >= 1
   *     (a short final window included)
   * @param fps frames per second of the window
   * @return M moments, one per query slot, with times relative to the window's first frame
   */
  List<PredictedMoment> predict(float[][] window, double fps);
}
