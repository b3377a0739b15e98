package dev.moments.topics;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Dead-letter records: the original key and value bytes, the original headers, and headers that
 * say why and where the record failed. The pipeline never stops on one bad record.
 */
public final class DeadLetter {
  /** Human-readable reason, e.g. {@code "undecodable JPEG: ..."}. */
  public static final String HEADER_REASON = "dlq-reason";
  /** The stage that rejected the record: ingest, featurizer, indexer, materializer. */
  public static final String HEADER_STAGE = "dlq-stage";
  public static final String HEADER_TOPIC = "dlq-topic";
  public static final String HEADER_PARTITION = "dlq-partition";
  public static final String HEADER_OFFSET = "dlq-offset";

  private DeadLetter() {}

  /** A dead-letter record for a consumed record that could not be processed. */
  public static ProducerRecord<byte[], byte[]> of(
      Topics topics, String stage, ConsumerRecord<byte[], byte[]> in, String reason) {
    Headers h = new RecordHeaders();
    for (Header header : in.headers()) {
      h.add(header);
    }
    h.add(HEADER_REASON, utf8(reason));
    h.add(HEADER_STAGE, utf8(stage));
    h.add(HEADER_TOPIC, utf8(in.topic()));
    h.add(HEADER_PARTITION, utf8(Integer.toString(in.partition())));
    h.add(HEADER_OFFSET, utf8(Long.toString(in.offset())));
    return new ProducerRecord<>(
        topics.deadLetter().name(), null, in.timestamp(), in.key(), in.value(), h);
  }

  /** The value of a text header, or null when absent. */
  public static String header(Headers headers, String name) {
    Header h = headers.lastHeader(name);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  private static byte[] utf8(String s) {
    return (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
  }
}
