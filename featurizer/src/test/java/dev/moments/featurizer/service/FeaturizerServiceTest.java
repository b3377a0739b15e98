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
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Acceptance 3: frames pushed by a plain third-party KafkaProducer come out as features. */
class FeaturizerServiceTest {
  private static final long T0 = 1_700_000_000_000L;
  private static ImageEncoder encoder;

  @BeforeAll
  static void load() {
    encoder = Encoders.loadImage(Encoders.defaultDir());
  }

  @AfterAll
  static void close() {
    encoder.close();
  }

  /** A 96x72 frame that differs with the stream and the frame number. */
  static byte[] jpeg(int stream, int frame) throws IOException {
    BufferedImage img = new BufferedImage(96, 72, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(new Color(stream == 0 ? 30 : 220, 40 + frame * 9, 90));
    g.fillRect(0, 0, 96, 72);
    g.setColor(new Color(250, 250, 20 + frame * 11));
    g.fillOval(frame * 4, 10 + stream * 20, 30, 30);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "jpg", out);
    return out.toByteArray();
  }

  @Test
  void frames_from_a_plain_kafka_producer_become_features_in_order_with_bad_frames_dead_lettered()
      throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("featurizer"));
    TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
    String[] streams = {"kitchen-cam", "hall-cam"};
    int perStream = 20;
    Map<String, List<byte[]>> sent = new HashMap<>();

    // A third-party client: String keys, byte[] JPEG values, text pts-ms header, own timestamps.
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(pp, new StringSerializer(), new ByteArraySerializer())) {
      for (int f = 0; f < perStream; f++) {
        for (int s = 0; s < streams.length; s++) {
          byte[] jpeg = jpeg(s, f);
          sent.computeIfAbsent(streams[s], k -> new ArrayList<>()).add(jpeg);
          RecordHeaders h = new RecordHeaders();
          h.add(Topics.HEADER_PTS_MS, Integer.toString(f * 500).getBytes(StandardCharsets.US_ASCII));
          p.send(new ProducerRecord<>(topics.frames().name(), null, T0 + s * 7 + f * 500L, streams[s], jpeg, h));
        }
        if (f == 5) {
          // An undecodable frame in the middle of a stream; the stream must go on after it.
          p.send(new ProducerRecord<>(topics.frames().name(), null, T0 + 2_750L, streams[0],
              "this is not a jpeg".getBytes(StandardCharsets.US_ASCII)));
        }
      }
      p.flush();
    }

    FeaturizerConfig config = FeaturizerConfig.defaults(bootstrap, topics)
        .withGroup("g-" + topics.prefix())
        .withBatching(8, Duration.ofMillis(30));
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    List<ConsumerRecord<byte[], byte[]>> dead = new ArrayList<>();
    try (FeaturizerService service = new FeaturizerService(config, encoder)) {
      service.start();
      try (KafkaConsumer<String, byte[]> c = consumer(bootstrap, new StringDeserializer());
          KafkaConsumer<byte[], byte[]> d = consumer(bootstrap, new ByteArrayDeserializer())) {
        c.subscribe(List.of(topics.features().name()));
        d.subscribe(List.of(topics.deadLetter().name()));
        long until = Patience.deadline();
        while ((out.size() < streams.length * perStream || dead.isEmpty()) && System.nanoTime() < until) {
          c.poll(Duration.ofMillis(200)).forEach(out::add);
          d.poll(Duration.ofMillis(50)).forEach(dead::add);
          assertThat(service.failure()).isNull();
        }
        if (out.size() < streams.length * perStream) {
          System.out.println(Patience.threadDump());
        }
        // Nothing more arrives (no duplicates).
        c.poll(Duration.ofMillis(500)).forEach(out::add);
      }
      // close() finishes the batch in flight and joins the thread: only then are the counters
      // final (a reader can see a committed batch before the service has counted it)
      service.close();
      assertThat(service.stats().frames()).isEqualTo(streams.length * perStream + 1);
    }

    assertThat(out).hasSize(streams.length * perStream);
    for (int s = 0; s < streams.length; s++) {
      String stream = streams[s];
      List<ConsumerRecord<String, byte[]>> mine = out.stream().filter(r -> r.key().equals(stream)).toList();
      assertThat(mine).hasSize(perStream);
      // The encoder run directly on the same JPEGs.
      List<BufferedImage> decoded = new ArrayList<>();
      for (byte[] jpeg : sent.get(stream)) {
        decoded.add(ImageIO.read(new ByteArrayInputStream(jpeg)));
      }
      float[][] direct = encoder.encode(decoded);
      for (int f = 0; f < perStream; f++) {
        ConsumerRecord<String, byte[]> r = mine.get(f);
        // Per-stream order, timestamps and pts-ms carried over.
        assertThat(r.timestamp()).isEqualTo(T0 + s * 7 + f * 500L);
        assertThat(DeadLetter.header(r.headers(), Topics.HEADER_PTS_MS)).isEqualTo(Integer.toString(f * 500));
        FeatureRecord fr = FeatureRecord.fromBytes(r.value());
        assertThat(fr.encoderId()).isEqualTo("moments-tiny-clip-v1");
        assertThat(fr.dim()).isEqualTo(64);
        for (int k = 0; k < 64; k++) {
          assertThat(fr.vector()[k]).as("stream %s frame %d component %d", stream, f, k)
              .isCloseTo(direct[f][k], org.assertj.core.data.Offset.offset(1e-5f));
        }
      }
    }

    assertThat(dead).hasSize(1);
    ConsumerRecord<byte[], byte[]> bad = dead.get(0);
    assertThat(new String(bad.key(), StandardCharsets.UTF_8)).isEqualTo("kitchen-cam");
    assertThat(new String(bad.value(), StandardCharsets.US_ASCII)).isEqualTo("this is not a jpeg");
    assertThat(DeadLetter.header(bad.headers(), DeadLetter.HEADER_STAGE)).isEqualTo("featurizer");
    assertThat(DeadLetter.header(bad.headers(), DeadLetter.HEADER_REASON)).startsWith("undecodable");
    assertThat(bad.timestamp()).isEqualTo(T0 + 2_750L);

    // Offsets were committed (with the features) up to the end of every frames partition.
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets(config.groupId()).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
      long total = committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
      // 41 frames, plus one transaction marker per committed transaction in each partition:
      // at least the frame count, and every frames partition is covered.
      assertThat(committed.keySet()).extracting(TopicPartition::partition).containsExactlyInAnyOrder(0, 1);
      assertThat(total).isGreaterThanOrEqualTo(streams.length * perStream + 1);
    }
  }

  @Test
  void a_restarted_featurizer_goes_on_where_it_committed_without_duplicates() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("featurizer-restart"));
    FeaturizerConfig config = FeaturizerConfig.defaults(bootstrap, topics)
        .withGroup("g-" + topics.prefix())
        .withBatching(4, Duration.ofMillis(20))
        .withTopicLayout(1, (short) 1);
    TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1);
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(pp, new StringSerializer(), new ByteArraySerializer());
        KafkaConsumer<String, byte[]> c = consumer(bootstrap, new StringDeserializer())) {
      c.subscribe(List.of(topics.features().name()));
      for (int round = 0; round < 2; round++) {
        for (int f = 0; f < 10; f++) {
          p.send(new ProducerRecord<>(topics.frames().name(), null, T0 + round * 10_000L + f, "cam", jpeg(round, f)));
        }
        p.flush();
        try (FeaturizerService service = new FeaturizerService(config, encoder)) {
          service.start();
          long until = Patience.deadline();
          while (out.size() < 10 * (round + 1) && System.nanoTime() < until) {
            c.poll(Duration.ofMillis(200)).forEach(out::add);
            assertThat(service.failure()).isNull();
          }
          if (out.size() < 10 * (round + 1)) {
            System.out.println(Patience.threadDump());
          }
          // The second instance of the group only sees the 10 new frames (counted once closed).
          service.close();
          assertThat(service.stats().frames()).isEqualTo(10);
        }
      }
      c.poll(Duration.ofMillis(500)).forEach(out::add);
    }
    assertThat(out).extracting(ConsumerRecord::timestamp).containsExactlyElementsOf(
        java.util.stream.LongStream.range(0, 20).map(i -> T0 + (i / 10) * 10_000L + i % 10).boxed().toList());
  }

  private static <K> KafkaConsumer<K, byte[]> consumer(String bootstrap, org.apache.kafka.common.serialization.Deserializer<K> keys) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + System.nanoTime());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return new KafkaConsumer<>(p, keys, new ByteArrayDeserializer());
  }
}
