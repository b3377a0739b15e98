package dev.moments.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.auth.TokenFile;
import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.indexer.stream.IndexerConfig;
import dev.moments.indexer.stream.IndexerModel;
import dev.moments.indexer.stream.IndexerService;
import dev.moments.model.LavitiConfig;
import dev.moments.model.LavitiModel;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 1: features for two streams on the real broker -> the Kafka Streams indexer (a tiny
 * random LAVITI, 20 s windows every 5 s) -> moments topic -> materializer -> Lucene index ->
 * {@link MomentsServer} over HTTP. Checks that results belong to the right stream and lie inside
 * the window that produced them (the window start is part of the deterministic moment id), that
 * stream and time filters hold, that a token never sees another stream, and that a result's
 * thumbnail is the stream's frame at the moment's midpoint.
 */
class QueryApiEndToEndTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final long T0 = Instant.parse("2025-05-01T08:00:00Z").toEpochMilli();
  static final long WINDOW_MS = 20_000;
  static final int FEATURE_DIM = 16;
  static final int SECONDS = 60;
  static final List<String> STREAMS = List.of("kitchen", "garage");

  @TempDir Path tmp;
  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void features_in_become_searchable_moments_of_the_right_stream_and_window() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("e2e"));
    TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
    awaitLeaders(bootstrap, topics);
    produceFeaturesAndFrames(bootstrap, topics);

    Path tokens = Files.writeString(tmp.resolve("tokens"), "all *\nkit kitchen\n");
    Path encoderDir = Encoders.defaultDir();
    int textDim;
    try (var text = Encoders.loadText(encoderDir)) {
      textDim = text.dim();
    }
    IndexerConfig cfg = new IndexerConfig(Duration.ofMillis(WINDOW_MS), Duration.ofSeconds(5), Duration.ofSeconds(5),
        Duration.ofSeconds(2), 2.0, topics, topics.prefix() + "-indexer");
    LavitiConfig tiny = LavitiConfig.tiny(FEATURE_DIM, textDim);
    final int slots = tiny.numQueries();
    IndexerModel model = IndexerModel.of(LavitiModel.random(tiny, "enc-e2e", 2.0, 7));
    Properties fast = new Properties();
    fast.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
    fast.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);

    try (IndexerService indexer = new IndexerService(bootstrap, cfg, model, tmp.resolve("state"), fast);
        MomentsServer server = MomentsServer.start(new MomentsServer.Config(tmp.resolve("index"), "localhost", 0,
            encoderDir, TokenFile.load(tokens), bootstrap, topics, 4L << 20))) {
      indexer.start();
      String base = "http://localhost:" + server.port();

      // Wait for every window: ends at T0 + 5 s .. 55 s (stream time passes end + 2 s lateness) and
      // the final partial window flushed when the streams went idle; one moment per query slot each.
      long expected = (long) STREAMS.size() * 12 * slots;
      long deadline = Patience.deadline();
      while (!(server.materializer().consumed() == expected && server.materializer().caughtUp())) {
        assertThat(System.nanoTime()).as("all " + expected + " moments consumed in time; have "
            + server.materializer().consumed()).isLessThan(deadline);
        Thread.sleep(250);
      }
      // 20 s windows every 5 s: the index keeps each stretch from the 3 windows nearest it (the
      // provisional last window's moments all), so fewer than it consumed
      assertThat(server.index().size()).isLessThan(expected).isGreaterThan(expected / 4);
      JsonNode streams = get(base + "/api/streams", "all").get("streams");
      assertThat(streams.findValuesAsText("id")).containsExactly("garage", "kitchen");
      assertThat(streams.findValues("moments").stream().mapToLong(JsonNode::asLong).sum())
          .isEqualTo(server.index().size());
      for (JsonNode s : streams) {
        assertThat(s.get("frames").asLong()).as("frames of " + s).isEqualTo(SECONDS);
      }

      // Every result belongs to its stream and lies inside the window that produced it.
      JsonNode all = get(base + "/api/search?k=100&q=" + q("where did I leave my keys"), "all");
      assertThat(all.get("query").asText()).isEqualTo("where did I leave my keys");
      JsonNode results = all.get("results");
      Set<String> seen = new HashSet<>();
      double previous = Double.POSITIVE_INFINITY;
      for (JsonNode r : results) {
        String stream = r.get("streamId").asText();
        seen.add(stream);
        String[] id = r.get("momentId").asText().split("/");
        assertThat(id[0]).isEqualTo(stream);
        long windowStart = Long.parseLong(id[1]);
        long start = r.get("startMs").asLong();
        long end = r.get("endMs").asLong();
        assertThat(start).as(r.toString()).isBetween(Math.max(windowStart, T0), end);
        assertThat(end).as(r.toString()).isLessThanOrEqualTo(windowStart + WINDOW_MS);
        assertThat(end).as(r.toString()).isLessThanOrEqualTo(T0 + SECONDS * 1000L);
        assertThat(r.get("start").asText()).isEqualTo(Instant.ofEpochMilli(start).toString());
        assertThat(r.get("end").asText()).isEqualTo(Instant.ofEpochMilli(end).toString());
        assertThat(r.get("score").asDouble()).isBetween(-1.0, 1.0).isLessThanOrEqualTo(previous + 1e-6);
        previous = r.get("score").asDouble();
      }
      assertThat(seen).containsExactlyInAnyOrder("kitchen", "garage");

      // Stream filter.
      JsonNode garage = get(base + "/api/search?k=100&streams=garage&q=" + q("keys"), "all").get("results");
      assertThat(garage).isNotEmpty();
      assertThat(garage.findValuesAsText("streamId")).containsOnly("garage");

      // Time filter: only moments overlapping [T0+20 s, T0+30 s].
      long from = T0 + 20_000;
      long to = T0 + 30_000;
      JsonNode window = get(base + "/api/search?k=100&q=" + q("keys") + "&from=" + q(Instant.ofEpochMilli(from).toString())
          + "&to=" + to, "all").get("results");
      assertThat(window).isNotEmpty();
      for (JsonNode r : window) {
        assertThat(r.get("endMs").asLong()).isGreaterThanOrEqualTo(from);
        assertThat(r.get("startMs").asLong()).isLessThanOrEqualTo(to);
      }
      // ...and the unfiltered answer had moments outside that range, so the filter removed some.
      assertThat(results).anySatisfy(r -> assertThat(r.get("endMs").asLong() < from || r.get("startMs").asLong() > to).isTrue());

      // A kitchen-only token never sees the garage.
      JsonNode kit = get(base + "/api/search?k=100&q=" + q("keys"), "kit").get("results");
      assertThat(kit).isNotEmpty();
      assertThat(kit.findValuesAsText("streamId")).containsOnly("kitchen");
      assertThat(get(base + "/api/search?k=100&streams=garage&q=" + q("keys"), "kit").get("results")).isEmpty();
      assertThat(get(base + "/api/streams", "kit").get("streams").findValuesAsText("id")).containsExactly("kitchen");
      assertThat(send(base + "/api/streams/garage/frame?t=" + (T0 + 10_000), "kit").statusCode()).isEqualTo(403);

      // The thumbnail is the stream's frame at the moment's midpoint (frames every second).
      JsonNode first = kit.get(0);
      String thumb = first.get("thumbnailUrl").asText();
      assertThat(thumb).endsWith("&token=kit");
      HttpResponse<byte[]> img = http.send(HttpRequest.newBuilder(URI.create(base + thumb)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertThat(img.statusCode()).isEqualTo(200);
      long mid = (first.get("startMs").asLong() + first.get("endMs").asLong()) / 2;
      long frameTime = Long.parseLong(img.headers().firstValue("X-Frame-Time").orElseThrow());
      assertThat(Math.abs(frameTime - mid)).isLessThanOrEqualTo(500);
      BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(img.body()));
      assertThat(decoded.getWidth()).isEqualTo(48);

      JsonNode health = JSON.readTree(send(base + "/health", null).body());
      assertThat(health.get("status").asText()).isEqualTo("ok");
      assertThat(health.get("lag").asLong()).isZero();
    }
  }

  private void produceFeaturesAndFrames(String bootstrap, Topics topics) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    SplittableRandom rnd = new SplittableRandom(3);
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < SECONDS * 2; i++) {
        long ts = T0 + 500L * i;
        for (int s = 0; s < STREAMS.size(); s++) {
          float[] v = new float[FEATURE_DIM];
          for (int d = 0; d < FEATURE_DIM; d++) {
            v[d] = (float) rnd.nextGaussian() + (d == s ? 3f : 0f);
          }
          producer.send(new ProducerRecord<>(topics.features().name(), null, ts, STREAMS.get(s),
              new FeatureRecord("enc-e2e", normalize(v)).toBytes()));
          if (i % 2 == 0) {
            producer.send(new ProducerRecord<>(topics.frames().name(), null, ts, STREAMS.get(s), jpeg(i * 2 + s)));
          }
        }
      }
      producer.flush();
    }
  }

  // A just-created topic answers NOT_LEADER for a moment; producing into it then can stall a
  // loaded test machine's idempotent producer, so wait until every partition has a leader.
  private static void awaitLeaders(String bootstrap, Topics topics) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(p)) {
      long deadline = Patience.deadline();
      while (true) {
        boolean ready = admin.describeTopics(topics.names()).allTopicNames().get().values().stream()
            .allMatch(d -> d.partitions().stream().allMatch(tp -> tp.leader() != null && !tp.leader().isEmpty()));
        if (ready) {
          return;
        }
        assertThat(System.nanoTime()).as("partition leaders of " + topics.names()).isLessThan(deadline);
        Thread.sleep(100);
      }
    }
  }

  private static float[] normalize(float[] v) {
    double n = 0;
    for (float x : v) {
      n += x * x;
    }
    float inv = (float) (1 / Math.sqrt(n));
    for (int i = 0; i < v.length; i++) {
      v[i] *= inv;
    }
    return v;
  }

  private static byte[] jpeg(int seed) throws Exception {
    BufferedImage img = new BufferedImage(48, 32, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 32; y++) {
      for (int x = 0; x < 48; x++) {
        img.setRGB(x, y, Long.hashCode(seed * 2654435761L + x * 31L + y));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "jpg", out);
    return out.toByteArray();
  }

  private static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private HttpResponse<String> send(String url, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode get(String url, String token) throws Exception {
    HttpResponse<String> r = send(url, token);
    assertThat(r.statusCode()).as(url + " -> " + r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }
}
