package dev.moments.api.frames;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.PipelineStatus;
import dev.moments.api.auth.TokenFile;
import dev.moments.api.http.ApiServer;
import dev.moments.api.metrics.Metrics;
import dev.moments.api.search.MomentStore;
import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import io.javalin.testtools.JavalinTest;
import io.javalin.testtools.Response;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Frames on the real broker: two streams on a 3-partition topic, one JPEG per second each, with
 * distinct pixels so that the bytes identify the frame, and an end-of-stream mark of cam-a 10 s
 * after its last frame (not a frame: neither counted nor answered).
 */
class KafkaFrameStoreTest {
  static final long T0 = 1_746_093_600_000L;
  static final int N = 30;
  static Topics topics;
  static KafkaFrameStore store;
  static final Map<String, byte[]> produced = new HashMap<>();

  @BeforeAll
  static void produceFrames() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    topics = new Topics(KafkaFixture.uniquePrefix("frames"));
    TopicAdmin.ensureTopics(bootstrap, topics, 3, (short) 1);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < N; i++) {
        for (String stream : List.of("cam-a", "cam-b")) {
          long ts = T0 + i * 1000L + (stream.equals("cam-b") ? 500 : 0);
          byte[] jpeg = jpeg(stream.equals("cam-a") ? i * 8 : 255 - i * 8);
          produced.put(stream + "@" + ts, jpeg);
          producer.send(new ProducerRecord<>(topics.frames().name(), null, ts, stream, jpeg));
        }
      }
      producer.send(Topics.<byte[]>endOfStreamMark(topics.frames().name(), "cam-a", T0 + (N + 9) * 1000L, "eof"));
      producer.flush();
    }
    store = new KafkaFrameStore(bootstrap, topics.frames().name(), 1L << 20);
    store.start();
  }

  @AfterAll
  static void close() {
    store.close();
  }

  static byte[] jpeg(int level) throws Exception {
    BufferedImage img = new BufferedImage(32, 24, BufferedImage.TYPE_INT_RGB);
    var g = img.createGraphics();
    g.setColor(new Color(level, 255 - level, (level * 3) % 256));
    g.fillRect(0, 0, 32, 24);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "jpg", out);
    return out.toByteArray();
  }

  @Test
  void nearest_frame_is_the_one_with_the_closest_capture_time() {
    FrameStore.Frame a = store.nearest("cam-a", T0 + 5_400).orElseThrow();
    assertThat(a.timestampMs()).isEqualTo(T0 + 5_000);
    assertThat(a.jpeg()).isEqualTo(produced.get("cam-a@" + (T0 + 5_000)));
    assertThat(store.nearest("cam-a", T0 + 5_600).orElseThrow().timestampMs()).isEqualTo(T0 + 6_000);
    assertThat(store.nearest("cam-b", T0 + 5_600).orElseThrow().timestampMs()).isEqualTo(T0 + 5_500);
    // Before the first and after the last frame: the edge frames.
    assertThat(store.nearest("cam-b", T0 - 60_000).orElseThrow().timestampMs()).isEqualTo(T0 + 500);
    // After the last frame (and past cam-a's end-of-stream mark, which is no frame): the last frame.
    assertThat(store.nearest("cam-a", T0 + 999_000).orElseThrow().timestampMs()).isEqualTo(T0 + (N - 1) * 1000L);
    assertThat(store.nearest("cam-a", T0 + (N + 9) * 1000L).orElseThrow().timestampMs()).isEqualTo(T0 + (N - 1) * 1000L);
    assertThat(store.nearest("cam-zzz", T0 + 5_000)).isEmpty();
  }

  @Test
  void unknown_streams_are_answered_without_asking_kafka_and_known_frames_are_fetched_once() throws Exception {
    Patience.await("the frames counted", Duration.ofMillis(50), store::countedToEnd);
    long before = store.fetches();
    for (int i = 0; i < 50; i++) {
      assertThat(store.nearest("made-up-" + i, T0 + i * 1000L)).isEmpty();
    }
    assertThat(store.fetches()).as("Kafka fetches for 50 unknown-stream lookups").isEqualTo(before);
    // The frame at T0 + 13 s, asked for by two times nearer to it than to its neighbours.
    FrameStore.Frame first = store.nearest("cam-b", T0 + 13_400).orElseThrow();
    assertThat(first.timestampMs()).isEqualTo(T0 + 13_500);
    assertThat(first.jpeg()).isEqualTo(produced.get("cam-b@" + (T0 + 13_500)));
    assertThat(store.fetches()).isEqualTo(before + 1);
    assertThat(store.nearest("cam-b", T0 + 13_700).orElseThrow().jpeg()).isEqualTo(first.jpeg());
    assertThat(store.fetches()).as("the second lookup of that frame is a cache hit").isEqualTo(before + 1);
  }

  @Test
  void frames_are_counted_per_stream() throws Exception {
    Patience.await("the frames counted", Duration.ofMillis(50), store::countedToEnd);
    Map<String, FrameStore.FrameSpan> spans = store.frameSpans();
    assertThat(spans.get("cam-a")).isEqualTo(new FrameStore.FrameSpan(N, T0, T0 + (N - 1) * 1000L));
    assertThat(spans.get("cam-b")).isEqualTo(new FrameStore.FrameSpan(N, T0 + 500, T0 + (N - 1) * 1000L + 500));
  }

  @Test
  void other_stream_frame_is_forbidden_and_own_stream_frame_is_a_jpeg(@TempDir Path tmp) throws Exception {
    Path tokens = tmp.resolve("tokens");
    Files.writeString(tokens, "ta cam-a\n");
    TextEncoder unused = new TextEncoder() {
      public String id() { return "none"; }
      public int dim() { return 1; }
      public float[][] encode(List<String> texts) { throw new IllegalStateException("no search in this test"); }
      public void close() {}
    };
    MomentStore empty = new MomentStore() {
      public List<Hit> search(float[] q, int k, Set<String> s, Long f, Long t) { return List.of(); }
      public List<StreamMoments> streams() { return List.of(); }
      public long size() { return 0; }
      public long sizeOnDiskBytes() { return 0; }
    };
    PipelineStatus up = new PipelineStatus() {
      public boolean brokerReachable() { return true; }
      public boolean indexOpen() { return true; }
      public long ingestLag() { return 0; }
      public boolean caughtUp() { return true; }
    };
    ApiServer server = new ApiServer(new ApiServer.Deps(unused, empty, store, TokenFile.load(tokens), up, new Metrics()));
    JavalinTest.test(server.app(), (s, client) -> {
      Response forbidden = client.get("/api/streams/cam-b/frame?t=" + (T0 + 5_000), r -> r.header("Authorization", "Bearer ta"));
      assertThat(forbidden.code()).isEqualTo(403);
      assertThat(new ObjectMapper().readTree(forbidden.body().string()).get("error").asText())
          .isEqualTo("this token may not see stream 'cam-b'");

      // Bytes over a plain HTTP client (the test client reads bodies as strings); token as query param.
      HttpResponse<byte[]> ok = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://localhost:" + s.port() + "/api/streams/cam-a/frame?t=" + (T0 + 7_200) + "&token=ta")).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.headers().firstValue("Content-Type")).hasValue("image/jpeg");
      assertThat(ok.headers().firstValue("X-Frame-Time")).hasValue(Long.toString(T0 + 7_000));
      assertThat(ok.body()).isEqualTo(produced.get("cam-a@" + (T0 + 7_000)));
      assertThat(ImageIO.read(new java.io.ByteArrayInputStream(ok.body())).getWidth()).isEqualTo(32);

      Response none = client.get("/api/streams/cam-a/frame?t=" + (T0 + 7_200));
      assertThat(none.code()).isEqualTo(401);

      JsonNode streams = new ObjectMapper().readTree(client.get("/api/streams", r -> r.header("Authorization", "Bearer ta")).body().string());
      assertThat(streams.get("streams")).hasSize(1);
      assertThat(streams.get("streams").get(0).get("id").asText()).isEqualTo("cam-a");
    });
  }
}
