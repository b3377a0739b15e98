package dev.moments.model;

/**
 * One moment predicted by a moment query of the decoder for one window of frame features.
 *
 * @param slot the index of the moment query (0..M-1) that produced it
 * @param embedding the L2-normalized visual/language embedding, comparable with text embeddings
 * @param startSec start time in seconds relative to the window's first frame
 * @param endSec end time in seconds relative to the window's first frame, {@code >= startSec}
 * @param score the confidence of the predicted time span in [0, 1]
 */
public record PredictedMoment(int slot, float[] embedding, double startSec, double endSec, float score) {
  public PredictedMoment {
    if (endSec < startSec) {
      throw new IllegalArgumentException("moment ends before it starts: " + startSec + " > " + endSec);
    }
  }
}
