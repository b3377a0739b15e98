package dev.moments.api.frames;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.PipelineStatus;
import dev.moments.api.auth.Tokens;
import dev.moments.api.http.ApiServer;
import dev.moments.api.metrics.Metrics;
import dev.moments.api.search.MomentStore;
import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import io.javalin.testtools.JavalinTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.zip.CRC32;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Partitioner;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Frames of producers that are not the Java client (DESIGN §8): kcat's default partitioner
 * (librdkafka {@code consistent_random}: CRC-32 of the key modulo the partitions) puts most
 * streams on other partitions than Java's murmur2, and a producer may spread one stream over
 * several partitions; capture times are from 2001. Every frame is found over the HTTP API.
 */
class FramesFromAnyProducerTest {
  static final long T0 = Instant.parse("2001-09-09T01:46:40Z").toEpochMilli();
  static final List<String> STREAMS = List.of("kitchen-cam", "porch", "garage", "hall", "yard");
  static final int PARTITIONS = 3;
  static final int FRAMES = 12;

  /** librdkafka's {@code consistent_random} for keyed records: {@code crc32(key) % partitions}. */
  public static final class LibrdkafkaConsistent implements Partitioner {
    static int partition(byte[] key, int partitions) {
      CRC32 crc = new CRC32();
      crc.update(key);
      return (int) (crc.getValue() % partitions);
    }

    @Override
    public int partition(String topic, Object key, byte[] keyBytes, Object value, byte[] valueBytes, Cluster cluster) {
      return partition(keyBytes, cluster.partitionCountForTopic(topic));
    }

    @Override
    public void close() {}

    @Override
    public void configure(Map<String, ?> configs) {}
  }

  // A fake JPEG whose bytes name the frame (the store serves bytes as produced).
  static byte[] frame(String stream, long t) {
    return ("\u00ff\u00d8 " + stream + "@" + t).getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void frames_of_kcat_style_and_spread_out_producers_are_all_found() throws Exception {
    long moved = STREAMS.stream().filter(s -> LibrdkafkaConsistent.partition(s.getBytes(StandardCharsets.UTF_8), PARTITIONS)
        != BuiltInPartitioner.partitionForKey(s.getBytes(StandardCharsets.UTF_8), PARTITIONS)).count();
    assertThat(moved).as("streams that CRC-32 and murmur2 put on different partitions").isGreaterThanOrEqualTo(3);

    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("anyproducer"));
    TopicAdmin.ensureTopics(bootstrap, topics, PARTITIONS, (short) 1);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.PARTITIONER_CLASS_CONFIG, LibrdkafkaConsistent.class.getName());
    Map<String, Long> expectedFrames = new HashMap<>();
    try (KafkaProducer<String, byte[]> kcat = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < FRAMES; i++) {
        for (String s : STREAMS) {
          long t = T0 + i * 1000L;
          kcat.send(new ProducerRecord<>(topics.frames().name(), null, t, s, frame(s, t)));
        }
        // One stream whose producer picked partitions itself, round robin.
        long t = T0 + i * 1000L + 250;
        kcat.send(new ProducerRecord<>(topics.frames().name(), i % PARTITIONS, t, "roaming", frame("roaming", t)));
      }
      kcat.flush();
    }
    STREAMS.forEach(s -> expectedFrames.put(s, (long) FRAMES));
    expectedFrames.put("roaming", (long) FRAMES);

    try (KafkaFrameStore frames = new KafkaFrameStore(bootstrap, topics.frames().name(), 1L << 20)) {
      frames.start();
      Patience.await("the frames counted", Duration.ofMillis(50), frames::countedToEnd);
      ApiServer server = new ApiServer(new ApiServer.Deps(NO_TEXT, NO_MOMENTS, frames, Tokens.insecure(), UP, new Metrics()));
      JavalinTest.test(server.app(), (s, client) -> {
        JsonNode streams = new ObjectMapper().readTree(client.get("/api/streams").body().string()).get("streams");
        Map<String, Long> counted = new HashMap<>();
        streams.forEach(n -> counted.put(n.get("id").asText(), n.get("frames").asLong()));
        assertThat(counted).isEqualTo(expectedFrames);

        HttpClient http = HttpClient.newHttpClient();
        for (String stream : expectedFrames.keySet()) {
          for (int i = 0; i < FRAMES; i++) {
            long frameTime = T0 + i * 1000L + (stream.equals("roaming") ? 250 : 0);
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(
                "http://localhost:" + s.port() + "/api/streams/" + stream + "/frame?t=" + (frameTime + 100))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).as(stream + " frame " + i).isEqualTo(200);
            assertThat(r.headers().firstValue("X-Frame-Time")).as(stream + " frame " + i).hasValue(Long.toString(frameTime));
            assertThat(r.body()).as(stream + " frame " + i).isEqualTo(frame(stream, frameTime));
          }
        }
      });
    }
  }

  static final TextEncoder NO_TEXT = new TextEncoder() {
    public String id() { return "none"; }
    public int dim() { return 1; }
    public float[][] encode(List<String> texts) { throw new IllegalStateException("no search in this test"); }
    public void close() {}
  };

  static final MomentStore NO_MOMENTS = new MomentStore() {
    public List<Hit> search(float[] q, int k, Set<String> s, Long f, Long t) { return List.of(); }
    public List<StreamMoments> streams() { return List.of(); }
    public long size() { return 0; }
    public long sizeOnDiskBytes() { return 0; }
  };

  static final PipelineStatus UP = new PipelineStatus() {
    public boolean brokerReachable() { return true; }
    public boolean indexOpen() { return true; }
    public long ingestLag() { return 0; }
    public boolean caughtUp() { return true; }
  };
}
