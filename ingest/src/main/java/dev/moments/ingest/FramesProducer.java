package dev.moments.ingest;

import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes JPEG frames to {@code <prefix>.frames} (DESIGN §3): key = stream id, value = JPEG,
 * timestamp = capture time, headers {@code pts-ms} and {@code content-type: image/jpeg}.
 *
 * <p>The producer is idempotent with {@code acks=all}, lz4 compression, at most 5 requests in
 * flight per connection and a bounded 32 MiB buffer, so a slow broker blocks the sender (back
 * pressure) instead of growing memory. The first failed send is raised by the next {@link #send}
 * or by {@link #flush()}.
 */
public final class FramesProducer implements AutoCloseable {
  private static final byte[] JPEG = "image/jpeg".getBytes(StandardCharsets.US_ASCII);

  private final KafkaProducer<String, byte[]> producer;
  private final String topic;
  private final AtomicLong acked = new AtomicLong();
  private final AtomicReference<Exception> failure = new AtomicReference<>();

  public FramesProducer(String bootstrap, Topics topics, Map<String, Object> overrides) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 10);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 32L * 1024 * 1024);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "moments-ingest");
    p.putAll(overrides);
    this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    this.topic = topics.frames().name();
  }

  /** Sends one frame asynchronously; throws if an earlier send failed. */
  public void send(String streamId, byte[] jpeg, long ptsMs, long captureTimeMs) {
    check();
    RecordHeaders h = new RecordHeaders();
    h.add(Topics.HEADER_PTS_MS, Long.toString(ptsMs).getBytes(StandardCharsets.US_ASCII));
    h.add(Topics.HEADER_CONTENT_TYPE, JPEG);
    producer.send(new ProducerRecord<>(topic, null, captureTimeMs, streamId, jpeg, h), (md, e) -> {
      if (e != null) {
        failure.compareAndSet(null, e);
      } else {
        acked.incrementAndGet();
      }
    });
  }

  /** Waits until every frame sent so far is acknowledged; throws if any failed. */
  public void flush() {
    producer.flush();
    check();
  }

  /** Frames acknowledged by the brokers so far. */
  public long acknowledged() {
    return acked.get();
  }

  private void check() {
    Exception e = failure.get();
    if (e != null) {
      throw new IllegalStateException("writing frames to Kafka topic " + topic + " failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    producer.close();
  }
}
