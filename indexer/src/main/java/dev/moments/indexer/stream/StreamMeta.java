package dev.moments.indexer.stream;

import java.nio.ByteBuffer;

/**
 * The small per-stream state of the windowing processor, kept in the meta store.
 *
 * @param t0 the stream's first feature timestamp; window ends are {@code t0 + k * hop}
 * @param lastEmittedEnd the end of the last emitted (or skipped empty) window, {@link
 *     Long#MIN_VALUE} before the first
 * @param maxTs the newest accepted feature timestamp (the stream time)
 * @param frames features accepted
 * @param lateDropped features dropped as too late
 * @param windows windows emitted
 */
public record StreamMeta(
    long t0, long lastEmittedEnd, long maxTs, long frames, long lateDropped, long windows) {
  static final int BYTES = 6 * Long.BYTES;

  static StreamMeta first(long ts) {
    return new StreamMeta(ts, Long.MIN_VALUE, ts, 0, 0, 0);
  }

  byte[] toBytes() {
    return ByteBuffer.allocate(BYTES).putLong(t0).putLong(lastEmittedEnd).putLong(maxTs)
        .putLong(frames).putLong(lateDropped).putLong(windows).array();
  }

  /** Decodes the meta store's value. */
  public static StreamMeta fromBytes(byte[] b) {
    if (b == null || b.length != BYTES) {
      throw new IllegalStateException("corrupt stream meta of " + (b == null ? 0 : b.length)
          + " bytes, expected " + BYTES);
    }
    ByteBuffer bb = ByteBuffer.wrap(b);
    return new StreamMeta(bb.getLong(), bb.getLong(), bb.getLong(), bb.getLong(), bb.getLong(),
        bb.getLong());
  }

  StreamMeta accepted(long ts) {
    return new StreamMeta(t0, lastEmittedEnd, Math.max(maxTs, ts), frames + 1, lateDropped, windows);
  }

  StreamMeta dropped() {
    return new StreamMeta(t0, lastEmittedEnd, maxTs, frames, lateDropped + 1, windows);
  }

  StreamMeta emitted(long end, boolean nonEmpty) {
    return new StreamMeta(t0, end, maxTs, frames, lateDropped, windows + (nonEmpty ? 1 : 0));
  }
}
