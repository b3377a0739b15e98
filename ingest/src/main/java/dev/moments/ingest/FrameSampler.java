package dev.moments.ingest;

/**
 * Chooses frames by presentation time: one frame per 1/fps s of PTS, the first decoded frame
 * whose PTS reaches the next slot. Slots are anchored at the first frame's PTS, so the choice
 * depends only on timestamps, never on frame counts, and variable frame rate works.
 *
 * <p>NOTE: when the source has a gap longer than a slot, the frame after the gap fills one slot
 * and the empty slots are skipped (no frame is duplicated).
 */
public final class FrameSampler {
  private final double periodUs;
  private long originUs = Long.MIN_VALUE;
  private long nextSlot;

  public FrameSampler(double fps) {
    if (!(fps > 0)) {
      throw new IllegalArgumentException("fps must be > 0, got " + fps);
    }
    this.periodUs = 1_000_000.0 / fps;
  }

  /** Whether the frame at {@code ptsUs} (microseconds) is sampled; advances the slot if so. */
  public boolean accept(long ptsUs) {
    if (originUs == Long.MIN_VALUE) {
      originUs = ptsUs;
      nextSlot = 1;
      return true;
    }
    if (ptsUs < slotTime(nextSlot)) {
      return false;
    }
    // Next slot: the first one strictly after this frame's PTS.
    long k = (long) Math.floor((ptsUs - originUs) / periodUs) + 1;
    while (slotTime(k) <= ptsUs) {
      k++;
    }
    nextSlot = Math.max(nextSlot + 1, k);
    return true;
  }

  /** Starts over, e.g. when a live source reconnects and its timestamps restart. */
  public void reset() {
    originUs = Long.MIN_VALUE;
  }

  private long slotTime(long k) {
    return originUs + Math.round(k * periodUs);
  }
}
