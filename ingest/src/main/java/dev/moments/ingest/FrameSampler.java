package dev.moments.ingest;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Chooses frames by presentation time, in exact arithmetic: output slot {@code k} is at time
 * {@code k / fps} after the first frame, and it is filled by the first decoded frame whose PTS
 * reaches it. PTS are the stream's integer timestamps in its time base ({@code num/den} s), the
 * rate is the exact decimal it is written as ({@code 7.5} = 15/2), except that a fractional rate
 * within 0.005 of an NTSC rate n*1000/1001 means that rate ({@code 23.976}, {@code 29.97},
 * {@code 59.94}: the video's own clock), and the comparison is done on integers, so no rounding
 * of either side can move a frame to another slot: a 6 fps file sampled at 6 fps keeps every
 * frame, a 30 fps one at 6 fps every fifth.
 * Slots are anchored at the first frame's PTS, so the choice depends only on timestamps, never
 * on frame counts, and variable frame rate works.
 *
 * <p>A frame reaches slot {@code k} when {@code pts + tick/2 >= k/fps}: half a tick of the time
 * base is the container's own rounding (a Matroska clock of 1/1000 s stores 1/3 s as 333 ms).
 *
 * <p>{@link #accept} (live sampling) never duplicates a frame: a frame fills at most one slot.
 * When the source has a gap longer than a slot, the frame after the gap fills one slot and the
 * empty slots are skipped; so a rate above the source's (60 fps sampled at 90) gives every source
 * frame once. {@link #fill} chooses the same frames and says how many slots each one reaches, for
 * offline featurization, which repeats a frame for each so that row {@code i} is at {@code i/fps}.
 */
public final class FrameSampler {
  /** How close a fractional rate must be to n*1000/1001 to mean it (29.97 is 29.97003). */
  private static final double NTSC_TOLERANCE = 0.005;

  private final BigInteger tbNum;
  private final BigInteger tbDen;
  private final BigInteger fpsNum;
  private final BigInteger fpsDen;
  private boolean started;
  private long origin;
  private long nextSlot;

  /** A sampler for timestamps in microseconds (time base 1/1,000,000). */
  public FrameSampler(double fps) {
    this(fps, 1, 1_000_000);
  }

  /**
   * A sampler for timestamps in the time base {@code timeBaseNum / timeBaseDen} seconds.
   *
   * @param fps output frames per second of presentation time, taken as its exact decimal value
   */
  public FrameSampler(double fps, long timeBaseNum, long timeBaseDen) {
    if (!(fps > 0) || Double.isInfinite(fps)) {
      throw new IllegalArgumentException("fps must be > 0, got " + fps);
    }
    if (timeBaseNum <= 0 || timeBaseDen <= 0) {
      throw new IllegalArgumentException("time base must be positive, got " + timeBaseNum + "/" + timeBaseDen);
    }
    BigDecimal f = new BigDecimal(Double.toString(fps)).stripTrailingZeros();
    long ntsc = Math.round(fps * 1.001);
    if (f.scale() > 0 && ntsc > 0 && Math.abs(fps - ntsc * 1000 / 1001.0) < NTSC_TOLERANCE) {
      this.fpsNum = BigInteger.valueOf(ntsc * 1000);
      this.fpsDen = BigInteger.valueOf(1001);
    } else if (f.scale() > 0) {
      this.fpsNum = f.unscaledValue();
      this.fpsDen = BigInteger.TEN.pow(f.scale());
    } else {
      this.fpsNum = f.toBigIntegerExact();
      this.fpsDen = BigInteger.ONE;
    }
    this.tbNum = BigInteger.valueOf(timeBaseNum);
    this.tbDen = BigInteger.valueOf(timeBaseDen);
  }

  /** Whether the frame at {@code pts} (in the time base) is sampled; advances the slot if so. */
  public boolean accept(long pts) {
    return fill(pts) > 0;
  }

  /**
   * Samples the frame at {@code pts} (in the time base) and says how many slots it fills: the
   * empty slots from the next one up to the last it reaches ({@link #lastSlot}), 0 when it
   * reaches none (it is not sampled). The first frame fills slot 0. A source at or above the
   * rate fills at most one slot per frame; where frames are further apart than a slot, one frame
   * reaches several: {@link #accept} uses it once and leaves the others empty, while offline
   * featurization repeats it for each, so that its row {@code i} stays at slot {@code i}. Either
   * way the same frames are chosen, and the slots filled so far are always numbered {@code 0 ..
   * nextSlot - 1}.
   */
  public long fill(long pts) {
    if (!started) {
      started = true;
      origin = pts;
      nextSlot = 1;
      return 1;
    }
    if (pts < origin) {
      return 0;
    }
    long last = lastSlot(pts - origin);
    if (last < nextSlot) {
      return 0;
    }
    long filled = last - nextSlot + 1;
    nextSlot = last + 1;
    return filled;
  }

  /**
   * The last slot a frame {@code x} ticks after the first frame reaches: {@code floor((x + 1/2)
   * tick * fps)}, in exact arithmetic (a frame reaches slot {@code k} when {@code (x + 1/2) tick >=
   * k/fps}).
   */
  public long lastSlot(long x) {
    if (x < 0) {
      throw new IllegalArgumentException("a frame before the first one reaches no slot: " + x + " ticks");
    }
    // reach = (2x+1)/2 ticks = (2x+1)*tbNum / (2*tbDen) s; slots reached: floor(reach * fps)
    return BigInteger.valueOf(x).shiftLeft(1).add(BigInteger.ONE).multiply(tbNum).multiply(fpsNum)
        .divide(tbDen.multiply(fpsDen).shiftLeft(1)).longValueExact();
  }

  /** The slot the next frame must reach to be sampled (1 after the first frame). */
  public long nextSlot() {
    return started ? nextSlot : 0;
  }

  /** Starts over, e.g. when a live source reconnects and its timestamps restart. */
  public void reset() {
    started = false;
  }
}
