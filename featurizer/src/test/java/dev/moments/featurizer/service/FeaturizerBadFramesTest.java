package dev.moments.featurizer.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.ImageEncoder;
import dev.moments.topics.DeadLetter;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 9 points 2, 3 and 6 at the featurizer: every record of {@code <prefix>.frames}, whatever it
 * holds, becomes a feature, an end-of-stream mark, a dead letter that fits the dead-letter topic,
 * or (when not even a headers-only dead letter is accepted) a counted, logged skip; and none of
 * them stops the others. Real broker, real encoder; each run waits until the group's committed
 * offsets reach the end of every frames partition, so "nothing stalls" is what ends the wait.
 */
class FeaturizerBadFramesTest {
  private static final long T0 = 1_700_000_000_000L;
  /** The issue's frame: accepted by the 8 MiB frames topic, its dead-letter copy was not. */
  private static final int ISSUE_JUNK_BYTES = 8_388_500;
  /** A stock broker's (and its topics') default {@code max.message.bytes}. */
  private static final String STOCK_MAX_MESSAGE_BYTES = "1048588";
  private static ImageEncoder encoder;

  @BeforeAll
  static void load() {
    encoder = Encoders.loadImage(Encoders.defaultDir());
  }

  @AfterAll
  static void close() {
    encoder.close();
  }

  // ---------------------------------------------------------------------------------------------
  // (a) the issue's 8,388,500-byte frame among 4 streams on 4 partitions

  @Test
  void an_8_MiB_junk_frame_becomes_a_capped_dead_letter_that_finds_the_original_and_no_partition_stalls()
      throws Exception {
    Topics topics = new Topics(KafkaFixture.uniquePrefix("feat-big"));
    TopicAdmin.ensureTopics(KafkaFixture.bootstrapServers(), topics, 4, (short) 1);
    List<Frame> frames = new ArrayList<>();
    byte[] junk = junk(ISSUE_JUNK_BYTES, 9);
    for (int f = 0; f < 6; f++) {
      for (int s = 0; s < 4; s++) {
        frames.add(Frame.good("cam-" + s, s, s, f));
      }
      if (f == 2) {
        frames.add(new Frame("8 MiB junk", utf8("cam-2"), junk, new RecordHeaders(), 2));
      }
    }

    Run run = run(topics, frames, 8);

    assertThat(run.stats).isEqualTo(new FeaturizerService.Stats(25, 24, 1, run.stats.batches(), 0, 0));
    for (int s = 0; s < 4; s++) {
      String stream = "cam-" + s;
      List<ConsumerRecord<byte[], byte[]>> mine = run.featuresOf(stream);
      // every good frame of every stream, in order, on its partition
      assertThat(mine).extracting(ConsumerRecord::timestamp).containsExactlyElementsOf(
          run.sentTimestamps(fr -> fr.key != null && new String(fr.key, StandardCharsets.UTF_8).equals(stream)
              && fr.kind.equals("good")));
    }
    assertThat(run.dead).hasSize(1);
    ConsumerRecord<byte[], byte[]> d = run.dead.get(0);
    RecordMetadata original = run.metadataOf("8 MiB junk");
    assertThat(DeadLetter.header(d.headers(), DeadLetter.HEADER_TOPIC)).isEqualTo(topics.frames().name());
    assertThat(DeadLetter.header(d.headers(), DeadLetter.HEADER_PARTITION)).isEqualTo(Integer.toString(original.partition()));
    assertThat(DeadLetter.header(d.headers(), DeadLetter.HEADER_OFFSET)).isEqualTo(Long.toString(original.offset()));
    assertThat(original.partition()).isEqualTo(2);
    assertThat(new String(d.key(), StandardCharsets.UTF_8)).isEqualTo("cam-2");
    assertThat(d.value()).isEqualTo(Arrays.copyOf(junk, DeadLetter.MAX_VALUE_BYTES));
    assertThat(DeadLetter.header(d.headers(), DeadLetter.HEADER_VALUE_BYTES)).isEqualTo("8388500");
    assertThat(DeadLetter.header(d.headers(), DeadLetter.HEADER_VALUE_TRUNCATED)).isEqualTo("true");
    assertThat(DeadLetter.header(d.headers(), DeadLetter.HEADER_REASON))
        .isEqualTo("undecodable frame: 8388500 bytes are not a JPEG (or other ImageIO) image");
    assertThat(d.timestamp()).isEqualTo(run.timestampOf("8 MiB junk"));
  }

  // ---------------------------------------------------------------------------------------------
  // (b) the same on topics with a stock broker's limits

  @Test
  void a_1_MB_junk_frame_on_topics_with_stock_limits_becomes_a_capped_dead_letter() throws Exception {
    Topics topics = new Topics(KafkaFixture.uniquePrefix("feat-stock"));
    // as a user would make them with kafka-topics.sh on a stock broker: 1 MB records everywhere
    createTopics(topics, 2, Map.of(
        topics.frames().name(), Map.of("max.message.bytes", STOCK_MAX_MESSAGE_BYTES),
        topics.features().name(), Map.of("max.message.bytes", STOCK_MAX_MESSAGE_BYTES),
        topics.deadLetter().name(), Map.of("max.message.bytes", STOCK_MAX_MESSAGE_BYTES)));
    // the largest value the stock frames topic takes with a 5-byte key: its uncut copy plus the
    // dlq-* headers would not fit the stock dead-letter topic
    byte[] junk = junk(1_048_500, 10);
    List<Frame> frames = new ArrayList<>();
    for (int f = 0; f < 5; f++) {
      frames.add(Frame.good("cam-0", 0, 0, f));
      frames.add(Frame.good("cam-1", 1, 1, f));
      if (f == 1) {
        frames.add(new Frame("1 MB junk", utf8("cam-1"), junk, new RecordHeaders(), 1));
      }
    }

    Run run = run(topics, frames, 4);

    assertThat(run.stats).isEqualTo(new FeaturizerService.Stats(11, 10, 1, run.stats.batches(), 0, 0));
    assertThat(run.features).hasSize(10);
    assertThat(run.dead).hasSize(1);
    ConsumerRecord<byte[], byte[]> d = run.dead.get(0);
    assertThat(d.value()).isEqualTo(Arrays.copyOf(junk, DeadLetter.MAX_VALUE_BYTES));
    assertThat(DeadLetter.header(d.headers(), DeadLetter.HEADER_VALUE_BYTES)).isEqualTo("1048500");
    assertThat(DeadLetter.header(d.headers(), DeadLetter.HEADER_OFFSET))
        .isEqualTo(Long.toString(run.metadataOf("1 MB junk").offset()));
    assertThat(DeadLetter.header(d.headers(), DeadLetter.HEADER_PARTITION)).isEqualTo("1");
    run.printTable("1 MB junk on topics with stock limits (max.message.bytes 1048588)");
  }

  // ---------------------------------------------------------------------------------------------
  // (c) a dead-letter topic that rejects even the capped copy, or even a headers-only one

  @Test
  void a_dead_letter_topic_of_2000_byte_records_gets_a_headers_only_dead_letter_of_the_big_frame() throws Exception {
    Topics topics = new Topics(KafkaFixture.uniquePrefix("feat-dlq2k"));
    createTopics(topics, 2, Map.of(
        topics.frames().name(), Map.of("max.message.bytes", Integer.toString(TopicAdmin.MAX_FRAME_BYTES)),
        topics.deadLetter().name(), Map.of("max.message.bytes", "2000")));
    byte[] junk = junk(ISSUE_JUNK_BYTES, 11);
    List<Frame> frames = new ArrayList<>();
    for (int f = 0; f < 4; f++) {
      frames.add(Frame.good("cam-0", 0, 0, f));
      frames.add(Frame.good("cam-1", 1, 1, f));
      if (f == 1) {
        frames.add(new Frame("8 MiB junk", utf8("cam-0"), junk, new RecordHeaders(), 0));
        frames.add(new Frame("non-image bytes", utf8("cam-1"), utf8("this is not a jpeg"), new RecordHeaders(), 1));
      }
    }

    Run run = run(topics, frames, 4);

    assertThat(run.stats).isEqualTo(new FeaturizerService.Stats(10, 8, 2, run.stats.batches(), 0, 0));
    assertThat(run.features).hasSize(8);
    ConsumerRecord<byte[], byte[]> small = run.deadLetterOf("non-image bytes");
    assertThat(new String(small.value(), StandardCharsets.UTF_8)).isEqualTo("this is not a jpeg"); // fits 2000 B
    ConsumerRecord<byte[], byte[]> big = run.deadLetterOf("8 MiB junk");
    assertThat(big.value()).isEmpty();
    assertThat(big.key()).isEmpty();
    assertThat(DeadLetter.header(big.headers(), DeadLetter.HEADER_VALUE_BYTES)).isEqualTo("8388500");
    assertThat(DeadLetter.header(big.headers(), DeadLetter.HEADER_KEY_BYTES)).isEqualTo("5");
    assertThat(DeadLetter.header(big.headers(), DeadLetter.HEADER_REASON))
        .startsWith("undecodable frame: 8388500 bytes are not a JPEG")
        .contains("; the dead letter with the payload was rejected: cannot write to " + topics.deadLetter().name()
            + ": org.apache.kafka.common.errors.RecordTooLargeException");
    run.printTable("dead-letter topic with max.message.bytes 2000");
  }

  @Test
  void a_dead_letter_topic_that_takes_no_record_costs_only_the_bad_frames_counted_as_lost() throws Exception {
    Topics topics = new Topics(KafkaFixture.uniquePrefix("feat-dlq100"));
    createTopics(topics, 2, Map.of(
        topics.frames().name(), Map.of("max.message.bytes", Integer.toString(TopicAdmin.MAX_FRAME_BYTES)),
        topics.deadLetter().name(), Map.of("max.message.bytes", "100")));
    List<Frame> frames = new ArrayList<>();
    for (int f = 0; f < 4; f++) {
      frames.add(Frame.good("cam-0", 0, 0, f));
      frames.add(Frame.good("cam-1", 1, 1, f));
      if (f == 1) {
        frames.add(new Frame("8 MiB junk", utf8("cam-0"), junk(ISSUE_JUNK_BYTES, 12), new RecordHeaders(), 0));
        frames.add(new Frame("non-image bytes", utf8("cam-1"), utf8("this is not a jpeg"), new RecordHeaders(), 1));
        // two refused dead letters in one transaction: which record failed is ambiguous, so
        // the batch is written one record per transaction
        frames.add(new Frame("JPEG cut to 100 bytes", utf8("cam-1"), Arrays.copyOf(FeaturizerServiceTest.jpeg(1, 1), 100),
            new RecordHeaders(), 1));
      }
    }

    Run run = run(topics, frames, 32);

    assertThat(run.stats).isEqualTo(new FeaturizerService.Stats(11, 8, 0, run.stats.batches(), 0, 3));
    assertThat(run.dead).isEmpty();
    for (String stream : List.of("cam-0", "cam-1")) {
      assertThat(run.featuresOf(stream)).extracting(ConsumerRecord::timestamp).containsExactlyElementsOf(
          run.sentTimestamps(fr -> fr.kind.equals("good") && new String(fr.key, StandardCharsets.UTF_8).equals(stream)));
    }
    run.printTable("dead-letter topic with max.message.bytes 100");
  }

  @Test
  void a_feature_the_producer_refuses_becomes_a_dead_letter_and_the_frames_batched_with_it_stay_features()
      throws Exception {
    Topics topics = new Topics(KafkaFixture.uniquePrefix("feat-bigkey"));
    // an operator's frames topic that takes 16 MiB records
    createTopics(topics, 4, Map.of(topics.frames().name(), Map.of("max.message.bytes", Integer.toString(16 << 20))));
    // a valid JPEG under a 9.5 MiB stream id: its feature is larger than the featurizer's
    // producer sends (max.request.size 9 MiB), refused before it reaches the broker. The producer
    // may then fail the frames batched before it, when still waiting in its buffer, with the same
    // RecordTooLargeException: they must not be taken for culprits.
    byte[] hugeKey = new byte[9_961_472];
    Arrays.fill(hugeKey, (byte) 'k');
    List<Frame> frames = new ArrayList<>();
    for (int f = 0; f < 4; f++) {
      for (int s = 0; s < 4; s++) {
        frames.add(Frame.good("cam-" + s, s, s, f));
      }
    }
    frames.add(new Frame("9.5 MiB key", hugeKey, FeaturizerServiceTest.jpeg(1, 1), new RecordHeaders(), 3));
    for (int s = 0; s < 4; s++) {
      frames.add(Frame.good("cam-" + s, s, s, 4));
    }

    Run run = run(topics, frames, 32);

    assertThat(run.stats).isEqualTo(new FeaturizerService.Stats(21, 20, 1, run.stats.batches(), 0, 0));
    for (int s = 0; s < 4; s++) {
      String stream = "cam-" + s;
      assertThat(run.featuresOf(stream)).extracting(ConsumerRecord::timestamp).containsExactlyElementsOf(
          run.sentTimestamps(fr -> fr.kind.equals("good") && new String(fr.key, StandardCharsets.UTF_8).equals(stream)));
    }
    ConsumerRecord<byte[], byte[]> d = run.deadLetterOf("9.5 MiB key");
    assertThat(d.key()).isEqualTo(Arrays.copyOf(hugeKey, DeadLetter.MAX_KEY_BYTES));
    assertThat(DeadLetter.header(d.headers(), DeadLetter.HEADER_KEY_BYTES)).isEqualTo("9961472");
    assertThat(d.value()).isEqualTo(FeaturizerServiceTest.jpeg(1, 1));
    assertThat(DeadLetter.header(d.headers(), DeadLetter.HEADER_REASON))
        .startsWith("cannot write to " + topics.features().name()
            + ": org.apache.kafka.common.errors.RecordTooLargeException: The message is ");
    run.printTable("a 9.5 MiB stream id on a 16 MiB frames topic");
  }

  // ---------------------------------------------------------------------------------------------
  // (e) end-of-stream marks

  @Test
  void an_end_of_stream_mark_follows_its_streams_features_in_order_and_other_streams_go_on() throws Exception {
    Topics topics = new Topics(KafkaFixture.uniquePrefix("feat-eos"));
    TopicAdmin.ensureTopics(KafkaFixture.bootstrapServers(), topics, 2, (short) 1);
    List<Frame> frames = new ArrayList<>();
    // A and B share partition 0, interleaved; the mark ends A's first run of frames
    for (int f = 0; f < 3; f++) {
      frames.add(Frame.good("A", 0, 0, f));
      frames.add(Frame.good("B", 1, 0, f));
    }
    frames.add(Frame.mark("mark", utf8("A"), 0, "eof"));
    frames.add(Frame.good("B", 1, 0, 3));
    frames.add(Frame.good("A", 0, 0, 3)); // A goes on after its mark
    frames.add(Frame.good("B", 1, 0, 4));
    frames.add(Frame.mark("mark, no key", null, 1, "eof"));
    frames.add(Frame.mark("mark, empty key", new byte[0], 1, "stopped"));

    Run run = run(topics, frames, 4);

    assertThat(run.stats).isEqualTo(new FeaturizerService.Stats(12, 9, 2, run.stats.batches(), 1, 0));
    List<ConsumerRecord<byte[], byte[]>> a = run.featuresOf("A");
    assertThat(a).extracting(ConsumerRecord::timestamp).containsExactly(
        run.sent.get(0).timestamp, run.sent.get(2).timestamp, run.sent.get(4).timestamp,
        run.timestampOf("mark"), run.sent.get(8).timestamp);
    ConsumerRecord<byte[], byte[]> mark = a.get(3);
    assertThat(mark.value()).isNull();
    assertThat(DeadLetter.header(mark.headers(), Topics.HEADER_END_OF_STREAM)).isEqualTo("eof");
    assertThat(DeadLetter.header(mark.headers(), Topics.HEADER_PTS_MS)).isEqualTo("1000"); // the mark's own
    assertThat(Topics.isEndOfStream(a.get(2).headers())).isFalse();
    assertThat(FeatureRecord.fromBytes(a.get(4).value()).dim()).isEqualTo(64);
    List<ConsumerRecord<byte[], byte[]>> b = run.featuresOf("B");
    assertThat(b).hasSize(5).allSatisfy(r -> {
      assertThat(r.value()).isNotNull();
      assertThat(Topics.isEndOfStream(r.headers())).isFalse();
    });
    assertThat(DeadLetter.header(run.deadLetterOf("mark, no key").headers(), DeadLetter.HEADER_REASON))
        .isEqualTo("end-of-stream mark has no key (the stream id)");
    assertThat(DeadLetter.header(run.deadLetterOf("mark, empty key").headers(), DeadLetter.HEADER_REASON))
        .isEqualTo("end-of-stream mark has an empty key (the stream id)");
    run.printTable("end-of-stream marks");
  }

  // ---------------------------------------------------------------------------------------------
  // (d) and the table: every kind of bad frame in one run

  @Test
  void every_kind_of_bad_frame_is_dead_lettered_and_frames_in_equal_features_plus_dead_letters_plus_marks()
      throws Exception {
    Topics topics = new Topics(KafkaFixture.uniquePrefix("feat-table"));
    TopicAdmin.ensureTopics(KafkaFixture.bootstrapServers(), topics, 4, (short) 1);
    byte[] good = FeaturizerServiceTest.jpeg(0, 3);
    List<Frame> frames = new ArrayList<>();
    int n = 0;
    for (int f = 0; f < 4; f++) {
      for (int s = 0; s < 3; s++) {
        frames.add(Frame.good("cam-" + s, s, s, f));
        n++;
      }
      if (f == 1) {
        frames.add(new Frame("no key", null, good, new RecordHeaders(), 3));
        frames.add(new Frame("empty key", new byte[0], good, new RecordHeaders(), 3));
        frames.add(new Frame("empty value", utf8("cam-0"), new byte[0], new RecordHeaders(), 0));
        frames.add(new Frame("null value", utf8("cam-0"), null, new RecordHeaders(), 0));
        frames.add(new Frame("non-image bytes", utf8("cam-1"), utf8("this is not a jpeg"), new RecordHeaders(), 1));
        frames.add(new Frame("JPEG cut to 100 bytes", utf8("cam-1"), Arrays.copyOf(good, 100), new RecordHeaders(), 1));
        frames.add(new Frame("JPEG cut in half", utf8("cam-2"), Arrays.copyOf(good, good.length / 2), new RecordHeaders(), 2));
        frames.add(new Frame("JPEG cut at 3/4", utf8("cam-2"), Arrays.copyOf(good, good.length * 3 / 4), new RecordHeaders(), 2));
        frames.add(new Frame("8,388,500 B junk", utf8("cam-2"), junk(ISSUE_JUNK_BYTES, 13), new RecordHeaders(), 2));
        frames.add(new Frame("PNG", utf8("cam-0"), png(), new RecordHeaders(), 0));
        frames.add(Frame.mark("end-of-stream mark", utf8("cam-1"), 1, "eof"));
      }
    }

    Run run = run(topics, frames, 8);
    run.printTable("every kind of frame, topics created by Moments (frames 8 MiB)");

    Map<String, String> outcome = new LinkedHashMap<>();
    for (Frame fr : run.sent) {
      outcome.putIfAbsent(fr.kind, run.outcomeOf(fr));
    }
    assertThat(outcome).containsExactly(
        Map.entry("good", "feature"),
        Map.entry("no key", "dead letter: frame has no key (the stream id)"),
        Map.entry("empty key", "dead letter: frame has an empty key (the stream id)"),
        Map.entry("empty value", "dead letter: empty frame value (expected a JPEG image)"),
        Map.entry("null value", "dead letter: empty frame value (expected a JPEG image)"),
        Map.entry("non-image bytes", "dead letter: undecodable frame: 18 bytes are not a JPEG (or other ImageIO) image"),
        Map.entry("JPEG cut to 100 bytes", "dead letter: undecodable JPEG: No image data present to read"),
        // the 1,204-byte JPEG's scan data starts at byte 609, past its middle
        Map.entry("JPEG cut in half", "dead letter: undecodable JPEG: Invalid JPEG file structure: missing SOS marker"),
        // NOTE: cut inside its scan data, a JPEG decodes with the missing rows gray (ImageIO only
        // warns "Corrupt JPEG data: premature end of data segment"), and becomes a feature
        Map.entry("JPEG cut at 3/4", "feature"),
        Map.entry("8,388,500 B junk", "dead letter: undecodable frame: 8388500 bytes are not a JPEG (or other ImageIO) image"),
        Map.entry("PNG", "feature"),
        Map.entry("end-of-stream mark", "end-of-stream mark"));
    // the empty key is no stream "": no feature has an empty key
    assertThat(run.features).allSatisfy(r -> assertThat(r.key()).isNotEmpty());
    long features = run.features.stream().filter(r -> r.value() != null).count();
    long marks = run.features.size() - features;
    assertThat(run.sent.size()).isEqualTo(n + 11);
    assertThat(run.stats.frames()).isEqualTo(run.sent.size());
    assertThat(run.stats.frames()).isEqualTo(run.stats.features() + run.stats.deadLetters() + run.stats.marks()
        + run.stats.deadLettersLost());
    assertThat(new long[] {run.stats.features(), run.stats.deadLetters(), run.stats.marks()})
        .containsExactly(features, run.dead.size(), marks);
    assertThat(run.stats.deadLettersLost()).isZero();
  }

  // ---------------------------------------------------------------------------------------------
  // harness

  /** One record sent to the frames topic, and where it landed. */
  private static final class Frame {
    final String kind;
    final byte[] key;
    final byte[] value;
    final RecordHeaders headers;
    final int partition;
    long timestamp;
    RecordMetadata metadata;

    Frame(String kind, byte[] key, byte[] value, RecordHeaders headers, int partition) {
      this.kind = kind;
      this.key = key;
      this.value = value;
      this.headers = headers;
      this.partition = partition;
    }

    static Frame good(String stream, int look, int partition, int f) throws IOException {
      RecordHeaders h = new RecordHeaders();
      h.add(Topics.HEADER_PTS_MS, utf8(Integer.toString(f * 500)));
      return new Frame("good", utf8(stream), FeaturizerServiceTest.jpeg(look % 2, f + look), h, partition);
    }

    static Frame mark(String kind, byte[] key, int partition, String why) {
      RecordHeaders h = new RecordHeaders();
      h.add(Topics.HEADER_END_OF_STREAM, utf8(why));
      h.add(Topics.HEADER_PTS_MS, utf8("1000"));
      return new Frame(kind, key, null, h, partition);
    }
  }

  /** What came out of one featurizer run over {@code sent}. */
  private static final class Run {
    final List<Frame> sent;
    final FeaturizerService.Stats stats;
    final List<ConsumerRecord<byte[], byte[]>> features;
    final List<ConsumerRecord<byte[], byte[]>> dead;

    Run(List<Frame> sent, FeaturizerService.Stats stats, List<ConsumerRecord<byte[], byte[]>> features,
        List<ConsumerRecord<byte[], byte[]>> dead) {
      this.sent = sent;
      this.stats = stats;
      this.features = features;
      this.dead = dead;
    }

    Frame frame(String kind) {
      return sent.stream().filter(f -> f.kind.equals(kind)).findFirst().orElseThrow();
    }

    RecordMetadata metadataOf(String kind) {
      return frame(kind).metadata;
    }

    long timestampOf(String kind) {
      return frame(kind).timestamp;
    }

    List<Long> sentTimestamps(java.util.function.Predicate<Frame> which) {
      return sent.stream().filter(which).map(f -> f.timestamp).toList();
    }

    List<ConsumerRecord<byte[], byte[]>> featuresOf(String stream) {
      return features.stream().filter(r -> r.key() != null && new String(r.key(), StandardCharsets.UTF_8).equals(stream))
          .toList();
    }

    ConsumerRecord<byte[], byte[]> deadLetterOf(String kind) {
      List<ConsumerRecord<byte[], byte[]>> found = deadLettersOf(frame(kind));
      assertThat(found).as("dead letters of %s", kind).hasSize(1);
      return found.get(0);
    }

    List<ConsumerRecord<byte[], byte[]>> deadLettersOf(Frame f) {
      return dead.stream().filter(d -> Integer.toString(f.metadata.partition())
              .equals(DeadLetter.header(d.headers(), DeadLetter.HEADER_PARTITION))
          && Long.toString(f.metadata.offset()).equals(DeadLetter.header(d.headers(), DeadLetter.HEADER_OFFSET)))
          .toList();
    }

    /** Where one frame went: found by its unique timestamp (features, marks) or offset (dead letters). */
    String outcomeOf(Frame f) {
      List<String> out = new ArrayList<>();
      for (ConsumerRecord<byte[], byte[]> r : features) {
        if (r.timestamp() == f.timestamp && r.partition() >= 0) {
          out.add(r.value() == null ? "end-of-stream mark" : "feature");
        }
      }
      for (ConsumerRecord<byte[], byte[]> d : deadLettersOf(f)) {
        out.add("dead letter: " + DeadLetter.header(d.headers(), DeadLetter.HEADER_REASON));
      }
      return out.isEmpty() ? "lost" : String.join(" + ", out);
    }

    void printTable(String title) {
      Map<String, long[]> rows = new LinkedHashMap<>();
      Map<String, String> reasons = new HashMap<>();
      Map<String, Long> bytes = new HashMap<>();
      for (Frame f : sent) {
        long[] row = rows.computeIfAbsent(f.kind, k -> new long[5]);
        String o = outcomeOf(f);
        row[0]++;
        if (o.equals("feature")) {
          row[1]++;
        } else if (o.startsWith("dead letter")) {
          row[2]++;
          reasons.put(f.kind, o.substring("dead letter: ".length()));
        } else if (o.equals("end-of-stream mark")) {
          row[3]++;
        } else if (o.equals("lost")) {
          row[4]++;
        }
        bytes.put(f.kind, (long) (f.value == null ? 0 : f.value.length));
      }
      StringBuilder b = new StringBuilder("\nbad-frame table: " + title + "\n");
      b.append(String.format(Locale.ROOT, "%-24s %10s %4s %8s %5s %5s %4s  %s%n",
          "kind", "value B", "in", "features", "dead", "marks", "lost", "dead-letter reason"));
      long[] total = new long[5];
      rows.forEach((kind, row) -> {
        b.append(String.format(Locale.ROOT, "%-24s %10d %4d %8d %5d %5d %4d  %s%n", kind, bytes.get(kind),
            row[0], row[1], row[2], row[3], row[4], reasons.getOrDefault(kind, "")));
        for (int i = 0; i < 5; i++) {
          total[i] += row[i];
        }
      });
      b.append(String.format(Locale.ROOT, "%-24s %10s %4d %8d %5d %5d %4d%n", "total", "", total[0], total[1],
          total[2], total[3], total[4]));
      b.append("service stats: ").append(stats).append('\n');
      System.out.print(b);
      // frames in = features out + dead letters + marks + lost, by the topics and by the counters
      assertThat(total[0]).isEqualTo(total[1] + total[2] + total[3] + total[4]);
      assertThat(features).hasSize((int) (total[1] + total[3]));
      assertThat(dead).hasSize((int) total[2]);
      assertThat(new long[] {stats.frames(), stats.features(), stats.deadLetters(), stats.marks(), stats.deadLettersLost()})
          .containsExactly(total);
    }
  }

  /**
   * Sends {@code frames} (each with its own timestamp) with a plain producer, runs a featurizer
   * until its group has committed every frames partition to its end, and reads back all of the
   * features and dead-letter topics.
   */
  private static Run run(Topics topics, List<Frame> frames, int maxBatch) throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    pp.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 17 * 1024 * 1024);
    pp.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024);
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
      List<java.util.concurrent.Future<RecordMetadata>> futures = new ArrayList<>();
      for (int i = 0; i < frames.size(); i++) {
        Frame f = frames.get(i);
        f.timestamp = T0 + i * 100L;
        futures.add(p.send(new ProducerRecord<>(topics.frames().name(), f.partition, f.timestamp, f.key, f.value,
            f.headers)));
      }
      p.flush();
      for (int i = 0; i < frames.size(); i++) {
        frames.get(i).metadata = futures.get(i).get(30, TimeUnit.SECONDS);
      }
    }

    FeaturizerConfig config = FeaturizerConfig.defaults(bootstrap, topics)
        .withGroup("g-" + topics.prefix())
        .withBatching(maxBatch, Duration.ofMillis(30));
    FeaturizerService.Stats stats;
    try (FeaturizerService service = new FeaturizerService(config, encoder);
        Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      service.start();
      Map<TopicPartition, Long> ends = endOffsets(admin, topics.frames().name());
      Patience.await("the featurizer to commit every frames partition to its end " + ends, Duration.ofMillis(200), () -> {
        assertThat(service.failure()).isNull();
        return committed(admin, config.groupId()).equals(ends);
      });
      // close() joins the thread: only then are the counters final
      service.close();
      stats = service.stats();
      assertThat(service.failure()).isNull();
    }
    return new Run(frames, stats, readAll(bootstrap, topics.features().name()), readAll(bootstrap, topics.deadLetter().name()));
  }

  private static void createTopics(Topics topics, int partitions, Map<String, Map<String, String>> configs) {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", KafkaFixture.bootstrapServers()))) {
      List<NewTopic> all = new ArrayList<>();
      for (String name : topics.names()) {
        all.add(new NewTopic(name, partitions, (short) 1).configs(configs.getOrDefault(name, Map.of())));
      }
      admin.createTopics(all).all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create topics: " + e, e);
    }
    // creates nothing (all exist), and waits until every partition's leader serves
    assertThat(TopicAdmin.ensureTopics(KafkaFixture.bootstrapServers(), topics, partitions, (short) 1)).isEmpty();
  }

  private static Map<TopicPartition, Long> endOffsets(Admin admin, String topic) throws Exception {
    Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
    for (var p : admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions()) {
      specs.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
    }
    Map<TopicPartition, Long> ends = new HashMap<>();
    admin.listOffsets(specs).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> {
      if (info.offset() > 0) {
        ends.put(tp, info.offset());
      }
    });
    return ends;
  }

  private static Map<TopicPartition, Long> committed(Admin admin, String group) {
    try {
      Map<TopicPartition, Long> out = new HashMap<>();
      admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
          .forEach((tp, om) -> {
            if (om != null) {
              out.put(tp, om.offset());
            }
          });
      return out;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every committed record of {@code topic}, in partition order. */
  private static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, String topic) throws Exception {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      Map<TopicPartition, Long> ends = endOffsets(admin, topic);
      List<TopicPartition> parts = new ArrayList<>(ends.keySet());
      parts.sort(java.util.Comparator.comparingInt(TopicPartition::partition));
      if (parts.isEmpty()) {
        return out;
      }
      c.assign(parts);
      c.seekToBeginning(parts);
      // the end offset is past the last transaction marker, which read_committed skips
      Patience.await(topic + " read to its end " + ends, Duration.ofMillis(1), () -> {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
        return parts.stream().allMatch(tp -> c.position(tp) >= ends.get(tp));
      });
    }
    out.sort(java.util.Comparator.<ConsumerRecord<byte[], byte[]>>comparingInt(ConsumerRecord::partition)
        .thenComparingLong(ConsumerRecord::offset));
    return out;
  }

  private static byte[] junk(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] png() throws IOException {
    BufferedImage img = new BufferedImage(96, 72, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(new Color(10, 200, 120));
    g.fillRect(0, 0, 96, 72);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
