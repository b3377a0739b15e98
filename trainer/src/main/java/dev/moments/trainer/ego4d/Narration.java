package dev.moments.trainer.ego4d;

/**
 * One cleaned Ego4D narration of a video.
 *
 * @param timestampSec seconds from the start of the video
 * @param text the narration after tag clean-up ({@link Narrations#clean(String)}), never empty
 */
public record Narration(double timestampSec, String text) {
  public Narration {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("narration text must not be empty");
    }
    if (!Double.isFinite(timestampSec)) {
      throw new IllegalArgumentException("narration timestamp must be finite, got " + timestampSec);
    }
  }
}
