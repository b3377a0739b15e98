package dev.moments.app.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moments.world.Scene;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo world end to end at a small size (4 rendered videos of 2 min): scenes -> pocket
 * encoders and LAVITI trained on them -> video files ingested through Kafka as camera streams ->
 * featurizer -> indexer -> Lucene -> questions over HTTP; then a second run from the cache.
 *
 * <p>Measured: live R@5 IoU0.3 = 9 of the scenes' 10 questions, "Where did I put the keys?" at
 * rank 1 on the right stream (44.4-45.9 s against the truth 43.3-46.5 s); offline evaluation of
 * the same models gave R@1/R@5 IoU0.3 = 0.7/0.9 in two runs (0.3/0.5-0.7 at the old lr 3e-4). The live index reads each video as
 * one window (hop = window, the idle flush), as offline evaluation does, so the same answers come
 * back. "Most questions" = more than half at R@5, four questions of margin.
 */
class DemoRunnerTest {
  @TempDir Path data;

  @Test
  void the_demo_answers_where_the_keys_are_over_http_and_restarts_from_its_cache() throws Exception {
    DemoRunner.Options o = new DemoRunner.Options(data, 0, 4, 2, 1, 0, null, null);
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
