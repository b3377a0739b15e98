package dev.moments.trainer;

/**
 * Training stopped because a step produced a number it cannot go on from: non-finite frame
 * features, model outputs or loss, or non-finite gradients in too many steps in a row. The
 * message names the step and the cause in one line; the checkpoint on disk is the last one
 * written before the step.
 */
public final class TrainingStoppedException extends IllegalStateException {
  private final long step;

  TrainingStoppedException(long step, String cause) {
    super("training stopped at step " + step + ": " + cause);
    this.step = step;
  }

  /** The 1-based optimizer step that failed. */
  public long step() {
    return step;
  }
}
