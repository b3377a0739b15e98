package dev.moments.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.auth.Tokens;
import dev.moments.broker.EmbeddedBroker;
import dev.moments.broker.Patience;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's background loops (materializer, frames counter) across a broker restart on the same
 * data directory and port: /health names both loops as failing during the outage (after its
 * grace), and once the broker is back frame and moment counts grow again and /health is ok.
 */
class BrokerOutageTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final long T0 = Instant.parse("2025-05-01T08:00:00Z").toEpochMilli();
  static final String CAM = "porch";

  @TempDir Path tmp;
  final HttpClient http = HttpClient.newHttpClient();

  record Answer(int status, JsonNode body) {}

  @Test
  void loops_report_the_outage_and_resume_counting_after_the_broker_restarts() throws Exception {
    int port = freePort();
    Path brokerDir = tmp.resolve("broker");
    Topics topics = new Topics("outage");
    EmbeddedBroker broker = EmbeddedBroker.start(brokerDir, port);
    try {
      String bootstrap = broker.bootstrapServers();
      TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
      produce(bootstrap, topics, 0, 10, 0, 3);
      try (MomentsServer server = MomentsServer.start(
          MomentsServer.Config.of(tmp.resolve("index"), 0, null, Tokens.insecure(), bootstrap, topics).withHost("localhost"))) {
        String base = "http://localhost:" + server.port();
        awaitCounts(base, 10, 3);
        awaitHealth(base, "ok with both loops ok before the outage", a -> a.status() == 200
            && a.body().get("status").asText().equals("ok")
            && a.body().at("/loops/materializer/state").asText().equals("ok")
            && a.body().at("/loops/frames-counter/state").asText().equals("ok"));

        broker.close();
        // (the alert loops report the outage too, each at its own next call to the broker)
        Answer down = awaitHealth(base, "both loops named as failing", a -> a.body().get("problems").toString()
            .contains("materializer failing since") && a.body().get("problems").toString().contains("frames-counter failing since"));
        assertThat(down.status()).isEqualTo(503);
        assertThat(down.body().get("status").asText()).isEqualTo("degraded");
        assertThat(down.body().get("broker").asBoolean()).isFalse();
        for (String loop : new String[] {"materializer", "frames-counter"}) {
          JsonNode l = down.body().get("loops").get(loop);
          assertThat(l.get("state").asText()).as(loop).isEqualTo("degraded");
          assertThat(l.get("failures").asLong()).as(loop).isPositive();
          assertThat(l.get("reason").asText()).as(loop).startsWith("TimeoutException");
        }
        assertThat(down.body().get("problems").toString()).contains("materializer failing since", "frames-counter failing since");

        broker = EmbeddedBroker.start(brokerDir, port);
        produce(bootstrap, topics, 10, 20, 3, 5);
        awaitCounts(base, 20, 5);
        Answer up = awaitHealth(base, "ok after the restart", a -> a.status() == 200
            && a.body().get("status").asText().equals("ok")
            && a.body().at("/loops/materializer/state").asText().equals("ok")
            && a.body().at("/loops/frames-counter/state").asText().equals("ok"));
        assertThat(up.body().get("problems")).isEmpty();
        assertThat(server.materializer().failure()).isNull();
      }
    } finally {
      broker.close();
    }
  }

  // Frames [fromFrame, toFrame) one per second, and moments [fromMoment, toMoment).
  private static void produce(String bootstrap, Topics topics, int fromFrame, int toFrame, int fromMoment, int toMoment) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      for (int i = fromFrame; i < toFrame; i++) {
        producer.send(new ProducerRecord<>(topics.frames().name(), null, T0 + i * 1000L, CAM, new byte[] {(byte) 0xff, (byte) 0xd8, (byte) i}));
      }
      for (int i = fromMoment; i < toMoment; i++) {
        MomentRecord m = new MomentRecord(MomentRecord.idFor(CAM, T0 + i * 10_000L, 0), CAM, T0 + i * 10_000L,
            T0 + i * 10_000L + 5000, new float[] {1, 0, 0, i}, 0.5f, MomentRecord.windowIdFor(CAM, T0 + i * 10_000L), "m");
        producer.send(new ProducerRecord<>(topics.moments().name(), CAM, m.toBytes()));
      }
      producer.flush();
    }
  }

  private void awaitCounts(String base, long frames, long moments) throws InterruptedException {
    AtomicReference<String> last = new AtomicReference<>();
    await(frames + " frames and " + moments + " moments of " + CAM + " in /api/streams", last, () -> {
      JsonNode s = get(base + "/api/streams").body().get("streams");
      last.set(s.toString());
      return s.size() == 1 && s.get(0).get("frames").asLong() == frames && s.get(0).get("moments").asLong() == moments;
    });
  }

  private Answer awaitHealth(String base, String what, java.util.function.Predicate<Answer> done) throws InterruptedException {
    AtomicReference<Answer> last = new AtomicReference<>();
    await("/health " + what, last, () -> {
      last.set(get(base + "/health"));
      return done.test(last.get());
    });
    return last.get();
  }

  // Patience.await, with the last value seen in the failure message.
  private static void await(String what, AtomicReference<?> last, java.util.function.BooleanSupplier done)
      throws InterruptedException {
    try {
      Patience.await(what, Duration.ofMillis(250), done);
    } catch (AssertionError e) {
      throw new AssertionError("last seen: " + last.get() + "\n" + e.getMessage(), e);
    }
  }

  private Answer get(String url) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), JSON.readTree(r.body()));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("localhost", 0));
      return s.getLocalPort();
    }
  }
}
