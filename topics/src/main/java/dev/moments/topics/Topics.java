package dev.moments.topics;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The public topics of a Moments deployment (DESIGN §3). Names derive from one prefix
 * ({@code moments} by default) so that several deployments can share a cluster.
 *
 * <ul>
 *   <li>{@code <prefix>.frames}: key stream id (UTF-8), value one JPEG image, timestamp capture
 *       time, optional headers {@code pts-ms} and {@code content-type}.
 *   <li>{@code <prefix>.features}: key stream id, value a {@link FeatureRecord}.
 *   <li>{@code <prefix>.moments}: key stream id, value a {@link MomentRecord}.
 *   <li>{@code <prefix>.dead-letter}: a capped copy of a record that could not be processed
 *       (its key, value and headers within {@link DeadLetter}'s limits), with the reason and
 *       where the original is in {@link DeadLetter} headers.
 *   <li>{@code <prefix>.alert-rules}: compacted; key rule id, value an {@link AlertRule} (JSON), a
 *       null value deletes the rule.
 *   <li>{@code <prefix>.alerts}: key stream id, value an {@link AlertRecord} (JSON).
 * </ul>
 */
public final class Topics {
  /** Header with the frame's media time in ms as decimal ASCII text, e.g. {@code "1500"}. */
  public static final String HEADER_PTS_MS = "pts-ms";

  /** Header with the MIME type of a frame's value, {@code image/jpeg} when present. */
  public static final String HEADER_CONTENT_TYPE = "content-type";

  /**
   * Header that makes a record an end-of-stream mark rather than a frame or feature. A record on
   * {@code <prefix>.frames} with key = stream id and this header (its value a short reason as
   * text, e.g. {@code "eof"}, {@code "source-lost"}, {@code "stopped"}; any value, even empty,
   * counts) says that the stream's timeline ends here: every frame of the stream before it in
   * the partition has been sent. The record's value is ignored (send it empty or null); its
   * timestamp should be the last frame's capture time. Ingest sends one at the end of a file and
   * when a live source is lost; any client can send one (kcat: {@code -H end-of-stream=eof}).
   * The featurizer carries it into {@code <prefix>.features} in order (same key, header and
   * timestamp, null value), and the indexer then flushes the stream's frames not yet in an
   * emitted window as its final window. Frames of the stream after a mark begin a new timeline
   * (its window grid starts again at the first of them).
   */
  public static final String HEADER_END_OF_STREAM = "end-of-stream";

  /**
   * Header of a retraction on {@code <prefix>.moments}: a record with key = stream id, a null
   * value and this header (value = a window id) withdraws every moment of that window. The
   * indexer retracts a provisional window (flushed because its stream went quiet without an
   * end-of-stream mark) when the stream's frames go on; readers delete the window's moments.
   */
  public static final String HEADER_RETRACT_WINDOW = "retract-window";

  /**
   * Headers of a moment record on {@code <prefix>.moments} with its window's <b>band</b>, each a
   * time in epoch ms as decimal ASCII text: with 600 s windows every 30 s each stretch of video is
   * predicted about 20 times, and a reader that keeps the moments of a stream (the query API's
   * index) keeps each stretch only from the few windows that had it nearest their middle. A moment
   * whose centre ({@code (start + end) / 2}) is before {@code band-from-ms} is not kept (a later
   * window saw it better); when a window's first record comes, the stream's kept moments of
   * earlier windows centred at or after both their own {@code band-until-ms} and this window's
   * {@code band-from-ms} are dropped. The indexer sets both on every moment of a hop or final
   * window (the rule: {@code CentredMoments}); a record without them (a provisional window, or a
   * producer that does not know them) is kept as it is.
   */
  public static final String HEADER_BAND_FROM_MS = "band-from-ms";

  /** See {@link #HEADER_BAND_FROM_MS}. */
  public static final String HEADER_BAND_UNTIL_MS = "band-until-ms";

  /** Whether a record's headers mark the end of its stream ({@link #HEADER_END_OF_STREAM}). */
  public static boolean isEndOfStream(org.apache.kafka.common.header.Headers headers) {
    return headers != null && headers.lastHeader(HEADER_END_OF_STREAM) != null;
  }

  /**
   * An end-of-stream mark ({@link #HEADER_END_OF_STREAM}) for {@code topic}: key = stream id,
   * null value, timestamp = the stream's last capture time, the reason as the header's value.
   */
  public static <V> org.apache.kafka.clients.producer.ProducerRecord<String, V> endOfStreamMark(
      String topic, String streamId, long timestampMs, String reason) {
    org.apache.kafka.common.header.internals.RecordHeaders h =
        new org.apache.kafka.common.header.internals.RecordHeaders();
    h.add(HEADER_END_OF_STREAM, reason.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return new org.apache.kafka.clients.producer.ProducerRecord<>(topic, null, timestampMs, streamId, null, h);
  }

  public static final String DEFAULT_PREFIX = "moments";

  private final String prefix;
  private final Topic<String, byte[]> frames;
  private final Topic<String, FeatureRecord> features;
  private final Topic<String, MomentRecord> moments;
  private final Topic<byte[], byte[]> deadLetter;
  private final Topic<String, AlertRule> alertRules;
  private final Topic<String, AlertRecord> alerts;

  public Topics(String prefix) {
    if (prefix == null || !prefix.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException(
          "topic prefix must be letters, digits, '.', '_' or '-', got: " + prefix);
    }
    this.prefix = prefix;
    Serde<String> key = Serdes.String();
    this.frames = new Topic<>(prefix + ".frames", key, Serdes.ByteArray());
    this.features = new Topic<>(prefix + ".features", key, FeatureRecord.serde());
    this.moments = new Topic<>(prefix + ".moments", key, MomentRecord.serde());
    this.deadLetter = new Topic<>(prefix + ".dead-letter", Serdes.ByteArray(), Serdes.ByteArray());
    this.alertRules = new Topic<>(prefix + ".alert-rules", key, AlertRule.serde());
    this.alerts = new Topic<>(prefix + ".alerts", key, AlertRecord.serde());
  }

  /** The topics with the default {@code moments} prefix. */
  public static Topics defaults() {
    return new Topics(DEFAULT_PREFIX);
  }

  public String prefix() {
    return prefix;
  }

  public Topic<String, byte[]> frames() {
    return frames;
  }

  public Topic<String, FeatureRecord> features() {
    return features;
  }

  public Topic<String, MomentRecord> moments() {
    return moments;
  }

  public Topic<byte[], byte[]> deadLetter() {
    return deadLetter;
  }

  /** Standing queries (compacted, key = rule id). */
  public Topic<String, AlertRule> alertRules() {
    return alertRules;
  }

  /** Alerts: moments that matched a standing query (key = stream id). */
  public Topic<String, AlertRecord> alerts() {
    return alerts;
  }

  /** All topic names, in data-flow order. */
  public java.util.List<String> names() {
    return java.util.List.of(frames.name(), features.name(), moments.name(), deadLetter.name(),
        alertRules.name(), alerts.name());
  }
}
