package dev.moments.topics;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
// the estimate KafkaProducer itself checks against max.request.size (internal API: if it moves,
// this test stops compiling rather than passing silently)
import org.apache.kafka.common.record.internal.AbstractRecords;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;

class DeadLetterTest {
  /** A stock broker's (and topic's) default {@code max.message.bytes}. */
  private static final int STOCK_MAX_MESSAGE_BYTES = 1_048_588;
  private static final Topics TOPICS = new Topics("t");

  private static byte[] junk(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static ConsumerRecord<byte[], byte[]> record(byte[] key, byte[] value, RecordHeaders headers) {
    return new ConsumerRecord<>("t.frames", 3, 41L, 1_700_000_000_123L, TimestampType.CREATE_TIME,
        -1, -1, key, value, headers, Optional.empty());
  }

  private static int serializedUpperBound(ProducerRecord<byte[], byte[]> r) {
    return AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
        r.key(), r.value(), r.headers().toArray());
  }

  private static String text(ProducerRecord<byte[], byte[]> r, String header) {
    return DeadLetter.header(r.headers(), header);
  }

  @Test
  void a_small_record_is_copied_whole_with_where_it_came_from() {
    RecordHeaders h = new RecordHeaders();
    h.add(Topics.HEADER_PTS_MS, "1500".getBytes(StandardCharsets.US_ASCII));
    ProducerRecord<byte[], byte[]> d = DeadLetter.of(TOPICS, "featurizer",
        record("cam".getBytes(StandardCharsets.UTF_8), "not a jpeg".getBytes(StandardCharsets.UTF_8), h),
        "undecodable frame");

    assertThat(d.topic()).isEqualTo("t.dead-letter");
    assertThat(d.timestamp()).isEqualTo(1_700_000_000_123L);
    assertThat(new String(d.key(), StandardCharsets.UTF_8)).isEqualTo("cam");
    assertThat(new String(d.value(), StandardCharsets.UTF_8)).isEqualTo("not a jpeg");
    assertThat(text(d, Topics.HEADER_PTS_MS)).isEqualTo("1500");
    assertThat(text(d, DeadLetter.HEADER_REASON)).isEqualTo("undecodable frame");
    assertThat(text(d, DeadLetter.HEADER_STAGE)).isEqualTo("featurizer");
    assertThat(text(d, DeadLetter.HEADER_TOPIC)).isEqualTo("t.frames");
    assertThat(text(d, DeadLetter.HEADER_PARTITION)).isEqualTo("3");
    assertThat(text(d, DeadLetter.HEADER_OFFSET)).isEqualTo("41");
    // nothing was cut, so none of the truncation headers
    assertThat(d.headers().lastHeader(DeadLetter.HEADER_VALUE_TRUNCATED)).isNull();
    assertThat(d.headers().lastHeader(DeadLetter.HEADER_VALUE_BYTES)).isNull();
    assertThat(d.headers().lastHeader(DeadLetter.HEADER_KEY_TRUNCATED)).isNull();
    assertThat(d.headers().lastHeader(DeadLetter.HEADER_HEADERS_DROPPED)).isNull();
  }

  @Test
  void a_value_at_the_limit_is_copied_whole_and_one_byte_more_is_cut() {
    byte[] atLimit = junk(DeadLetter.MAX_VALUE_BYTES, 1);
    ProducerRecord<byte[], byte[]> whole = DeadLetter.of(TOPICS, "featurizer", record(null, atLimit, new RecordHeaders()), "r");
    assertThat(whole.value()).isEqualTo(atLimit);
    assertThat(whole.headers().lastHeader(DeadLetter.HEADER_VALUE_TRUNCATED)).isNull();

    byte[] over = junk(DeadLetter.MAX_VALUE_BYTES + 1, 2);
    ProducerRecord<byte[], byte[]> cut = DeadLetter.of(TOPICS, "featurizer", record(null, over, new RecordHeaders()), "r");
    assertThat(cut.value()).isEqualTo(Arrays.copyOf(over, 262_144));
    assertThat(text(cut, DeadLetter.HEADER_VALUE_BYTES)).isEqualTo("262145");
    assertThat(text(cut, DeadLetter.HEADER_VALUE_TRUNCATED)).isEqualTo("true");
  }

  @Test
  void the_largest_record_any_topic_accepts_dead_letters_within_a_stock_1_MB_topic() {
    // The frame: 8,388,500 bytes of junk (accepted by the 8 MiB frames topic); and
    // worse than any topic accepts: a 3 MB key, 2,000 headers of 4 KiB, a 1 MB reason.
    byte[] key = junk(3 << 20, 3);
    byte[] value = junk(8_388_500, 4);
    RecordHeaders h = new RecordHeaders();
    h.add(Topics.HEADER_PTS_MS, "1500".getBytes(StandardCharsets.US_ASCII));
    for (int i = 0; i < 2_000; i++) {
      h.add("h" + i, junk(4096, i));
    }
    h.add("after-the-big-ones", "small".getBytes(StandardCharsets.UTF_8));
    String reason = "é".repeat(600_000); // 1.2 MB of UTF-8, 2-byte characters
    ProducerRecord<byte[], byte[]> d = DeadLetter.of(TOPICS, "featurizer", record(key, value, h), reason);

    int size = serializedUpperBound(d);
    // 2,000 x 4 KiB headers were 8 MiB: without caps the record would be ~20 MB
    assertThat(size).isLessThanOrEqualTo(DeadLetter.MAX_RECORD_BYTES).isLessThan(STOCK_MAX_MESSAGE_BYTES / 2);
    assertThat(d.value()).isEqualTo(Arrays.copyOf(value, DeadLetter.MAX_VALUE_BYTES));
    assertThat(text(d, DeadLetter.HEADER_VALUE_BYTES)).isEqualTo("8388500");
    assertThat(text(d, DeadLetter.HEADER_VALUE_TRUNCATED)).isEqualTo("true");
    assertThat(d.key()).isEqualTo(Arrays.copyOf(key, DeadLetter.MAX_KEY_BYTES));
    assertThat(text(d, DeadLetter.HEADER_KEY_BYTES)).isEqualTo(Integer.toString(3 << 20));
    assertThat(text(d, DeadLetter.HEADER_KEY_TRUNCATED)).isEqualTo("true");
    // headers in order while they fit 64 KiB: pts-ms, then 15 of 4 KiB (+ name + 8 each);
    // later small ones still fit
    assertThat(text(d, Topics.HEADER_PTS_MS)).isEqualTo("1500");
    assertThat(d.headers().lastHeader("h14")).isNotNull();
    assertThat(d.headers().lastHeader("h15")).isNull();
    assertThat(text(d, "after-the-big-ones")).isEqualTo("small");
    assertThat(text(d, DeadLetter.HEADER_HEADERS_DROPPED)).startsWith("1985 of 2002 (").contains("h15, h16");
    assertThat(d.headers().lastHeader(DeadLetter.HEADER_HEADERS_DROPPED).value().length).isLessThanOrEqualTo(1024);
    // the reason is cut at a character boundary (é is 2 bytes; 4 KiB - 3 bytes of … is odd)
    byte[] r = d.headers().lastHeader(DeadLetter.HEADER_REASON).value();
    assertThat(r.length).isLessThanOrEqualTo(DeadLetter.MAX_REASON_BYTES);
    assertThat(text(d, DeadLetter.HEADER_REASON)).matches("é{2046}…");
    // and the original is always found
    assertThat(text(d, DeadLetter.HEADER_TOPIC)).isEqualTo("t.frames");
    assertThat(text(d, DeadLetter.HEADER_PARTITION)).isEqualTo("3");
    assertThat(text(d, DeadLetter.HEADER_OFFSET)).isEqualTo("41");
  }

  @Test
  void many_tiny_headers_count_against_the_header_budget() {
    RecordHeaders h = new RecordHeaders();
    for (int i = 0; i < 200_000; i++) {
      h.add("", new byte[0]); // 8 bytes each as counted: 8,192 fit 64 KiB
    }
    ProducerRecord<byte[], byte[]> d = DeadLetter.of(TOPICS, "featurizer", record(null, null, h), "r");
    int copied = 0;
    for (Header x : d.headers()) {
      if (x.key().isEmpty()) {
        copied++;
      }
    }
    assertThat(copied).isEqualTo(8_192);
    assertThat(text(d, DeadLetter.HEADER_HEADERS_DROPPED)).startsWith("191808 of 200000 (1534464 bytes): ");
    assertThat(serializedUpperBound(d)).isLessThanOrEqualTo(DeadLetter.MAX_RECORD_BYTES);
  }

  @Test
  void a_headers_only_dead_letter_keeps_the_lengths_and_where_the_original_is_in_under_1_KiB() {
    RecordHeaders h = new RecordHeaders();
    h.add(Topics.HEADER_PTS_MS, "1500".getBytes(StandardCharsets.US_ASCII));
    h.add("blob", junk(100_000, 5));
    ProducerRecord<byte[], byte[]> d = DeadLetter.headersOnly(TOPICS, "featurizer",
        record("cam".getBytes(StandardCharsets.UTF_8), junk(8_388_500, 6), h), "x".repeat(10_000));

    assertThat(d.key()).isEmpty();
    assertThat(d.value()).isEmpty();
    assertThat(text(d, DeadLetter.HEADER_KEY_BYTES)).isEqualTo("3");
    assertThat(text(d, DeadLetter.HEADER_KEY_TRUNCATED)).isEqualTo("true");
    assertThat(text(d, DeadLetter.HEADER_VALUE_BYTES)).isEqualTo("8388500");
    assertThat(text(d, DeadLetter.HEADER_VALUE_TRUNCATED)).isEqualTo("true");
    assertThat(d.headers().lastHeader(Topics.HEADER_PTS_MS)).isNull();
    assertThat(text(d, DeadLetter.HEADER_HEADERS_DROPPED)).isEqualTo("2 of 2 (headers-only dead letter)");
    assertThat(text(d, DeadLetter.HEADER_REASON)).hasSize(DeadLetter.MAX_HEADERS_ONLY_REASON_BYTES - 2); // 509 x + …
    assertThat(text(d, DeadLetter.HEADER_TOPIC)).isEqualTo("t.frames");
    assertThat(text(d, DeadLetter.HEADER_PARTITION)).isEqualTo("3");
    assertThat(text(d, DeadLetter.HEADER_OFFSET)).isEqualTo("41");
    assertThat(d.timestamp()).isEqualTo(1_700_000_000_123L);
    assertThat(serializedUpperBound(d)).isLessThan(1024);
  }
}
