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

/** The demo end to end at a small size: rendered video -> Kafka -> features -> moments -> HTTP. */
class DemoRunnerTest {
  @TempDir Path data;

  @Test
  void the_demo_indexes_its_streams_answers_over_http_and_restarts_from_its_cache() throws Exception {
    DemoRunner.Options o = new DemoRunner.Options(data, 0, 2, 0.5, 3, 0, null, null);
    List<String> first = new ArrayList<>();
    long moments;
    try (DemoRunner demo = new DemoRunner(o, first::add)) {
      demo.start();
      assertThat(first).anyMatch(l -> l.contains("frames of 2 streams"));
      HttpClient http = HttpClient.newHttpClient();
      JsonNode body = demo.search(http, "where did I put the keys", 10);
      JsonNode results = body.path("results");
      assertThat(results.size()).isEqualTo(10);
      for (JsonNode r : results) {
        // every answer is a moment of a demo stream, inside that stream's video
        int video = demo.scenes().stream().map(Scene::videoUid).toList().indexOf(r.path("streamId").asText());
        assertThat(video).isNotNegative();
        long start = DemoRunner.startMs(video);
        long end = start + (long) (demo.scenes().get(video).durationSec() * 1000) + 1000;
        assertThat(r.path("startMs").asLong()).isBetween(start, end);
        assertThat(r.path("endMs").asLong()).isBetween(r.path("startMs").asLong(), end);
        assertThat(r.path("thumbnailUrl").asText()).contains("/api/streams/" + r.path("streamId").asText() + "/frame");
      }
      List<DemoRunner.Answer> answers = demo.examples(2);
      long withQuestions = demo.scenes().stream().filter(sc -> !sc.queries().isEmpty()).count();
      assertThat(answers).hasSize((int) Math.min(2, withQuestions))
          .allSatisfy(a -> assertThat(a.streamId()).isNotNull());
      assertThat(demo.readyUrl()).startsWith("http://localhost:").contains("?token=" + demo.token());
      moments = Long.parseLong(first.get(first.size() - 1).replaceAll(".*\\] (\\d+) moments.*", "$1"));
    }

    // Second run: same broker data, same index; nothing is ingested again, nothing duplicated.
    List<String> second = new ArrayList<>();
    try (DemoRunner demo = new DemoRunner(o, second::add)) {
      demo.start();
      assertThat(second).anyMatch(l -> l.contains("nothing new"));
      assertThat(second.get(second.size() - 1)).contains("] " + moments + " moments of 2 streams");
    }
  }
}
