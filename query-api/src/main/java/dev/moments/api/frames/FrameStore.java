package dev.moments.api.frames;

import java.util.Map;
import java.util.Optional;

/** JPEG frames of the streams, looked up by capture time. */
public interface FrameStore {
  /**
   * The frame of {@code streamId} whose capture time is nearest to {@code timeMs} (of two equally
   * near, the earlier), if the stream has any.
   *
   * @throws Unavailable when the stream has such a frame but it cannot be read now
   */
  Optional<Frame> nearest(String streamId, long timeMs);

  /** Frame counts and capture-time spans per stream, as far as they are known. */
  Map<String, FrameSpan> frameSpans();

  /**
   * One frame.
   *
   * @param streamId the stream id (the record key)
   * @param timestampMs the capture time (the record timestamp, epoch ms)
   * @param jpeg the image bytes as produced
   */
  record Frame(String streamId, long timestampMs, byte[] jpeg) {}

  /** A frame exists but cannot be read now (the broker does not answer); worth retrying later. */
  final class Unavailable extends RuntimeException {
    public Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** How many frames of a stream were seen, and their first and last capture time. */
  record FrameSpan(long frames, long firstMs, long lastMs) {}
}
