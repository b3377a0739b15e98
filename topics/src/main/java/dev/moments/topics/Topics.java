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
 *   <li>{@code <prefix>.dead-letter}: the original key and value bytes of a record that could
 *       not be processed, with the reason in {@link DeadLetter} headers.
 * </ul>
 */
public final class Topics {
  /** Header with the frame's media time in ms as decimal ASCII text, e.g. {@code "1500"}. */
  public static final String HEADER_PTS_MS = "pts-ms";

  /** Header with the MIME type of a frame's value, {@code image/jpeg} when present. */
  public static final String HEADER_CONTENT_TYPE = "content-type";

  public static final String DEFAULT_PREFIX = "moments";

  private final String prefix;
  private final Topic<String, byte[]> frames;
  private final Topic<String, FeatureRecord> features;
  private final Topic<String, MomentRecord> moments;
  private final Topic<byte[], byte[]> deadLetter;

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

  /** All topic names, in data-flow order. */
  public java.util.List<String> names() {
    return java.util.List.of(frames.name(), features.name(), moments.name(), deadLetter.name());
  }
}
