package dev.moments.topics;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Dead-letter records: a capped copy of the original key, value and headers, and headers that say
 * why and where the record failed ({@link #HEADER_TOPIC}, {@link #HEADER_PARTITION},
 * {@link #HEADER_OFFSET} always find the original). The pipeline never stops on one bad record.
 *
 * <p>A dead letter always fits a topic with a stock broker's 1 MB {@code max.message.bytes}, with
 * margin: the value is copied whole up to {@link #MAX_VALUE_BYTES} (256 KiB), else only its first
 * {@link #MAX_VALUE_BYTES} bytes with {@link #HEADER_VALUE_BYTES} (the original length) and
 * {@link #HEADER_VALUE_TRUNCATED} {@code = true}; the key likewise up to {@link #MAX_KEY_BYTES}
 * ({@link #HEADER_KEY_BYTES}, {@link #HEADER_KEY_TRUNCATED}); the original headers in order while
 * they fit {@link #MAX_HEADERS_BYTES} in all, the others dropped and named in
 * {@link #HEADER_HEADERS_DROPPED}; the reason up to {@link #MAX_REASON_BYTES}. In all at most
 * {@link #MAX_RECORD_BYTES} of key, value and headers.
 */
public final class DeadLetter {
  /** Human-readable reason, e.g. {@code "undecodable JPEG: ..."}. */
  public static final String HEADER_REASON = "dlq-reason";
  /** The stage that rejected the record: ingest, featurizer, indexer, materializer. */
  public static final String HEADER_STAGE = "dlq-stage";
  /** Topic of the original record. */
  public static final String HEADER_TOPIC = "dlq-topic";
  /** Partition of the original record, decimal text. */
  public static final String HEADER_PARTITION = "dlq-partition";
  /** Offset of the original record, decimal text. */
  public static final String HEADER_OFFSET = "dlq-offset";
  /** Length of the original value in bytes (decimal text), when the copy is not the whole value. */
  public static final String HEADER_VALUE_BYTES = "dlq-value-bytes";
  /** {@code true} when the value is only the original's first bytes (or none of them). */
  public static final String HEADER_VALUE_TRUNCATED = "dlq-value-truncated";
  /** Length of the original key in bytes (decimal text), when the copy is not the whole key. */
  public static final String HEADER_KEY_BYTES = "dlq-key-bytes";
  /** {@code true} when the key is only the original's first bytes (or none of them). */
  public static final String HEADER_KEY_TRUNCATED = "dlq-key-truncated";
  /** Which original headers were not copied, e.g. {@code "2 of 5 (9437220 bytes): big, blob"}. */
  public static final String HEADER_HEADERS_DROPPED = "dlq-headers-dropped";

  /** The most value bytes copied: a stock broker's 1 MB record holds it with room to spare. */
  public static final int MAX_VALUE_BYTES = 256 * 1024;
  /** The most key bytes copied (a stream id is short; a broken producer's key need not be). */
  public static final int MAX_KEY_BYTES = 4 * 1024;
  /** The most bytes of original headers copied: names, values and 8 bytes a header. */
  public static final int MAX_HEADERS_BYTES = 64 * 1024;
  /** The most UTF-8 bytes of the reason text. */
  public static final int MAX_REASON_BYTES = 4 * 1024;
  /** The most UTF-8 bytes of the reason of a {@link #headersOnly headers-only} dead letter. */
  public static final int MAX_HEADERS_ONLY_REASON_BYTES = 512;
  /**
   * Bound on a dead letter's key, value and headers together (the record adds a few dozen bytes
   * more): 352 KiB, a third of a stock broker's 1 MB {@code max.message.bytes}.
   */
  public static final int MAX_RECORD_BYTES =
      MAX_VALUE_BYTES + MAX_KEY_BYTES + MAX_HEADERS_BYTES + MAX_REASON_BYTES + 24 * 1024;

  private static final int HEADER_OVERHEAD = 8;
  private static final int MAX_DROPPED_TEXT_BYTES = 1024;
  private static final int MAX_TOPIC_NAME_BYTES = 249; // Kafka's limit on topic names

  private DeadLetter() {}

  /**
   * A dead-letter record for a consumed record that could not be processed: key, value and
   * headers copied within the caps of this class, plus the reason and where the original is.
   * The returned record's key, value and headers are the capped ones; send it as it is.
   */
  public static ProducerRecord<byte[], byte[]> of(
      Topics topics, String stage, ConsumerRecord<byte[], byte[]> in, String reason) {
    Headers h = new RecordHeaders();
    List<String> dropped = new ArrayList<>();
    long droppedBytes = 0;
    int total = 0;
    int count = 0;
    for (Header header : in.headers()) {
      count++;
      int size = headerSize(header);
      if (size <= MAX_HEADERS_BYTES - total) {
        h.add(header);
        total += size;
      } else {
        dropped.add(header.key());
        droppedBytes += size;
      }
    }
    if (!dropped.isEmpty()) {
      h.add(HEADER_HEADERS_DROPPED, droppedText(dropped, count, droppedBytes));
    }
    byte[] key = capped(in.key(), MAX_KEY_BYTES, h, HEADER_KEY_BYTES, HEADER_KEY_TRUNCATED);
    byte[] value = capped(in.value(), MAX_VALUE_BYTES, h, HEADER_VALUE_BYTES, HEADER_VALUE_TRUNCATED);
    where(h, stage, in, reason, MAX_REASON_BYTES);
    return new ProducerRecord<>(topics.deadLetter().name(), null, in.timestamp(), key, value, h);
  }

  /**
   * The smallest dead letter of {@code in}: no key, value or original headers (an empty key and
   * value copied as truncated to 0 bytes, with their original lengths), only the reason (at most
   * {@link #MAX_HEADERS_ONLY_REASON_BYTES}), the stage and where the original is. For when even
   * the {@link #of capped copy} was rejected (a dead-letter topic with a small
   * {@code max.message.bytes}): well under 1 KiB.
   */
  public static ProducerRecord<byte[], byte[]> headersOnly(
      Topics topics, String stage, ConsumerRecord<byte[], byte[]> in, String reason) {
    Headers h = new RecordHeaders();
    int count = in.headers().toArray().length;
    if (count > 0) {
      h.add(HEADER_HEADERS_DROPPED, utf8(count + " of " + count + " (headers-only dead letter)"));
    }
    byte[] key = capped(in.key(), 0, h, HEADER_KEY_BYTES, HEADER_KEY_TRUNCATED);
    byte[] value = capped(in.value(), 0, h, HEADER_VALUE_BYTES, HEADER_VALUE_TRUNCATED);
    where(h, stage, in, reason, MAX_HEADERS_ONLY_REASON_BYTES);
    return new ProducerRecord<>(topics.deadLetter().name(), null, in.timestamp(), key, value, h);
  }

  /**
   * The first {@code max} bytes of {@code bytes} (all of them when shorter, null stays null);
   * when cut, adds headers {@code lengthHeader} (the original length) and {@code truncatedHeader}
   * = {@code true} to {@code h}.
   */
  private static byte[] capped(byte[] bytes, int max, Headers h, String lengthHeader, String truncatedHeader) {
    if (bytes == null || bytes.length <= max) {
      return bytes;
    }
    h.add(lengthHeader, utf8(Integer.toString(bytes.length)));
    h.add(truncatedHeader, utf8("true"));
    return Arrays.copyOf(bytes, max);
  }

  private static void where(Headers h, String stage, ConsumerRecord<?, ?> in, String reason, int maxReason) {
    h.add(HEADER_REASON, truncate(reason == null ? "" : reason, maxReason));
    h.add(HEADER_STAGE, truncate(stage == null ? "" : stage, 64));
    h.add(HEADER_TOPIC, truncate(in.topic() == null ? "" : in.topic(), MAX_TOPIC_NAME_BYTES));
    h.add(HEADER_PARTITION, utf8(Integer.toString(in.partition())));
    h.add(HEADER_OFFSET, utf8(Long.toString(in.offset())));
  }

  /** Size of a header as counted against {@link #MAX_HEADERS_BYTES}. */
  private static int headerSize(Header header) {
    long size = (long) header.key().getBytes(StandardCharsets.UTF_8).length
        + (header.value() == null ? 0 : header.value().length) + HEADER_OVERHEAD;
    return (int) Math.min(Integer.MAX_VALUE, size);
  }

  private static byte[] droppedText(List<String> names, int count, long bytes) {
    StringBuilder b = new StringBuilder();
    b.append(names.size()).append(" of ").append(count).append(" (").append(bytes).append(" bytes): ");
    for (int i = 0; i < names.size(); i++) {
      if (i > 0) {
        b.append(", ");
      }
      String name = names.get(i);
      b.append(name.length() > 64 ? name.substring(0, 64) + "…" : name);
      if (b.length() > MAX_DROPPED_TEXT_BYTES) {
        break;
      }
    }
    return truncate(b.toString(), MAX_DROPPED_TEXT_BYTES);
  }

  /** {@code s} as UTF-8, cut at a character boundary to at most {@code max} bytes (ending in …). */
  static byte[] truncate(String s, int max) {
    byte[] all = utf8(s);
    if (all.length <= max) {
      return all;
    }
    byte[] ellipsis = utf8("…");
    int end = max - ellipsis.length;
    // back up to the start of a UTF-8 character (continuation bytes are 10xxxxxx)
    while (end > 0 && (all[end] & 0xC0) == 0x80) {
      end--;
    }
    byte[] out = Arrays.copyOf(all, end + ellipsis.length);
    System.arraycopy(ellipsis, 0, out, end, ellipsis.length);
    return out;
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
