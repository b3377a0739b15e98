package dev.moments.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.alerts.AlertRules;
import dev.moments.api.auth.TokenFile;
import dev.moments.api.auth.Tokens;
import dev.moments.api.metrics.Metrics;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.topics.AlertRule;
import io.javalin.testtools.HttpClient;
import io.javalin.testtools.JavalinTest;
import io.javalin.testtools.Response;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /api/alerts} over the real bundled text encoder, with rules kept in memory: what a rule
 * stores (owner = token hash, the query's embedding = the search encoder's), what each call shows,
 * ownership, stream access and validation.
 */
class AlertsApiTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static TextEncoder encoder;
  static IndexedMoments moments;
  @TempDir static Path dir;

  @BeforeAll
  static void load() {
    encoder = Encoders.loadText(Encoders.defaultDir());
    moments = new IndexedMoments(dir.resolve("index"));
  }

  @AfterAll
  static void close() {
    moments.close();
    encoder.close();
  }

  final AlertRules rules = AlertRules.inMemory();

  ApiServer server(Tokens tokens) {
    return new ApiServer(new ApiServer.Deps(encoder, moments.store(), ApiServerTest.NO_FRAMES, tokens,
        ApiServerTest.UP, new Metrics(), dev.moments.model.rank.Rankers.laviti(), rules));
  }

  static Tokens tokens() throws Exception {
    Path f = dir.resolve("tokens.txt");
    Files.writeString(f, "all *\nkitchen kitchen\ngarage garage,porch\nnone nothing-here\n");
    return TokenFile.load(f);
  }

  static Response post(HttpClient c, String token, String body) {
    return c.request("/api/alerts", b -> b.header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json").post(HttpRequest.BodyPublishers.ofString(body)));
  }

  static Response delete(HttpClient c, String token, String id) {
    return c.request("/api/alerts/" + id, b -> b.header("Authorization", "Bearer " + token).delete(java.net.http.HttpRequest.BodyPublishers.noBody()));
  }

  static Response list(HttpClient c, String token) {
    return c.get("/api/alerts", b -> b.header("Authorization", "Bearer " + token));
  }

  static JsonNode json(Response r) throws Exception {
    return JSON.readTree(r.body().string());
  }

  static String sha256(String s) throws Exception {
    return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }


  @Test
  void a_rule_is_made_encoded_once_listed_without_its_secret_and_deleted_by_its_owner_only() throws Exception {
    JavalinTest.test(server(tokens()).app(), (s, c) -> {
      Response made = post(c, "kitchen", "{\"q\": \"  the keys are put on the shelf \", \"streams\": [\"kitchen\"],"
          + " \"minScore\": 0.3, \"cooldown\": \"90s\", \"webhook\": \"http://127.0.0.1:9/hook\"}");
      assertThat(made.code()).isEqualTo(201);
      JsonNode r = json(made);
      String id = r.get("id").asText();
      assertThat(id).matches("r-[0-9a-f]{16}");
      assertThat(made.headers().get("Location")).containsExactly("/api/alerts/" + id);
      assertThat(r.get("q").asText()).isEqualTo("the keys are put on the shelf");
      assertThat(r.get("streams").get(0).asText()).isEqualTo("kitchen");
      assertThat(r.get("minScore").floatValue()).isEqualTo(0.3f);
      assertThat(r.get("cooldown").asText()).isEqualTo("90s");
      assertThat(r.get("cooldownMs").asLong()).isEqualTo(90_000);
      assertThat(r.get("webhook").asText()).isEqualTo("http://127.0.0.1:9/hook");
      assertThat(r.get("secret").asText()).matches("[0-9a-f]{64}");
      assertThat(r.has("embedding")).isFalse();

      AlertRule stored = rules.get(id).orElseThrow();
      assertThat(stored.owner()).isEqualTo(sha256("kitchen"));
      assertThat(stored.secret()).isEqualTo(r.get("secret").asText());
      assertThat(stored.encoder()).isEqualTo(encoder.id());
      assertThat(stored.embedding()).containsExactly(encoder.encode("the keys are put on the shelf"));

      JsonNode listed = json(list(c, "kitchen")).get("rules");
      assertThat(listed).hasSize(1);
      assertThat(listed.get(0).get("id").asText()).isEqualTo(id);
      assertThat(listed.get(0).has("secret")).isFalse();
      assertThat(listed.get(0).has("embedding")).isFalse();
      assertThat(json(list(c, "all")).get("rules")).isEmpty(); // another token sees none of it

      Response foreign = delete(c, "all", id);
      assertThat(foreign.code()).isEqualTo(404);
      assertThat(json(foreign).get("error").asText()).isEqualTo("no alert rule '" + id + "' of this token");
      assertThat(rules.get(id)).isPresent();
      assertThat(delete(c, "kitchen", id).code()).isEqualTo(204);
      assertThat(rules.get(id)).isEmpty();
      assertThat(delete(c, "kitchen", id).code()).isEqualTo(404);
      assertThat(json(list(c, "kitchen")).get("rules")).isEmpty();
    });
  }

  @Test
  void streams_default_to_the_tokens_and_a_stream_outside_them_is_forbidden() throws Exception {
    JavalinTest.test(server(tokens()).app(), (s, c) -> {
      JsonNode limited = json(post(c, "garage", "{\"q\": \"a bicycle\", \"minScore\": 0.5}"));
      assertThat(limited.get("streams").toString()).isEqualTo("[\"garage\",\"porch\"]");
      assertThat(limited.get("minScore").floatValue()).isEqualTo(0.5f);
      assertThat(limited.get("cooldown").asText()).isEqualTo("1m");
      assertThat(limited.get("webhook").isNull()).isTrue();
      JsonNode every = json(post(c, "all", "{\"q\": \"a bicycle\", \"streams\": [], \"minScore\": 0.5}"));
      assertThat(every.get("streams")).isEmpty(); // every stream, present and future
      Response denied = post(c, "garage", "{\"q\": \"a bicycle\", \"streams\": [\"garage\", \"kitchen\"], \"minScore\": 0.5}");
      assertThat(denied.code()).isEqualTo(403);
      assertThat(json(denied).get("error").asText()).isEqualTo("this token may not see stream(s) [kitchen]");
    });
  }

  @Test
  void bad_rules_are_400_with_the_reason() throws Exception {
    String longQ = "x".repeat(1001);
    List<String[]> cases = List.of(
        new String[] {"[1]", "body must be a JSON object"},
        new String[] {"{}", "q is required"},
        new String[] {"{\"q\": 5}", "q must be a string"},
        new String[] {"{\"q\": \" \\u200b \"}", "q must not be empty"},
        new String[] {"{\"q\": \"" + longQ + "\"}", "q must be at most 1000 characters, got 1001"},
        new String[] {"{\"q\": \"k\"}", "minScore is required"},
        new String[] {"{\"q\": \"k\", \"minScore\": 1.5}", "minScore must be a number between -1 and 1"},
        new String[] {"{\"q\": \"k\", \"minScore\": \"0.3\"}", "minScore must be a number between -1 and 1"},
        new String[] {"{\"q\": \"k\", \"minScore\": 0.5, \"cooldown\": \"soon\"}", "cooldown must be a duration such as"},
        new String[] {"{\"q\": \"k\", \"minScore\": 0.5, \"cooldown\": -1}", "cooldown must not be negative"},
        new String[] {"{\"q\": \"k\", \"minScore\": 0.5, \"cooldown\": \"8d\"}", "cooldown must be at most 7d"},
        new String[] {"{\"q\": \"k\", \"minScore\": 0.5, \"cooldown\": \"99999999999d\"}", "cooldown must be at most 7d"},
        new String[] {"{\"q\": \"k\", \"minScore\": 0.5, \"webhook\": \"ftp://x/y\"}", "webhook must be an absolute http or https URL"},
        new String[] {"{\"q\": \"k\", \"minScore\": 0.5, \"webhook\": \"/relative\"}", "webhook must be an absolute http or https URL"},
        new String[] {"{\"q\": \"k\", \"minScore\": 0.5, \"webhook\": \"http://u:p@h/x\"}", "webhook must not carry a user"},
        new String[] {"{\"q\": \"k\", \"minScore\": 0.5, \"webhook\": \"http://a b\"}", "webhook is not a URL"},
        new String[] {"{\"q\": \"k\", \"minScore\": 0.5, \"streams\": \"kitchen\"}", "streams must be an array of stream ids"},
        new String[] {"{\"q\": \"k\", \"minScore\": 0.5, \"streams\": [1]}", "streams must be an array of non-empty strings"},
        new String[] {"{\"q\": \"k\", \"minscore\": 0.3}", "unknown field 'minscore'"});
    JavalinTest.test(server(tokens()).app(), (s, c) -> {
      for (String[] t : cases) {
        Response r = post(c, "all", t[0]);
        assertThat(r.code()).as(t[0]).isEqualTo(400);
        assertThat(json(r).get("error").asText()).as(t[0]).startsWith(t[1]);
      }
      Response noStreams = post(c, "none", "{\"q\": \"k\", \"minScore\": 0.5, \"streams\": [\"kitchen\"]}");
      assertThat(noStreams.code()).isEqualTo(403);
      Response anonymous = c.request("/api/alerts", b -> b.post(HttpRequest.BodyPublishers.ofString("{\"q\":\"k\"}")));
      assertThat(anonymous.code()).isEqualTo(401);
      assertThat(rules.all()).isEmpty();
    });
  }

  @Test
  void an_insecure_server_owns_rules_as_insecure() throws Exception {
    JavalinTest.test(server(Tokens.insecure()).app(), (s, c) -> {
      Response made = c.request("/api/alerts", b -> b.post(HttpRequest.BodyPublishers.ofString("{\"q\":\"keys\", \"minScore\": 0.5, \"cooldown\": 0}")));
      assertThat(made.code()).isEqualTo(201);
      assertThat(json(made).get("cooldown").asText()).isEqualTo("0s");
      assertThat(rules.all()).singleElement().extracting(AlertRule::owner).isEqualTo("insecure");
    });
  }
}
