package dev.moments.trainer;

/**
 * Linear warm-up to the base rate, then cosine decay to 0 at the last step.
 *
 * @param base peak learning rate
 * @param warmup warm-up steps (0 for none)
 * @param total total planned steps
 */
public record LrSchedule(double base, long warmup, long total) {
  public LrSchedule {
    if (!(base > 0) || warmup < 0 || total < 1) {
      throw new IllegalArgumentException("bad schedule: lr " + base + ", warmup " + warmup + ", total " + total);
    }
  }

  /** The rate of 0-based step {@code step}. */
  public double at(long step) {
    if (step < warmup) {
      return base * (step + 1) / warmup;
    }
    long decay = Math.max(1, total - warmup);
    double progress = Math.min(1.0, (double) (step - warmup) / decay);
    return base * 0.5 * (1 + Math.cos(Math.PI * progress));
  }
}
