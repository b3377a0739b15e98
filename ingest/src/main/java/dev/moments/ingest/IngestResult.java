package dev.moments.ingest;

import java.util.Locale;

/**
 * What one {@link Ingestor#ingest} run did.
 *
 * @param streamId the stream id (record key)
 * @param source the source as given
 * @param framesSent frames acknowledged by Kafka
 * @param framesDecoded frames decoded (sampled or not), over all connections of a live source
 * @param mediaDurationMs media time covered (sum over connections of a live source)
 * @param wallTimeMs wall-clock time of the run
 * @param truncated whether a file ended before its declared duration or on a decode error
 * @param note why a file was truncated, or empty
 * @param reconnects how many times a live source was reopened
 */
public record IngestResult(
    String streamId,
    String source,
    long framesSent,
    long framesDecoded,
    long mediaDurationMs,
    long wallTimeMs,
    boolean truncated,
    String note,
    int reconnects) {

  /** Sent frames per wall-clock second. */
  public double fpsAchieved() {
    return wallTimeMs <= 0 ? 0 : framesSent * 1000.0 / wallTimeMs;
  }

  /** One line for people: frames sent, media duration, wall time, fps achieved. */
  public String summary() {
    String s = String.format(Locale.ROOT,
        "ingest %s: sent %d frames (%.1f s of media, %d frames decoded) in %.1f s wall, %.1f frames/s, %.1fx real time",
        streamId, framesSent, mediaDurationMs / 1000.0, framesDecoded, wallTimeMs / 1000.0,
        fpsAchieved(), wallTimeMs <= 0 ? 0 : mediaDurationMs / (double) wallTimeMs);
    if (reconnects > 0) {
      s += ", " + reconnects + " reconnect" + (reconnects == 1 ? "" : "s");
    }
    if (truncated) {
      s += "; TRUNCATED: " + source + " ended early (" + note + "), sent the frames that could be decoded";
    }
    return s;
  }
}
