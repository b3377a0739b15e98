package dev.moments.topics;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Objects;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * One alert: a span of a stream that matched a standing query ({@link AlertRule}). The value of
 * {@code <prefix>.alerts} (key = stream id), UTF-8 JSON. Written exactly once per fired event: the
 * matcher ranks each stream's recent frames and moments as the served search ranks, keeps per
 * rule and stream the last fired span, suppresses matches that overlap it (temporal NMS: the same
 * event seen again by a later window) or start within the rule's cooldown, and writes in a Kafka
 * transaction with its state.
 *
 * @param alertId deterministic: {@code <ruleId>/<momentId>}, so a consumer can drop a repeat
 * @param ruleId the rule that fired
 * @param owner the rule's owner ({@link AlertRule#owner()}): who may see the alert
 * @param q the rule's query text
 * @param streamId the stream (also the record key)
 * @param momentId the span that matched: a moment's id ({@link MomentRecord#momentId()}) when the
 *     span is exactly that moment, else {@code <stream>/span/<startMs>-<endMs>} (as the served
 *     search names spans)
 * @param windowId the window whose ranking fired
 * @param startMs the span's start, capture time (epoch ms), as in {@link MomentRecord}
 * @param endMs the span's end, capture time (epoch ms)
 * @param score the ranker's score of the span for the rule's text (the served search's scale)
 * @param firedMs when the matcher wrote the alert (epoch ms, wall clock)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AlertRecord(
    String alertId,
    String ruleId,
    String owner,
    String q,
    String streamId,
    String momentId,
    String windowId,
    long startMs,
    long endMs,
    float score,
    long firedMs) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public AlertRecord {
    Objects.requireNonNull(alertId, "alertId");
    Objects.requireNonNull(ruleId, "ruleId");
    Objects.requireNonNull(streamId, "streamId");
    Objects.requireNonNull(momentId, "momentId");
  }

  /** The deterministic id of the alert of {@code ruleId} on {@code momentId}. */
  public static String idFor(String ruleId, String momentId) {
    return ruleId + "/" + momentId;
  }

  public byte[] toBytes() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write alert " + alertId, e);
    }
  }

  /**
   * Decodes an alert.
   *
   * @throws IllegalArgumentException when the bytes are not an alert's JSON
   */
  public static AlertRecord fromBytes(byte[] bytes) {
    try {
      return JSON.readValue(bytes, AlertRecord.class);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("not an alert record: " + e.getMessage(), e);
    }
  }

  public static Serde<AlertRecord> serde() {
    Serializer<AlertRecord> ser = (topic, r) -> r == null ? null : r.toBytes();
    Deserializer<AlertRecord> de = (topic, b) -> b == null ? null : fromBytes(b);
    return Serdes.serdeFrom(ser, de);
  }
}
