package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.MomentsServer;
import dev.moments.api.auth.TokenFile;
import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.indexer.alerts.AlertsService;
import dev.moments.topics.AlertRecord;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12's acceptance through HTTP: a rule made with {@code POST /api/alerts} on a real serve
 * (MomentsServer on the real broker) is matched by the alerts service against moments on the
 * frames of the features topic and the moments of the moments topic, and the alert is on {@code moments.alerts} once (read_committed), on the rule
 * owner's Server-Sent Events stream once and POSTed once to the rule's webhook (a local receiver
 * that checks the HMAC signature with the secret the creation answered): one true alert
 * for an event two overlapping windows see, none for an unrelated moment, none on a stream the rule
 * does not watch. The moments carry the serve encoder's own embeddings of sentences (the event's
 * cosine is 1), the frames the event's embedding during the event and vectors orthogonal to it
 * elsewhere.
 */
class AlertsEndToEndTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final long T0 = 1_760_000_000_000L;
  static final String EVENT = "the keys are put on the shelf";

  @TempDir Path tmp;

  @Test
  void a_rule_made_over_http_fires_once_on_moments_alerts() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("alerts-e2e"));
    TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
    Path tokens = tmp.resolve("tokens.txt");
    Files.writeString(tokens, "kitchen-token kitchen\nadmin *\n");
    MomentsServer.Config cfg = MomentsServer.Config.of(tmp.resolve("index"), 0, null,
        TokenFile.load(tokens), bootstrap, topics).withHost("127.0.0.1");
    try (MomentsServer serve = MomentsServer.start(cfg)) {
      float[] event = serve.encoder().encode(EVENT);
      float[] other = serve.encoder().encode("washing a red cup in the sink");
      float[] end = serve.encoder().encode("a red fire truck drives by");
      // the bundled text encoder puts unrelated sentences close (cosines printed): the frames
      // are made of the event's embedding, the sentinel's with the event's part taken out, and a
      // scene vector orthogonal to both, so that the event rule sees frames like it only during
      // the event and the sentinel rule sees its own frames at 100..110 s
      System.out.printf("cosines: event.other %.4f event.end %.4f end.other %.4f%n", dot(event, other),
          dot(event, end), dot(end, other));
      float[] endFrame = orthogonal(end, event);
      float[] sceneFrame = orthogonal(orthogonal(other, event), endFrame);
      double sentinelCos = dot(end, endFrame);
      assertThat(sentinelCos).isGreaterThan(0.01);
      String minScore = "0.5";
      String sentinelMinScore = String.format(java.util.Locale.ROOT, "%.6f", sentinelCos / 2);
      HttpClient http = HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + serve.port();
      // a webhook receiver that records every POST (body and headers) and answers 200
      List<String[]> hooked = new java.util.concurrent.CopyOnWriteArrayList<>();
      com.sun.net.httpserver.HttpServer receiver =
          com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
      receiver.createContext("/hook", ex -> {
        byte[] body = ex.getRequestBody().readAllBytes();
        hooked.add(new String[] {new String(body, java.nio.charset.StandardCharsets.UTF_8),
            ex.getRequestHeaders().getFirst("X-Moments-Signature"), ex.getRequestHeaders().getFirst("X-Moments-Alert-Id")});
        ex.sendResponseHeaders(200, -1);
        ex.close();
      });
      receiver.start();
      // the owner's live stream, open before anything fires: the data lines of its alert events
      List<String> streamed = new java.util.concurrent.CopyOnWriteArrayList<>();
      java.util.concurrent.CountDownLatch open = new java.util.concurrent.CountDownLatch(1);
      var sse = http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/api/alerts/stream?token=kitchen-token"))
          .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofLines())
          .thenAccept(r -> r.body().forEach(line -> {
            open.countDown();
            if (line.startsWith("data:")) {
              streamed.add(line.substring(5).strip());
            }
          }));
      assertThat(open.await(Patience.limit().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS))
          .as("the alert stream answered").isTrue();
      String hook = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
      HttpResponse<String> made = http.send(HttpRequest.newBuilder(URI.create(base + "/api/alerts"))
          .header("Authorization", "Bearer kitchen-token").header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"q\": \"" + EVENT + "\", \"minScore\": " + minScore + ","
              + " \"cooldown\": \"60s\", \"webhook\": \"" + hook + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
      JsonNode rule = JSON.readTree(made.body());
      String ruleId = rule.get("id").asText();
      assertThat(rule.get("streams").toString()).isEqualTo("[\"kitchen\"]"); // the token's streams
      // a sentinel rule of the '*' token on every stream marks the end of each stream's moments
      HttpResponse<String> sentinel = http.send(HttpRequest.newBuilder(URI.create(base + "/api/alerts"))
          .header("Authorization", "Bearer admin")
          .POST(HttpRequest.BodyPublishers.ofString("{\"q\": \"a red fire truck drives by\", \"minScore\": " + sentinelMinScore + ","
              + " \"cooldown\": 0}")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(sentinel.statusCode()).as(sentinel.body()).isEqualTo(201);
      String sentinelId = JSON.readTree(sentinel.body()).get("id").asText();

      // frames at 1 fps, 0..121 s, on both streams: the event at 30..40 s, the sentinel at 100..110 s
      List<ProducerRecord<String, byte[]>> frames = new ArrayList<>();
      for (int t = 0; t <= 121; t++) {
        float[] f = t >= 30 && t < 40 ? event : t >= 100 && t < 110 ? endFrame : sceneFrame;
        for (String stream : List.of("kitchen", "garage")) {
          frames.add(new ProducerRecord<>(topics.features().name(), null, T0 + t * 1000L, stream,
              new dev.moments.topics.FeatureRecord("bundled", f).toBytes()));
        }
      }
      // 60 s windows every 30 s
      List<MomentRecord> ms = List.of(
          moment("kitchen", 0, 0, 10, 20, other),
          moment("kitchen", 0, 1, 30, 40, event),  // the event, first seen: the alert
          moment("garage", 0, 0, 30, 40, event),   // not a stream the rule watches
          moment("kitchen", 30, 0, 31, 41, event), // the next window sees the same event
          moment("kitchen", 60, 0, 100, 110, end),
          moment("garage", 60, 0, 100, 110, end));
      try (AlertsService alerts = new AlertsService(bootstrap, topics, tmp.resolve("alerts-state"))) {
        alerts.start();
        send(bootstrap, frames);
        produce(bootstrap, topics, ms);
        List<AlertRecord>[] got = new List[1];
        Patience.await("the sentinel alerts of both streams", Duration.ofMillis(200), () -> {
          got[0] = readCommitted(bootstrap, topics);
          return got[0].stream().filter(a -> a.ruleId().equals(sentinelId) && a.startMs() >= T0 + 95_000).count() == 2;
        });
        List<AlertRecord> fired = got[0].stream().filter(a -> a.ruleId().equals(ruleId)).toList();
        assertThat(fired).hasSize(1);
        AlertRecord a = fired.getFirst();
        // the event is exactly the first window's moment (the served search's best span of it)
        assertThat(a.alertId()).isEqualTo(ruleId + "/kitchen/" + T0 + "/1");
        assertThat(a.streamId()).isEqualTo("kitchen");
        assertThat(a.q()).isEqualTo(EVENT);
        assertThat(a.owner()).isEqualTo(serve.alertRules().get(ruleId).orElseThrow().owner()).startsWith("sha256:");
        assertThat(a.startMs()).isEqualTo(T0 + 30_000);
        assertThat(a.endMs()).isEqualTo(T0 + 40_000);
        assertThat(a.score()).isGreaterThan(0.9f);  // the fused score: frame contrast + 0.05 x cosine 1

        // the same alert, once, on the owner's stream and at the webhook, signed with the rule's secret
        Patience.await("the alert on the stream and at the webhook", Duration.ofMillis(200),
            () -> !streamed.isEmpty() && !hooked.isEmpty());
        HttpResponse<String> status = http.send(HttpRequest.newBuilder(URI.create(base + "/api/alerts/" + ruleId
            + "/deliveries")).header("Authorization", "Bearer kitchen-token").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(status.statusCode()).as(status.body()).isEqualTo(200);
        JsonNode delivered = JSON.readTree(status.body());
        assertThat(delivered.get("delivered").asLong()).as(status.body()).isEqualTo(1);
        assertThat(delivered.get("attempts").asLong()).as(status.body()).isEqualTo(1);
        assertThat(streamed).hasSize(1);
        assertThat(JSON.readTree(streamed.getFirst()).get("alertId").asText()).isEqualTo(a.alertId());
        assertThat(hooked).hasSize(1);
        String[] post = hooked.getFirst();
        assertThat(post[2]).isEqualTo(a.alertId());
        assertThat(JSON.readTree(post[0]).get("alertId").asText()).isEqualTo(a.alertId());
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(java.util.HexFormat.of().parseHex(rule.get("secret").asText()),
            "HmacSHA256"));
        assertThat(post[1]).isEqualTo("sha256=" + java.util.HexFormat.of().formatHex(
            mac.doFinal(post[0].getBytes(java.nio.charset.StandardCharsets.UTF_8))));
      } finally {
        sse.cancel(true);
        receiver.stop(0);
      }
    }
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  static MomentRecord moment(String stream, int windowSec, int slot, int startSec, int endSec, float[] e) {
    long ws = T0 + windowSec * 1000L;
    return new MomentRecord(MomentRecord.idFor(stream, ws, slot), stream, T0 + startSec * 1000L,
        T0 + endSec * 1000L, e, 0.9f, MomentRecord.windowIdFor(stream, ws), "model");
  }

  /** {@code v} with its component along unit {@code u} removed, L2-normalised. */
  static float[] orthogonal(float[] v, float[] u) {
    double d = dot(v, u) / dot(u, u);
    float[] out = new float[v.length];
    double n = 0;
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) (v[i] - d * u[i]);
      n += (double) out[i] * out[i];
    }
    for (int i = 0; i < v.length; i++) {
      out[i] /= (float) Math.sqrt(n);
    }
    return out;
  }

  /** Moments with their window's end (60 s windows) as timestamp, as the indexer writes them. */
  static void produce(String bootstrap, Topics topics, List<MomentRecord> ms) {
    List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
    for (MomentRecord m : ms) {
      long ws = Long.parseLong(m.windowId().substring(m.windowId().lastIndexOf('/') + 1));
      out.add(new ProducerRecord<>(topics.moments().name(), null, ws + 60_000, m.streamId(), m.toBytes()));
    }
    send(bootstrap, out);
  }

  static void send(String bootstrap, List<ProducerRecord<String, byte[]>> records) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      records.forEach(producer::send);
      producer.flush();
    }
  }

  static List<AlertRecord> readCommitted(String bootstrap, Topics topics) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<AlertRecord> out = new ArrayList<>();
    try (KafkaConsumer<String, AlertRecord> c = new KafkaConsumer<>(p, new StringDeserializer(),
        AlertRecord.serde().deserializer())) {
      List<TopicPartition> parts = c.partitionsFor(topics.alerts().name()).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      var end = c.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        c.poll(Duration.ofMillis(200)).forEach(r -> out.add(r.value()));
      }
    }
    return out;
  }
}
