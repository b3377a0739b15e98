package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.broker.EmbeddedBroker;
import dev.moments.broker.Patience;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DESIGN §8, "moments are a function of the frames": the whole pipeline ({@code featurize},
 * {@code index} and {@code serve}, each its own JVM as deployed, against a real broker) run once
 * cleanly and once with kill -9 of every service at awkward moments must leave the same moments.
 *
 * <p>Two streams at 2 fps, 70 s each, windows of 20 s every 10 s, lateness 2 s, idle flush 3 s;
 * frames come in chunks (a camera's pace) and each stream ends with an end-of-stream mark. The
 * faulty run kills: the indexer right before a window is due (every feature up to 11.5 s
 * processed and committed, the window ending at 10 s due at 12 s); the featurizer for longer than
 * the idle flush (the indexer flushes provisional windows, retracted when the frames go on); serve
 * while moments are written; the featurizer again in the middle of the last chunk and its marks.
 * The standing moments (moments topic read to its end: upserts by id, retractions applied) and
 * serve's index must equal the clean run's: the same ids, streams, times and windows exactly,
 * scores and embeddings within 1e-5 (two processes may round libtorch's last bits differently).
 */
class FaultMatrixTest {
  private static final long T0 = 1_767_225_600_000L; // 2026-01-01T00:00:00Z: not "now"
  private static final List<String> STREAMS = List.of("door", "desk");
  private static final int FRAMES = 140; // 70 s at 2 fps
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @Test
  void kill_9_of_featurize_index_and_serve_leaves_the_moments_of_a_clean_run() throws Exception {
    try (EmbeddedBroker kafka = EmbeddedBroker.start(tmp.resolve("kafka"), 0)) {
      String bootstrap = kafka.bootstrapServers();
      Run clean = new Run(bootstrap, "clean");
      Map<String, MomentRecord> cleanMoments;
      try {
        clean.startAll();
        clean.produce(0, FRAMES, true);
        cleanMoments = clean.awaitFinal();
      } finally {
        clean.stopAll();
      }

      Run faulty = new Run(bootstrap, "faulty");
      Map<String, MomentRecord> faultyMoments;
      try {
        faulty.startAll();
        // 1. kill -9 the indexer right before a window is due
        faulty.produce(0, 24, false); // up to 11.5 s; the window ending at 10 s is due at 12 s
        faulty.awaitFeaturesUpTo(23);
        faulty.awaitIndexerCommitted();
        faulty.kill("index");
        faulty.produce(24, 50, false); // up to 24.5 s
        faulty.start("index");
        // 2. kill -9 the featurizer for longer than the idle flush: provisional windows appear
        faulty.awaitFeaturesUpTo(49);
        faulty.kill("featurize");
        faulty.produce(50, 70, false);
        Patience.await("provisional windows of the quiet streams", Duration.ofMillis(200),
            () -> faulty.windowsSeen() >= STREAMS.size() * 3);
        // 3. kill -9 serve while the featurizer comes back and moments are written
        faulty.kill("serve");
        faulty.start("featurize");
        faulty.produce(70, 100, false);
        faulty.awaitFeaturesUpTo(99);
        faulty.start("serve");
        // 4. kill -9 the featurizer in the middle of the last chunk and the marks
        faulty.produce(100, FRAMES, true);
        faulty.kill("featurize");
        faulty.start("featurize");
        faultyMoments = faulty.awaitFinal();
      } finally {
        faulty.stopAll();
      }

      System.out.printf(Locale.ROOT,
          "fault matrix      | features | moment records | retractions | standing moments | windows%n"
              + "clean             | %8d | %14d | %11d | %16d | %7d%n"
              + "kill -9 F, I, S   | %8d | %14d | %11d | %16d | %7d%n",
          clean.features.get(), clean.momentRecords.get(), clean.retractions.get(), cleanMoments.size(),
          windows(cleanMoments), faulty.features.get(), faulty.momentRecords.get(),
          faulty.retractions.get(), faultyMoments.size(), windows(faultyMoments));
      assertThat(faulty.retractions.get()).as("the quiet made provisional windows, then retracted")
          .isPositive();
      assertThat(faultyMoments.keySet()).isEqualTo(cleanMoments.keySet());
      for (String id : cleanMoments.keySet()) {
        MomentRecord c = cleanMoments.get(id);
        MomentRecord f = faultyMoments.get(id);
        assertThat(List.of(f.streamId(), f.startMs(), f.endMs(), f.windowId(), f.modelId())).as(id)
            .isEqualTo(List.of(c.streamId(), c.startMs(), c.endMs(), c.windowId(), c.modelId()));
        assertThat(f.score()).as(id).isCloseTo(c.score(), within(1e-5f * Math.max(1, Math.abs(c.score()))));
        for (int i = 0; i < c.embedding().length; i++) {
          assertThat(f.embedding()[i]).as("%s[%d]", id, i).isCloseTo(c.embedding()[i], within(1e-5f));
        }
      }
      // 7 windows a stream: hop windows ending at 10..60 s and the final one ending at 70 s
      assertThat(windows(cleanMoments)).isEqualTo(STREAMS.size() * 7);
    }
  }

  private static long windows(Map<String, MomentRecord> moments) {
    return moments.values().stream().map(MomentRecord::windowId).distinct().count();
  }

  /** One pipeline on its own topic prefix: three service JVMs and a reader of its topics. */
  private final class Run {
    final String bootstrap;
    final String name;
    final Topics topics;
    final Path dir;
    final int port;
    final Map<String, Process> procs = new HashMap<>();
    final Map<String, Long> featureTs = new ConcurrentHashMap<>();
    /** The offset of the newest feature record (not a transaction marker) per partition. */
    final Map<TopicPartition, Long> lastFeatureOffset = new ConcurrentHashMap<>();
    final Map<String, MomentRecord> standing = new ConcurrentHashMap<>();
    final Map<String, Boolean> windowIds = new ConcurrentHashMap<>();
    final AtomicLong features = new AtomicLong();
    final AtomicLong momentRecords = new AtomicLong();
    final AtomicLong retractions = new AtomicLong();
    final AtomicBoolean reading = new AtomicBoolean(true);
    final Thread reader;
    int starts;

    Run(String bootstrap, String name) throws IOException {
      this.bootstrap = bootstrap;
      this.name = name;
      this.topics = new Topics("fm-" + name);
      this.dir = Files.createDirectories(tmp.resolve(name));
      try (ServerSocket s = new ServerSocket(0)) {
        this.port = s.getLocalPort();
      }
      TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
      reader = new Thread(this::read, "fault-matrix-reader-" + name);
      reader.setDaemon(true);
      reader.start();
    }

    void startAll() throws IOException {
      for (String s : List.of("featurize", "index", "serve")) {
        start(s);
      }
    }

    void start(String service) throws IOException {
      List<String> cmd = new ArrayList<>(List.of("--bootstrap", bootstrap, "--topic-prefix", topics.prefix(),
          "--partitions", "2"));
      switch (service) {
        case "featurize" -> cmd.addAll(List.of("--group", topics.prefix() + "-featurizer"));
        case "index" -> cmd.addAll(List.of("--window", "20s", "--hop", "10s", "--lateness", "2s",
            "--idle-flush", "3s", "--fps", "2", "--state-dir", dir.resolve("indexer-state").toString()));
        case "serve" -> cmd.addAll(List.of("--index", dir.resolve("index").toString(), "--host", "127.0.0.1",
            "--port", Integer.toString(port), "--insecure"));
        default -> throw new IllegalArgumentException(service);
      }
      Path log = dir.resolve(service + "-" + (++starts) + ".log");
      Process p = ChildJvm.start(dir, log, service, cmd);
      procs.put(service, p);
    }

    void kill(String service) throws InterruptedException {
      Process p = procs.remove(service);
      p.destroyForcibly(); // SIGKILL: no shutdown hook runs
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("%s killed", service).isTrue();
    }

    void stopAll() throws InterruptedException {
      reading.set(false);
      for (Process p : procs.values()) {
        p.destroy();
      }
      for (Process p : procs.values()) {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
      procs.clear();
      reader.join(10_000);
    }

    /** Frames {@code from} until {@code to} (exclusive) of every stream, then the marks if asked. */
    void produce(int from, int to, boolean marks) throws Exception {
      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      p.put(ProducerConfig.ACKS_CONFIG, "all");
      try (KafkaProducer<String, byte[]> producer =
          new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
        for (int i = from; i < to; i++) {
          for (int s = 0; s < STREAMS.size(); s++) {
            producer.send(new ProducerRecord<>(topics.frames().name(), null, T0 + 500L * i,
                STREAMS.get(s), jpeg(s, i))).get();
          }
        }
        if (marks) {
          for (String s : STREAMS) {
            producer.send(Topics.<byte[]>endOfStreamMark(topics.frames().name(), s, T0 + 500L * (to - 1), "eof")).get();
          }
        }
      }
    }

    void awaitFeaturesUpTo(int frame) throws InterruptedException {
      long ts = T0 + 500L * frame;
      Patience.await("features of frame " + frame + " in " + name, Duration.ofMillis(100),
          () -> STREAMS.stream().allMatch(s -> featureTs.getOrDefault(s, Long.MIN_VALUE) >= ts));
    }

    /**
     * Waits until the indexer has committed past every feature record read so far (a committed
     * offset is the next one to read; transaction markers take offsets too, so the log end is no
     * measure).
     */
    void awaitIndexerCommitted() throws Exception {
      Properties p = new Properties();
      p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      Map<TopicPartition, Long> last = Map.copyOf(lastFeatureOffset);
      try (Admin admin = Admin.create(p)) {
        Patience.await("the indexer to commit every feature of " + name, Duration.ofMillis(200), () -> {
          try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(
                topics.prefix() + "-indexer").partitionsToOffsetAndMetadata().get();
            return last.entrySet().stream().allMatch(e -> committed.containsKey(e.getKey())
                && committed.get(e.getKey()).offset() > e.getValue());
          } catch (Exception e) {
            return false;
          }
        });
      }
    }

    long windowsSeen() {
      return windowIds.size();
    }

    /**
     * Waits for every stream's final window (ending at 70 s) and for serve's index to hold exactly
     * the standing moments; returns them.
     */
    Map<String, MomentRecord> awaitFinal() throws Exception {
      List<String> finals = STREAMS.stream()
          .map(s -> MomentRecord.windowIdFor(s, T0 + 500L * FRAMES - 20_000)).toList();
      Patience.await("the final windows of " + name, Duration.ofMillis(200),
          () -> finals.stream().allMatch(w -> standing.values().stream().anyMatch(m -> m.windowId().equals(w))));
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      Patience.await("serve of " + name + " to hold the standing moments", Duration.ofMillis(300), () -> {
        Map<String, Long> want = new TreeMap<>();
        standing.values().forEach(m -> want.merge(m.streamId(), 1L, Long::sum));
        return want.equals(servedCounts(http));
      });
      return new TreeMap<>(standing);
    }

    private Map<String, Long> servedCounts(HttpClient http) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/api/streams")).build(), HttpResponse.BodyHandlers.ofString());
        Map<String, Long> got = new TreeMap<>();
        for (JsonNode s : JSON.readTree(r.body()).get("streams")) {
          if (s.get("moments").asLong() > 0) {
            got.put(s.get("id").asText(), s.get("moments").asLong());
          }
        }
        return got;
      } catch (IOException | RuntimeException e) {
        return Map.of();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Map.of();
      }
    }

    /** Reads the features and moments topics (read_committed) as any client would. */
    private void read() {
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      p.put(ConsumerConfig.GROUP_ID_CONFIG, topics.prefix() + "-test-reader");
      try (KafkaConsumer<byte[], byte[]> c =
          new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        c.subscribe(List.of(topics.features().name(), topics.moments().name()));
        while (reading.get()) {
          for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
            String stream = new String(r.key(), StandardCharsets.UTF_8);
            if (r.topic().equals(topics.features().name())) {
              if (!Topics.isEndOfStream(r.headers())) {
                features.incrementAndGet();
                featureTs.merge(stream, r.timestamp(), Math::max);
                lastFeatureOffset.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::max);
              }
            } else if (r.value() == null) {
              String w = new String(r.headers().lastHeader(Topics.HEADER_RETRACT_WINDOW).value(),
                  StandardCharsets.UTF_8);
              retractions.incrementAndGet();
              standing.values().removeIf(m -> m.windowId().equals(w));
            } else {
              momentRecords.incrementAndGet();
              MomentRecord m = MomentRecord.fromBytes(r.value());
              standing.put(m.momentId(), m);
              windowIds.put(m.windowId(), true);
            }
          }
        }
      }
    }
  }

  /** A small frame whose content moves with time, different per stream. */
  private static byte[] jpeg(int stream, int i) throws IOException {
    BufferedImage img = new BufferedImage(96, 96, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(new Color(Color.HSBtoRGB((i % 40) / 40f, 0.6f, 0.9f)));
    g.fillRect(0, 0, 96, 96);
    g.setColor(stream == 0 ? Color.BLACK : Color.WHITE);
    g.fillOval((i * 7) % 80, (i * 3 + stream * 40) % 80, 16 + (i / 20) * 4, 16);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "jpg", out);
    return out.toByteArray();
  }
}
