package dev.moments.trainer.ego4d;

/**
 * One cleaned Ego4D narration of a video.
 *
 * @param timestampSec seconds from the start of the video
 * @param text the narration after tag clean-up ({@link Narrations#clean(String)}), never empty
 * @param pass the annotation pass it comes from (0 for {@code narration_pass_1}, 1 for pass 2):
 *     each pass is one annotator's sequence, and a narration's training interval reaches only to
 *     its neighbours in the same sequence
 */
public record Narration(double timestampSec, String text, int pass) {
  public Narration(double timestampSec, String text) {
    this(timestampSec, text, 0);
  }

  public Narration {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("narration text must not be empty");
    }
    if (!Double.isFinite(timestampSec)) {
      throw new IllegalArgumentException("narration timestamp must be finite, got " + timestampSec);
    }
  }
}
