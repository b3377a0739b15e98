package dev.moments.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.PipelineStatus;
import dev.moments.api.auth.TokenFile;
import dev.moments.api.auth.Tokens;
import dev.moments.api.frames.FrameStore;
import dev.moments.api.metrics.Metrics;
import dev.moments.api.search.MomentStore;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.topics.LoopHealth;
import io.javalin.testtools.HttpClient;
import io.javalin.testtools.JavalinTest;
import io.javalin.testtools.Response;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP layer over the real bundled text encoder and a real Lucene moment index: auth, filtering, validation, metrics,
 * OpenAPI and the page. Moments here carry the encoder's own embeddings of known sentences, so
 * the expected best hit is known exactly (similarity 1 for the same sentence).
 */
class ApiServerTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final long T0 = Instant.parse("2025-05-01T10:00:00Z").toEpochMilli();
  static TextEncoder encoder;
  static IndexedMoments moments;
  static MomentStore store;
  @TempDir static Path indexDir;

  @TempDir Path tmp;
  final Metrics metrics = new Metrics();

  @BeforeAll
  static void loadEncoder() {
    encoder = Encoders.loadText(Encoders.defaultDir());
    moments = new IndexedMoments(indexDir)
        .add("kitchen", T0, T0 + 20_000, encoder.encode("keys on the kitchen table"))
        .add("kitchen", T0 + 60_000, T0 + 80_000, encoder.encode("washing a red cup"))
        .add("garage", T0 + 30_000, T0 + 45_000, encoder.encode("a bicycle against the wall"))
        .add("garage", T0 + 120_000, T0 + 130_000, encoder.encode("keys on the kitchen table"));
    store = moments.store();
  }

  @AfterAll
  static void closeEncoder() {
    moments.close();
    encoder.close();
  }

  static final PipelineStatus UP = new PipelineStatus() {
    public boolean brokerReachable() { return true; }
    public boolean indexOpen() { return true; }
    public long ingestLag() { return 7; }
    public boolean caughtUp() { return true; }
  };

  static final FrameStore NO_FRAMES = new FrameStore() {
    public Optional<Frame> nearest(String streamId, long timeMs) { return Optional.empty(); }
    public Map<String, FrameSpan> frameSpans() { return Map.of("porch", new FrameSpan(3, T0, T0 + 2000)); }
  };

  Tokens tokens(String text) throws Exception {
    Path f = tmp.resolve("tokens.txt");
    Files.writeString(f, text);
    return TokenFile.load(f);
  }

  ApiServer server(Tokens tokens) {
    // the moments alone: these tests pin what the API does with the moments' own scores
    return new ApiServer(new ApiServer.Deps(encoder, store, NO_FRAMES, tokens, UP, metrics,
        dev.moments.model.rank.Rankers.laviti()));
  }

  static Response get(HttpClient client, String path, String token) {
    return client.get(path, r -> {
      if (token != null) {
        r.header("Authorization", "Bearer " + token);
      }
    });
  }

  static JsonNode json(Response r) throws Exception {
    return JSON.readTree(r.body().string());
  }

  static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static List<String> ids(JsonNode results, String field) {
    List<String> out = new ArrayList<>();
    results.forEach(n -> out.add(n.get(field).asText()));
    return out;
  }

  @Test
  void search_without_token_is_rejected() throws Exception {
    JavalinTest.test(server(tokens("all *\n")).app(), (s, client) -> {
      Response r = get(client, "/api/search?q=keys", null);
      assertThat(r.code()).isEqualTo(401);
      assertThat(json(r).get("error").asText()).startsWith("missing token");
      Response unknown = get(client, "/api/search?q=keys", "nope");
      assertThat(unknown.code()).isEqualTo(401);
      assertThat(json(unknown).get("error").asText()).isEqualTo("unknown token");
    });
  }

  @Test
  void search_returns_the_moment_whose_embedding_matches_the_question_first() throws Exception {
    JavalinTest.test(server(tokens("all *\n")).app(), (s, client) -> {
      Response r = get(client, "/api/search?q=" + q("washing a red cup") + "&k=3", "all");
      assertThat(r.code()).isEqualTo(200);
      JsonNode body = json(r);
      assertThat(body.get("query").asText()).isEqualTo("washing a red cup");
      assertThat(body.get("tookMs").asDouble()).isGreaterThanOrEqualTo(0);
      JsonNode first = body.get("results").get(0);
      assertThat(body.get("results")).hasSize(3);
      assertThat(first.get("streamId").asText()).isEqualTo("kitchen");
      assertThat(first.get("startMs").asLong()).isEqualTo(T0 + 60_000);
      assertThat(first.get("endMs").asLong()).isEqualTo(T0 + 80_000);
      assertThat(first.get("start").asText()).isEqualTo("2025-05-01T10:01:00Z");
      assertThat(first.get("end").asText()).isEqualTo("2025-05-01T10:01:20Z");
      assertThat(first.get("score").asDouble()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
      assertThat(first.get("thumbnailUrl").asText()).isEqualTo("/api/streams/kitchen/frame?t=" + (T0 + 70_000) + "&token=all");
    });
  }

  @Test
  void search_filters_out_streams_the_token_may_not_see() throws Exception {
    JavalinTest.test(server(tokens("# kitchen only\nk1 kitchen\nboth kitchen,garage\n")).app(), (s, client) -> {
      JsonNode both = json(get(client, "/api/search?q=" + q("a bicycle against the wall") + "&k=10", "both"));
      assertThat(ids(both.get("results"), "streamId")).contains("garage", "kitchen");
      assertThat(both.get("results").get(0).get("streamId").asText()).isEqualTo("garage");

      JsonNode k1 = json(get(client, "/api/search?q=" + q("a bicycle against the wall") + "&k=10", "k1"));
      assertThat(ids(k1.get("results"), "streamId")).hasSize(2).containsOnly("kitchen");

      JsonNode asked = json(get(client, "/api/search?q=keys&streams=garage", "k1"));
      assertThat(asked.get("results")).isEmpty();

      JsonNode streams = json(get(client, "/api/streams", "k1"));
      assertThat(ids(streams.get("streams"), "id")).containsExactly("kitchen");
    });
  }

  @Test
  void streams_join_index_moments_with_frame_counts() throws Exception {
    JavalinTest.test(server(Tokens.insecure()).app(), (s, client) -> {
      JsonNode streams = json(get(client, "/api/streams", null)).get("streams");
      assertThat(ids(streams, "id")).containsExactly("garage", "kitchen", "porch");
      JsonNode garage = streams.get(0);
      assertThat(garage.get("moments").asLong()).isEqualTo(2);
      assertThat(garage.get("firstMs").asLong()).isEqualTo(T0 + 30_000);
      assertThat(garage.get("lastMs").asLong()).isEqualTo(T0 + 130_000);
      JsonNode porch = streams.get(2);
      assertThat(porch.get("frames").asLong()).isEqualTo(3);
      assertThat(porch.get("moments").asLong()).isZero();
    });
  }

  @Test
  void stream_and_time_filters_narrow_the_results() throws Exception {
    JavalinTest.test(server(Tokens.insecure()).app(), (s, client) -> {
      String keys = "/api/search?q=" + q("keys on the kitchen table");
      JsonNode garageOnly = json(get(client, keys + "&streams=garage", null)).get("results");
      assertThat(ids(garageOnly, "streamId")).containsOnly("garage");
      assertThat(garageOnly.get(0).get("startMs").asLong()).isEqualTo(T0 + 120_000);

      // Only moments overlapping 10:00:50..10:01:10: the red cup (10:01:00-10:01:20).
      JsonNode window = json(get(client, keys + "&from=" + q("2025-05-01T10:00:50Z") + "&to=" + (T0 + 70_000), null))
          .get("results");
      assertThat(ids(window, "startMs")).containsExactly(Long.toString(T0 + 60_000));
    });
  }

  @Test
  void post_search_takes_the_same_fields_as_a_json_body() throws Exception {
    JavalinTest.test(server(tokens("t kitchen,garage\n")).app(), (s, client) -> {
      String body = "{\"q\":\"keys on the kitchen table\",\"streams\":[\"garage\"],\"from\":\"2025-05-01T10:01:00Z\",\"k\":5}";
      Response r = client.request("/api/search", b -> b.post(java.net.http.HttpRequest.BodyPublishers.ofString(body))
          .header("Authorization", "Bearer t").header("Content-Type", "application/json"));
      assertThat(r.code()).isEqualTo(200);
      JsonNode results = json(r).get("results");
      assertThat(results).hasSize(1);
      assertThat(results.get(0).get("startMs").asLong()).isEqualTo(T0 + 120_000);

      Response bad = client.request("/api/search", b -> b.post(java.net.http.HttpRequest.BodyPublishers.ofString("{\"q\":"))
          .header("Authorization", "Bearer t"));
      assertThat(bad.code()).isEqualTo(400);
      assertThat(json(bad).get("error").asText()).startsWith("body is not valid JSON");
    });
  }

  @Test
  void bad_inputs_are_400_with_a_json_error() throws Exception {
    JavalinTest.test(server(Tokens.insecure()).app(), (s, client) -> {
      Map<String, String> cases = new java.util.LinkedHashMap<>();
      cases.put("/api/search?q=keys&k=0", "k must be between 1 and 100");
      cases.put("/api/search?q=keys&k=101", "k must be between 1 and 100");
      cases.put("/api/search?q=keys&k=ten", "k has a bad value 'ten'");
      cases.put("/api/search?q=", "q must not be empty");
      cases.put("/api/search?q=%20%20", "q must not be empty");
      cases.put("/api/search", "q is required");
      cases.put("/api/search?q=" + "a".repeat(1001), "q must be at most 1000 characters");
      cases.put("/api/search?q=keys&from=yesterday", "from: 'yesterday' is not a time (ISO-8601 such as 2025-05-01T10:00:00Z, or epoch ms)");
      cases.put("/api/search?q=keys&from=2000&to=1000", "from must not be after to");
      cases.put("/api/streams/kitchen/frame", "t is required");
      for (Map.Entry<String, String> c : cases.entrySet()) {
        Response r = get(client, c.getKey(), null);
        assertThat(r.code()).as(c.getKey()).isEqualTo(400);
        assertThat(json(r).get("error").asText()).as(c.getKey()).isEqualTo(c.getValue());
      }
      assertThat(get(client, "/api/search?q=" + "a".repeat(1000), null).code()).isEqualTo(200);
    });
  }

  @Test
  void token_file_changes_take_effect_without_a_restart() throws Exception {
    Path f = tmp.resolve("tokens.txt");
    Files.writeString(f, "old kitchen\n");
    TokenFile tokens = TokenFile.load(f);
    JavalinTest.test(server(tokens).app(), (s, client) -> {
      assertThat(get(client, "/api/streams", "old").code()).isEqualTo(200);
      assertThat(get(client, "/api/streams", "new").code()).isEqualTo(401);
      Files.writeString(f, "new garage\n");
      Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 5000));
      assertThat(get(client, "/api/streams", "old").code()).isEqualTo(401);
      Response r = get(client, "/api/streams", "new");
      assertThat(r.code()).isEqualTo(200);
      assertThat(ids(json(r).get("streams"), "id")).containsExactly("garage");
    });
  }

  @Test
  void metrics_expose_the_search_latency_histogram_request_counts_and_gauges() throws Exception {
    JavalinTest.test(server(tokens("t *\n")).app(), (s, client) -> {
      get(client, "/api/search?q=keys", "t");
      get(client, "/api/search?q=cup&k=2", "t");
      get(client, "/api/search?q=keys", null);
      get(client, "/api/search?q=keys&k=0", "t");
      Response r = get(client, "/metrics", null);
      assertThat(r.code()).isEqualTo(200);
      assertThat(r.headers().get("Content-Type")).anySatisfy(v -> assertThat(v).startsWith("text/plain"));
      String text = r.body().string();
      Map<String, Double> m = Metrics.parse(text);
      assertThat(m.get("moments_search_latency_seconds_count")).isEqualTo(2.0);
      assertThat(m.get("moments_search_latency_seconds_bucket{le=\"+Inf\"}")).isEqualTo(2.0);
      assertThat(m).containsKey("moments_search_latency_seconds_bucket{le=\"0.005\"}");
      assertThat(m.get("moments_search_latency_seconds_sum")).isGreaterThan(0);
      assertThat(m.get("moments_http_requests_total{method=\"GET\",route=\"/api/search\",status=\"200\"}")).as(text).isEqualTo(2.0);
      assertThat(m.get("moments_http_requests_total{method=\"GET\",route=\"/api/search\",status=\"401\"}")).as(text).isEqualTo(1.0);
      assertThat(m.get("moments_http_requests_total{method=\"GET\",route=\"/api/search\",status=\"400\"}")).isEqualTo(1.0);
      assertThat(m.get("moments_ingest_lag_records")).isEqualTo(7.0);
      assertThat(m.get("moments_index_moments")).isEqualTo(4.0);
    });
  }

  @Test
  void openapi_document_parses_and_lists_every_route() throws Exception {
    JavalinTest.test(server(Tokens.insecure()).app(), (s, client) -> {
      Response r = get(client, "/openapi.json", null);
      assertThat(r.code()).isEqualTo(200);
      JsonNode doc = json(r);
      assertThat(doc.get("openapi").asText()).startsWith("3.");
      List<String> documented = new ArrayList<>();
      doc.get("paths").properties().forEach(p -> p.getValue().properties()
          .forEach(op -> documented.add(op.getKey().toUpperCase() + " " + p.getKey())));
      assertThat(documented).containsExactlyInAnyOrderElementsOf(ApiServer.ROUTES);
      // Every listed route is really served (none answers 404 as unmatched).
      for (String route : ApiServer.ROUTES) {
        String path = route.split(" ")[1].replace("{id}", "kitchen");
        Response answer = route.startsWith("POST")
            ? client.request(path, b -> b.post(java.net.http.HttpRequest.BodyPublishers.ofString(
                path.equals("/api/alerts") ? "{\"q\":\"keys\",\"minScore\":0.5}" : "{\"q\":\"keys\"}")))
            : route.startsWith("DELETE") ? client.request(path, b -> b.delete(java.net.http.HttpRequest.BodyPublishers.noBody()))
            : get(client, path + (path.startsWith("/api/search") ? "?q=keys" : path.endsWith("frame") ? "?t=1" : ""), null);
        assertThat(answer.code()).as(route).isIn(200, 201 /* a rule */, 404 /* no frame, no rule */,
            406 /* an event stream */);
        if (answer.code() == 404) {
          assertThat(json(answer).get("error").asText()).as(route)
              .matches("no frame of stream 'kitchen'.*|no alert rule 'kitchen'.*");
        }
        if (answer.code() == 406) {
          assertThat(route).isEqualTo("GET /api/alerts/stream");
        }
      }
    });
  }

  @Test
  void health_reports_broker_index_and_lag() throws Exception {
    JavalinTest.test(server(tokens("t *\n")).app(), (s, client) -> {
      Response r = get(client, "/health", null);
      assertThat(r.code()).isEqualTo(200);
      JsonNode h = json(r);
      assertThat(h.get("status").asText()).isEqualTo("ok");
      assertThat(h.get("broker").asBoolean()).isTrue();
      assertThat(h.get("lag").asLong()).isEqualTo(7);
    });
  }

  @Test
  void health_names_a_loop_failing_past_the_grace_and_a_stopped_loop_makes_it_503() throws Exception {
    Instant now = Instant.now();
    LoopHealth.Status ok = new LoopHealth.Status("materializer", LoopHealth.State.OK, now.minusSeconds(600), 0, null);
    LoopHealth.Status brief = new LoopHealth.Status("frames-counter", LoopHealth.State.DEGRADED, now.minusSeconds(2), 3,
        "TimeoutException: Timeout expired while fetching topic metadata");
    LoopHealth.Status failing = new LoopHealth.Status("frames-counter", LoopHealth.State.DEGRADED, now.minusSeconds(60), 17,
        "TimeoutException: Timeout expired while fetching topic metadata");
    LoopHealth.Status stopped = new LoopHealth.Status("materializer", LoopHealth.State.STOPPED, now.minusSeconds(5), 0,
        "IllegalStateException: index is corrupt");

    JsonNode h = health(200, ok, brief);
    assertThat(h.get("status").asText()).as("a loop failing for 2 s is within the grace").isEqualTo("ok");
    assertThat(h.get("problems")).isEmpty();
    assertThat(h.at("/loops/materializer/state").asText()).isEqualTo("ok");
    assertThat(h.at("/loops/materializer").has("reason")).isFalse();
    assertThat(h.at("/loops/frames-counter/state").asText()).isEqualTo("degraded");
    assertThat(h.at("/loops/frames-counter/failures").asLong()).isEqualTo(3);

    h = health(200, ok, failing);
    assertThat(h.get("status").asText()).isEqualTo("degraded");
    assertThat(h.get("problems")).hasSize(1);
    assertThat(h.get("problems").get(0).asText()).isEqualTo("frames-counter failing since " + failing.since()
        + " (17 attempts): TimeoutException: Timeout expired while fetching topic metadata");

    h = health(503, stopped, brief);
    assertThat(h.get("status").asText()).isEqualTo("degraded");
    assertThat(h.at("/loops/materializer/state").asText()).isEqualTo("stopped");
    assertThat(h.at("/loops/materializer/since").asText()).isEqualTo(stopped.since().toString());
    assertThat(h.get("problems").get(0).asText())
        .isEqualTo("materializer stopped at " + stopped.since() + ": IllegalStateException: index is corrupt");
  }

  @Test
  void a_frame_that_cannot_be_read_now_is_503_with_retry_after() throws Exception {
    FrameStore unreachable = new FrameStore() {
      public Optional<Frame> nearest(String streamId, long timeMs) {
        throw new FrameStore.Unavailable("frame of stream 'kitchen' cannot be read now: broker unreachable", null);
      }
      public Map<String, FrameSpan> frameSpans() { return Map.of(); }
    };
    ApiServer server = new ApiServer(new ApiServer.Deps(encoder, store, unreachable, tokens("t *\n"), UP, new Metrics()));
    JavalinTest.test(server.app(), (s, client) -> {
      Response r = get(client, "/api/streams/kitchen/frame?t=1", "t");
      assertThat(r.code()).isEqualTo(503);
      assertThat(r.headers().get("Retry-After")).containsExactly("5");
      assertThat(json(r).get("error").asText()).isEqualTo("frame of stream 'kitchen' cannot be read now: broker unreachable");
    });
  }

  private JsonNode health(int expectedStatus, LoopHealth.Status... loops) throws Exception {
    PipelineStatus status = new PipelineStatus() {
      public boolean brokerReachable() { return true; }
      public boolean indexOpen() { return true; }
      public long ingestLag() { return 0; }
      public boolean caughtUp() { return true; }
      public List<LoopHealth.Status> loops() { return List.of(loops); }
    };
    ApiServer server = new ApiServer(new ApiServer.Deps(encoder, store, NO_FRAMES, tokens("t *\n"), status, new Metrics()));
    JsonNode[] body = new JsonNode[1];
    JavalinTest.test(server.app(), (s, client) -> {
      Response r = get(client, "/health", null);
      assertThat(r.code()).isEqualTo(expectedStatus);
      body[0] = json(r);
    });
    return body[0];
  }

  @Test
  void the_web_page_is_served_at_the_root_without_a_token() throws Exception {
    JavalinTest.test(server(tokens("t *\n")).app(), (s, client) -> {
      Response page = get(client, "/", null);
      assertThat(page.code()).isEqualTo(200);
      assertThat(page.body().string()).contains("<form id=\"search\"", "/app.js");
      Response js = get(client, "/app.js", null);
      assertThat(js.code()).isEqualTo(200);
      assertThat(js.body().string()).contains("sessionStorage", "Authorization");
    });
  }
}
