package dev.moments.topics;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A standing language query, the value of the compacted {@code <prefix>.alert-rules} topic (key =
 * rule id; a null value deletes the rule). Value: UTF-8 JSON, one object with the fields below.
 *
 * @param id the rule id (the record's key), e.g. {@code r-3f9c0d2a1b7e4c55}
 * @param owner who made it: {@code sha256:<hex of the bearer token>} (never the token itself), or
 *     {@code insecure} on a server without tokens; only that owner sees the rule and its alerts
 * @param q the query text as given
 * @param streams the stream ids the rule watches: the requested ones narrowed to those the owner
 *     may see when the rule was made; empty = every stream (only for a {@code *} token or an
 *     insecure server)
 * @param minScore the score at or above which a span of a stream matches, on the scale of the
 *     ranker the matcher ranks with (by default the served search's: /api/search shows it)
 * @param cooldownMs after a rule fires on a stream, further matches of that rule on that stream
 *     whose spans start less than this many ms after the fired span's start are not alerts
 * @param webhook an http(s) URL that each alert of the rule is POSTed to, or null
 * @param secret the key of the webhook's HMAC-SHA256 signature (hex), made when the rule is made
 * @param embedding the L2-normalised text embedding of {@code q}, encoded once when the rule is
 *     made by the server's text encoder
 * @param encoder the id of the text encoder that made {@code embedding}
 * @param createdMs when the rule was made (epoch ms)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.ALWAYS)
public record AlertRule(
    String id,
    String owner,
    String q,
    List<String> streams,
    float minScore,
    long cooldownMs,
    String webhook,
    String secret,
    float[] embedding,
    String encoder,
    long createdMs) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public AlertRule {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(q, "q");
    Objects.requireNonNull(embedding, "embedding");
    streams = streams == null ? List.of() : List.copyOf(streams);
    if (cooldownMs < 0) {
      throw new IllegalArgumentException("cooldownMs must be >= 0, got " + cooldownMs);
    }
  }

  /** Whether the rule watches {@code streamId} (an empty stream list watches every stream). */
  public boolean watches(String streamId) {
    return streams.isEmpty() || streams.contains(streamId);
  }

  public byte[] toBytes() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write alert rule " + id, e);
    }
  }

  /**
   * Decodes a rule.
   *
   * @throws IllegalArgumentException when the bytes are not an alert rule's JSON
   */
  public static AlertRule fromBytes(byte[] bytes) {
    try {
      return JSON.readValue(bytes, AlertRule.class);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("not an alert rule: " + e.getMessage(), e);
    }
  }

  public static Serde<AlertRule> serde() {
    Serializer<AlertRule> ser = (topic, r) -> r == null ? null : r.toBytes();
    Deserializer<AlertRule> de = (topic, b) -> b == null ? null : fromBytes(b);
    return Serdes.serdeFrom(ser, de);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AlertRule r
        && id.equals(r.id)
        && owner.equals(r.owner)
        && q.equals(r.q)
        && streams.equals(r.streams)
        && Float.compare(minScore, r.minScore) == 0
        && cooldownMs == r.cooldownMs
        && Objects.equals(webhook, r.webhook)
        && Objects.equals(secret, r.secret)
        && Arrays.equals(embedding, r.embedding)
        && Objects.equals(encoder, r.encoder)
        && createdMs == r.createdMs;
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, owner, q, streams, minScore, cooldownMs, webhook, secret,
        Arrays.hashCode(embedding), encoder, createdMs);
  }

  @Override
  public String toString() {
    return "AlertRule[" + id + " '" + q + "' owner=" + owner + " streams=" + streams
        + " minScore=" + minScore + " cooldownMs=" + cooldownMs + " webhook=" + webhook + "]";
  }
}
