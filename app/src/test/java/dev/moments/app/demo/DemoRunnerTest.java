package dev.moments.app.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moments.world.Scene;
import dev.moments.topics.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo world end to end at a small size (4 rendered videos of 2 min): scenes -> pocket
 * encoders and LAVITI trained on them -> video files ingested through Kafka as camera streams ->
 * featurizer -> indexer -> Lucene -> questions over HTTP; then a second run from the cache.
 *
 * <p>Measured (2026-11-30, recipe 3: LAVITI on random 60 s chunks, windows of 60 s every 10 s,
 * served search with the fused ranker): live R@5 IoU0.3 = 10 of the scenes' 10 questions, "Where
 * did I put the keys?" at rank 1 on the right stream (43.9-48.3 s against the truth 43.3-46.5 s).
 * With the LAVITI-only ranking the recipe-3 model put the keys at 41.1-41.9 s and this test failed;
 * the recipe-2 model (whole videos, one window per video) passed it, answering only after a stream
 * ended. "Most questions" = more than half at R@5, four questions of margin.
 *
 * <p>Both runs have the broker's retention check every 2 s: after the first run is ready, a probe
 * record stamped 2025 is deleted (so checks do run), yet no demo topic has lost a record (log
 * start offsets 0) and a thumbnail no one fetched before is still served over HTTP. With the old
 * streams stamped 2025-01-06 and Kafka's 7-day retention, the frames were gone.
 */
class DemoRunnerTest {
  /** A retention check 1 s after the broker starts and every 2 s after (Kafka: after 30 s, every 5 min). */
  static final Map<String, String> FAST_RETENTION_CHECKS =
      Map.of("log.initial.task.delay.ms", "1000", "log.retention.check.interval.ms", "2000");

  @TempDir Path data;

  /**
   * Produces a record stamped 2025-01-06 to a topic that keeps 1 s and waits until a retention
   * check deletes it: proof that checks run while the demo does.
   */
  static void retentionCheckDeletes(String bootstrap) throws Exception {
    TopicPartition probe = new TopicPartition("retention-probe", 0);
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), new ByteArraySerializer(), new ByteArraySerializer())) {
      admin.createTopics(List.of(new NewTopic(probe.topic(), 1, (short) 1)
          .configs(Map.of("retention.ms", "1000")))).all().get();
      long old = Instant.parse("2025-01-06T09:00:00Z").toEpochMilli();
      producer.send(new ProducerRecord<>(probe.topic(), 0, old, null, new byte[] {1})).get();
      long deadline = System.nanoTime() + 60_000_000_000L;
      long start = 0;
      while (start == 0 && System.nanoTime() < deadline) {
        Thread.sleep(500);
        start = admin.listOffsets(Map.of(probe, OffsetSpec.earliest())).all().get().get(probe).offset();
      }
      assertThat(start).as("log start offset of the retention probe after 60 s").isEqualTo(1);
    }
  }

  @Test
  void the_demo_answers_where_the_keys_are_over_http_and_restarts_from_its_cache() throws Exception {
    DemoRunner.Options o = new DemoRunner.Options(data, 0, 4, 2, 1, 0, null, null, FAST_RETENTION_CHECKS);
    List<String> first = new ArrayList<>();
    long moments;
    try (DemoRunner demo = new DemoRunner(o, first::add)) {
      demo.start();
      first.forEach(System.out::println);
      assertThat(first).anyMatch(l -> l.contains("frames of 4 streams"));
      assertThat(first).anyMatch(l -> l.contains("trained LAVITI"));
      HttpClient http = HttpClient.newHttpClient();

      // "where did I put the keys?" over all streams: rank 1 is the right stream, overlapping the put-down
      List<Scene> withKeys = demo.scenes().stream()
          .filter(sc -> sc.queries().stream().anyMatch(q -> q.query().equals("Where did I put the keys?"))).toList();
      assertThat(withKeys).isNotEmpty();
      JsonNode top = demo.search(http, "Where did I put the keys?", 1).path("results").path(0);
      String stream = top.path("streamId").asText();
      Scene truth = withKeys.stream().filter(sc -> sc.videoUid().equals(stream)).findFirst().orElse(null);
      assertThat(truth).as("top answer stream %s, keys are in %s", stream,
          withKeys.stream().map(Scene::videoUid).toList()).isNotNull();
      Scene.SceneQuery keys = truth.queries().stream()
          .filter(q -> q.query().equals("Where did I put the keys?")).findFirst().orElseThrow();
      double s = (top.path("startMs").asLong() - demo.startMsOf(stream)) / 1000.0;
      double e = (top.path("endMs").asLong() - demo.startMsOf(stream)) / 1000.0;
      System.out.printf("keys: %s %.1f-%.1f s, truth %.1f-%.1f s%n", stream, s, e, keys.startSec(), keys.endSec());
      assertThat(s).isLessThan(keys.endSec());
      assertThat(e).isGreaterThan(keys.startSec());
      assertThat(top.path("thumbnailUrl").asText()).contains("/api/streams/" + stream + "/frame");

      // every question of every scene, restricted to its stream: R@5 at IoU 0.3
      int asked = 0;
      int hit = 0;
      for (Scene sc : demo.scenes()) {
        for (Scene.SceneQuery q : sc.queries()) {
          asked++;
          for (JsonNode r : demo.search(http, q.query(), 5, sc.videoUid()).path("results")) {
            assertThat(r.path("streamId").asText()).isEqualTo(sc.videoUid());
            double rs = (r.path("startMs").asLong() - demo.startMsOf(sc.videoUid())) / 1000.0;
            double re = (r.path("endMs").asLong() - demo.startMsOf(sc.videoUid())) / 1000.0;
            double inter = Math.max(0, Math.min(re, q.endSec()) - Math.max(rs, q.startSec()));
            double union = Math.max(re, q.endSec()) - Math.min(rs, q.startSec());
            if (union > 0 && inter / union > 0.3) {
              hit++;
              break;
            }
          }
        }
      }
      System.out.printf("live R@5 IoU0.3: %d of %d questions%n", hit, asked);
      assertThat(asked).isGreaterThanOrEqualTo(8);
      assertThat(hit).isGreaterThan(asked / 2);

      List<DemoRunner.Answer> answers = demo.examples(3);
      assertThat(answers).isNotEmpty().allSatisfy(a -> assertThat(a.streamId()).isNotNull());
      assertThat(demo.readyUrl()).startsWith("http://localhost:").contains("?token=" + demo.token());
      moments = Long.parseLong(first.get(first.size() - 1).replaceAll(".*\\] (\\d+) moments.*", "$1"));

      // the broker's retention checks run (a probe record of 2025 is deleted) and keep what the demo shows
      retentionCheckDeletes(demo.bootstrapServers());
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, demo.bootstrapServers()))) {
        Topics topics = Topics.defaults();
        for (String topic : List.of(topics.frames().name(), topics.features().name(), topics.moments().name())) {
          Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
          admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
              .forEach(p -> earliest.put(new TopicPartition(topic, p.partition()), OffsetSpec.earliest()));
          admin.listOffsets(earliest).all().get().forEach((tp, r) ->
              assertThat(r.offset()).as("log start offset of %s after a retention check", tp).isZero());
        }
      }
      // a thumbnail nobody asked for yet (not in the frame cache): read from moments.frames now
      String last = demo.scenes().get(demo.scenes().size() - 1).videoUid();
      HttpResponse<byte[]> frame = http.send(HttpRequest.newBuilder(URI.create(demo.baseUrl() + "api/streams/"
              + last + "/frame?t=" + (demo.startMsOf(last) + 7_000)))
          .header("Authorization", "Bearer " + demo.token()).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(frame.statusCode()).as(new String(frame.body(), StandardCharsets.UTF_8)).isEqualTo(200);
      assertThat(frame.headers().firstValue("Content-Type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("image/jpeg"));
      assertThat(frame.body()).startsWith((byte) 0xFF, (byte) 0xD8);
    }

    // Second run: models, broker data and index from the cache; nothing ingested or trained again
    List<String> second = new ArrayList<>();
    long t0 = System.nanoTime();
    try (DemoRunner demo = new DemoRunner(o, second::add)) {
      demo.start();
      second.forEach(System.out::println);
      assertThat(second).anyMatch(l -> l.contains("nothing new"));
      assertThat(second).anyMatch(l -> l.contains("model: cached"));
      assertThat(second.get(second.size() - 1)).contains("] " + moments + " moments of 4 streams");
    }
    System.out.printf("second run ready in %.1f s%n", (System.nanoTime() - t0) / 1e9);
  }
}
