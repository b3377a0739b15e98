package dev.moments.ingest;

import java.util.Locale;

/**
 * What one {@link Ingestor#ingest} run did. Every sampled frame is sent, dropped or failed:
 * {@code framesSampled = framesSent + framesDropped + framesFailed}.
 *
 * @param streamId the stream id (record key)
 * @param source the source as given
 * @param framesSampled frames chosen by the sampler (over all connections of a live source)
 * @param framesSent frames acknowledged by Kafka
 * @param framesDropped frames of a live source dropped because the send buffer was full (the
 *     broker unavailable or too slow), or a file's frame in hand when it was stopped while waiting
 * @param framesFailed frames Kafka rejected, or not acknowledged within the grace period after
 *     a stop
 * @param framesDecoded frames decoded (sampled or not; frames no sample needs may be skipped, see
 *     {@link VideoSource}), over all connections of a live source
 * @param mediaDurationMs media time covered (sum over connections of a live source)
 * @param wallTimeMs wall-clock time of the run
 * @param truncated whether a file ended before the end it promises (see {@link VideoSource})
 * @param note why a file was truncated, or empty
 * @param reconnects how many times a live source was reopened
 * @param endOfStream the reason of the last end-of-stream mark Kafka acknowledged ({@code eof},
 *     {@code truncated}, {@code source-lost}, {@code stopped}), or empty if none was
 */
public record IngestResult(
    String streamId,
    String source,
    long framesSampled,
    long framesSent,
    long framesDropped,
    long framesFailed,
    long framesDecoded,
    long mediaDurationMs,
    long wallTimeMs,
    boolean truncated,
    String note,
    int reconnects,
    String endOfStream) {

  /** Sent frames per wall-clock second. */
  public double fpsAchieved() {
    return wallTimeMs <= 0 ? 0 : framesSent * 1000.0 / wallTimeMs;
  }

  /**
   * One line for people: frames sent, media duration, wall time, fps achieved; what became of
   * the sampled frames (sent, dropped, failed) and the end-of-stream mark; TRUNCATED if so.
   */
  public String summary() {
    String s = String.format(Locale.ROOT,
        "ingest %s: sent %d frames (%.1f s of media, %d frames decoded) in %.1f s wall, %.1f frames/s, %.1fx real time",
        streamId, framesSent, mediaDurationMs / 1000.0, framesDecoded, wallTimeMs / 1000.0,
        fpsAchieved(), wallTimeMs <= 0 ? 0 : mediaDurationMs / (double) wallTimeMs);
    if (reconnects > 0) {
      s += ", " + reconnects + " reconnect" + (reconnects == 1 ? "" : "s");
    }
    s += String.format(Locale.ROOT, "; %d sampled: %d sent, %d dropped (broker unavailable), %d failed",
        framesSampled, framesSent, framesDropped, framesFailed);
    s += "; end of stream: " + (endOfStream.isEmpty() ? "not marked" : endOfStream);
    if (truncated) {
      s += "; TRUNCATED: " + source + " ended early (" + note + "), sent the frames that could be decoded";
    }
    return s;
  }
}
