package dev.moments.indexer.stream;

import java.nio.ByteBuffer;

/**
 * The small per-stream state of the windowing processor, kept in the meta store.
 *
 * @param t0 the first feature timestamp of the stream's timeline (its first feature, or its first
 *     after an end-of-stream mark); window ends are {@code t0 + k * hop}
 * @param lastEmittedEnd the end of the last emitted (or skipped empty) window, {@link
 *     Long#MIN_VALUE} before the first
 * @param maxTs the newest accepted feature timestamp (the stream time)
 * @param frames features accepted
 * @param lateDropped features dropped as too late
 * @param windows windows emitted (provisional ones included)
 * @param provisionalEnd the end of the provisional window flushed because the stream went quiet
 *     without an end-of-stream mark, {@link Long#MIN_VALUE} when there is none; it is retracted
 *     when the stream's next feature is accepted
 */
public record StreamMeta(long t0, long lastEmittedEnd, long maxTs, long frames, long lateDropped,
    long windows, long provisionalEnd) {
  static final int BYTES = 7 * Long.BYTES;
  /** The layout before provisional windows (no {@code provisionalEnd}). */
  private static final int BYTES_V1 = 6 * Long.BYTES;

  static StreamMeta first(long ts) {
    return new StreamMeta(ts, Long.MIN_VALUE, ts, 0, 0, 0, Long.MIN_VALUE);
  }

  byte[] toBytes() {
    return ByteBuffer.allocate(BYTES).putLong(t0).putLong(lastEmittedEnd).putLong(maxTs)
        .putLong(frames).putLong(lateDropped).putLong(windows).putLong(provisionalEnd).array();
  }

  /** Decodes the meta store's value (also the 6-field layout of earlier versions). */
  public static StreamMeta fromBytes(byte[] b) {
    if (b == null || (b.length != BYTES && b.length != BYTES_V1)) {
      throw new IllegalStateException("corrupt stream meta of " + (b == null ? 0 : b.length)
          + " bytes, expected " + BYTES);
    }
    ByteBuffer bb = ByteBuffer.wrap(b);
    return new StreamMeta(bb.getLong(), bb.getLong(), bb.getLong(), bb.getLong(), bb.getLong(),
        bb.getLong(), b.length == BYTES ? bb.getLong() : Long.MIN_VALUE);
  }

  /** Whether a provisional window of this stream is standing. */
  boolean hasProvisional() {
    return provisionalEnd != Long.MIN_VALUE;
  }

  /**
   * Whether the stream's timeline has ended: its end-of-stream mark flushed a final window, which
   * ends one frame after its newest feature (hop windows end at least the lateness before it).
   */
  boolean ended() {
    return lastEmittedEnd != Long.MIN_VALUE && lastEmittedEnd > maxTs;
  }

  /** A new timeline from {@code ts} after an end-of-stream mark; counters and late bound stay. */
  StreamMeta restartedAt(long ts) {
    return new StreamMeta(ts, lastEmittedEnd, ts, frames, lateDropped, windows, provisionalEnd);
  }

  StreamMeta accepted(long ts) {
    return new StreamMeta(t0, lastEmittedEnd, Math.max(maxTs, ts), frames + 1, lateDropped,
        windows, provisionalEnd);
  }

  StreamMeta dropped() {
    return new StreamMeta(t0, lastEmittedEnd, maxTs, frames, lateDropped + 1, windows,
        provisionalEnd);
  }

  StreamMeta emitted(long end, boolean nonEmpty) {
    return new StreamMeta(t0, end, maxTs, frames, lateDropped, windows + (nonEmpty ? 1 : 0),
        provisionalEnd);
  }

  /** A provisional window ending at {@code end} was emitted; the hop grid does not move. */
  StreamMeta provisional(long end) {
    return new StreamMeta(t0, lastEmittedEnd, maxTs, frames, lateDropped, windows + 1, end);
  }

  /** The provisional window was retracted (the stream went on) or became final (its mark came). */
  StreamMeta withoutProvisional(boolean retracted) {
    return new StreamMeta(t0, lastEmittedEnd, maxTs, frames, lateDropped,
        windows - (retracted ? 1 : 0), Long.MIN_VALUE);
  }
}
