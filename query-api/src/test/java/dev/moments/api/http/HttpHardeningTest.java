package dev.moments.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.auth.TokenFile;
import dev.moments.api.auth.Tokens;
import dev.moments.api.frames.FrameStore;
import dev.moments.api.metrics.Metrics;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.TextEncoder;
import io.javalin.testtools.JavalinTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API's edges, over raw sockets so that any method, size and body can be sent: strict
 * POST bodies, JSON errors from Javalin and from Jetty, bounded metric labels, security and cache
 * headers, and questions made only of invisible characters.
 */
class HttpHardeningTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final long T0 = ApiServerTest.T0;
  static TextEncoder encoder;
  static IndexedMoments moments;
  @TempDir static Path indexDir;

  @TempDir Path tmp;
  final Metrics metrics = new Metrics();

  @BeforeAll
  static void index() {
    encoder = Encoders.loadText(Encoders.defaultDir());
    moments = new IndexedMoments(indexDir)
        .add("kitchen", T0, T0 + 20_000, encoder.encode("keys on the kitchen table"))
        .add("garage", T0 + 30_000, T0 + 45_000, encoder.encode("a bicycle against the wall"))
        .add("garage", T0 + 120_000, T0 + 130_000, encoder.encode("keys on the kitchen table"));
  }

  @AfterAll
  static void close() {
    moments.close();
    encoder.close();
  }

  /** One answer: status, lower-cased header names to values, body. */
  record Answer(int status, Map<String, String> headers, String body) {
    JsonNode json() throws IOException {
      assertThat(headers.get("content-type")).as(body).startsWith("application/json");
      return JSON.readTree(body);
    }

    String error() throws IOException {
      return json().get("error").asText();
    }
  }

  static final String AUTH = "Authorization: Bearer t\r\n";

  static final FrameStore ONE_FRAME = new FrameStore() {
    public Optional<Frame> nearest(String streamId, long timeMs) {
      return Optional.of(new Frame(streamId, T0, new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xd9}));
    }

    public Map<String, FrameSpan> frameSpans() {
      return Map.of();
    }
  };

  static Answer send(int port, String method, String target, String headers, String body) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
      String head = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + headers
          + (body == null ? "" : "Content-Type: application/json\r\nContent-Length: " + b.length + "\r\n") + "\r\n";
      OutputStream out = s.getOutputStream();
      out.write(head.getBytes(StandardCharsets.UTF_8));
      try {
        out.write(b);
        out.flush();
      } catch (IOException e) {
        // the server may answer (413) and close before reading the whole body
      }
      ByteArrayOutputStream in = new ByteArrayOutputStream();
      try {
        s.getInputStream().transferTo(in);
      } catch (IOException e) {
        // connection reset after a complete answer
      }
      String text = in.toString(StandardCharsets.UTF_8);
      int end = text.indexOf("\r\n\r\n");
      List<String> lines = text.substring(0, end).lines().toList();
      Map<String, String> hs = new LinkedHashMap<>();
      for (String l : lines.subList(1, lines.size())) {
        int c = l.indexOf(':');
        hs.put(l.substring(0, c).strip().toLowerCase(), l.substring(c + 1).strip());
      }
      String rest = text.substring(end + 4);
      if ("chunked".equalsIgnoreCase(hs.get("transfer-encoding"))) {
        rest = dechunk(rest);
      }
      return new Answer(Integer.parseInt(lines.get(0).split(" ")[1]), hs, rest);
    }
  }

  private static String dechunk(String s) {
    StringBuilder b = new StringBuilder();
    int i = 0;
    while (true) {
      int nl = s.indexOf("\r\n", i);
      int n = Integer.parseInt(s.substring(i, nl).strip(), 16);
      if (n == 0) {
        return b.toString();
      }
      b.append(s, nl + 2, nl + 2 + n);
      i = nl + 2 + n + 2;
    }
  }

  ApiServer server(FrameStore frames) throws Exception {
    Path f = tmp.resolve("tokens.txt");
    Files.writeString(f, "t *\n");
    return new ApiServer(new ApiServer.Deps(encoder, moments.store(), frames, TokenFile.load(f), ApiServerTest.UP, metrics));
  }

  static Answer post(int port, String body) throws IOException {
    return send(port, "POST", "/api/search", AUTH, body);
  }

  @Test
  void post_search_with_a_null_or_non_object_body_is_400() throws Exception {
    JavalinTest.test(server(ApiServerTest.NO_FRAMES).app(), (s, client) -> {
      Answer nul = post(s.port(), "null");
      assertThat(nul.status()).as(nul.body()).isEqualTo(400);
      assertThat(nul.error()).isEqualTo("body must be a JSON object such as {\"q\": \"keys\"}, got null");
      Answer empty = post(s.port(), "");
      assertThat(empty.status()).as(empty.body()).isEqualTo(400);
      assertThat(empty.error()).isEqualTo("body must be a JSON object such as {\"q\": \"keys\"}, got nothing");
    });
  }

  @Test
  void out_of_range_times_are_400_in_post_as_in_get() throws Exception {
    JavalinTest.test(server(ApiServerTest.NO_FRAMES).app(), (s, client) -> {
      String expected = "from: '+300000000-01-01T00:00:00Z' is not a time: out of range (epoch ms must fit in 64 bits)";
      Answer p = post(s.port(), "{\"q\":\"keys\",\"from\":\"+300000000-01-01T00:00:00Z\"}");
      assertThat(p.status()).as(p.body()).isEqualTo(400);
      assertThat(p.error()).isEqualTo(expected);
      Answer g = send(s.port(), "GET", "/api/search?q=keys&from=%2B300000000-01-01T00:00:00Z", AUTH, null);
      assertThat(g.status()).isEqualTo(400);
      assertThat(g.error()).isEqualTo(expected);
      Answer big = post(s.port(), "{\"q\":\"keys\",\"to\":123456789012345678901234567890}");
      assertThat(big.status()).as(big.body()).isEqualTo(400);
      assertThat(big.error()).isEqualTo("to must be ISO-8601 text or an epoch ms integer, got 123456789012345678901234567890");
    });
  }

  @Test
  void post_k_must_be_an_integer_json_number() throws Exception {
    JavalinTest.test(server(ApiServerTest.NO_FRAMES).app(), (s, client) -> {
      Map<String, String> cases = new LinkedHashMap<>();
      cases.put("1.9", "k must be an integer between 1 and 100, got 1.9");
      cases.put("\"5\"", "k must be an integer between 1 and 100, got \"5\"");
      cases.put("true", "k must be an integer between 1 and 100, got true");
      cases.put("0", "k must be between 1 and 100");
      cases.put("4294967297", "k must be between 1 and 100");
      for (Map.Entry<String, String> c : cases.entrySet()) {
        Answer a = post(s.port(), "{\"q\":\"keys\",\"k\":" + c.getKey() + "}");
        assertThat(a.status()).as(c.getKey() + " -> " + a.body()).isEqualTo(400);
        assertThat(a.error()).as(c.getKey()).isEqualTo(c.getValue());
      }
      Answer ok = post(s.port(), "{\"q\":\"keys\",\"k\":2}");
      assertThat(ok.status()).isEqualTo(200);
      assertThat(ok.json().get("results")).hasSize(2);
      // GET stays strict too
      assertThat(send(s.port(), "GET", "/api/search?q=keys&k=1.9", AUTH, null).error()).isEqualTo("k has a bad value '1.9'");
    });
  }

  @Test
  void post_errors_name_the_field_never_a_java_class() throws Exception {
    JavalinTest.test(server(ApiServerTest.NO_FRAMES).app(), (s, client) -> {
      Map<String, String> cases = new LinkedHashMap<>();
      cases.put("[1]", "body must be a JSON object such as {\"q\": \"keys\"}, got array");
      cases.put("{\"q\":[\"keys\"]}", "q must be a string");
      cases.put("{\"q\":{}}", "q must be a string");
      cases.put("{\"q\":\"keys\",\"streams\":{\"a\":1}}", "streams must be an array of strings or a comma-separated string");
      cases.put("{\"q\":\"keys\",\"streams\":[1]}", "streams must be an array of strings or a comma-separated string");
      cases.put("{\"q\":\"keys\",\"from\":[]}", "from must be ISO-8601 text or an epoch ms integer, got []");
      for (Map.Entry<String, String> c : cases.entrySet()) {
        Answer a = post(s.port(), c.getKey());
        assertThat(a.status()).as(c.getKey() + " -> " + a.body()).isEqualTo(400);
        assertThat(a.error()).as(c.getKey()).isEqualTo(c.getValue()).doesNotContain("$", "java.", "dev.moments");
      }
    });
  }

  @Test
  void protocol_errors_from_javalin_and_jetty_are_json() throws Exception {
    JavalinTest.test(server(ApiServerTest.NO_FRAMES).app(), (s, client) -> {
      Answer notFound = send(s.port(), "GET", "/nope", "", null);
      assertThat(notFound.status()).isEqualTo(404);
      assertThat(notFound.error()).isEqualTo("no route /nope");
      Answer method = send(s.port(), "DELETE", "/api/search", AUTH, null);
      assertThat(method.status()).isEqualTo(405);
      assertThat(method.error()).isEqualTo("method DELETE is not allowed on /api/search");
      Answer tooBig = post(s.port(), "{\"q\":\"" + "a".repeat(ApiServer.MAX_BODY_BYTES) + "\"}");
      assertThat(tooBig.status()).isEqualTo(413);
      assertThat(tooBig.error()).isEqualTo("request body too large (at most 65536 bytes)");
      Answer longUri = send(s.port(), "GET", "/api/search?q=" + "a".repeat(70_000), AUTH, null);
      assertThat(longUri.status()).isEqualTo(414);
      assertThat(longUri.error()).isEqualTo("request URI too long");
      Answer bigHeader = send(s.port(), "GET", "/health", "X-Big: " + "a".repeat(70_000) + "\r\n", null);
      assertThat(bigHeader.status()).isEqualTo(431);
      assertThat(bigHeader.error()).isEqualTo("request headers too large");
    });
  }

  @Test
  void invented_http_methods_share_one_metric_series() throws Exception {
    JavalinTest.test(server(ApiServerTest.NO_FRAMES).app(), (s, client) -> {
      for (String m : List.of("FOO", "BAR", "BAZ1", "QUUX")) {
        send(s.port(), m, "/health", "", null);
      }
      String text = send(s.port(), "GET", "/metrics", "", null).body();
      Map<String, Double> m = Metrics.parse(text);
      assertThat(text).doesNotContain("FOO", "BAR", "BAZ1", "QUUX");
      assertThat(m.get("moments_http_requests_total{method=\"OTHER\",route=\"unmatched\",status=\"405\"}")).as(text).isEqualTo(4.0);
    });
    Metrics direct = new Metrics();
    direct.request("X" + System.nanoTime(), "/health", 405);
    direct.request("GET", "/health", 1000);
    assertThat(Metrics.parse(direct.scrape())).containsKeys(
        "moments_http_requests_total{method=\"OTHER\",route=\"/health\",status=\"405\"}",
        "moments_http_requests_total{method=\"GET\",route=\"/health\",status=\"0\"}");
  }

  @Test
  void every_answer_carries_the_security_headers() throws Exception {
    JavalinTest.test(server(ApiServerTest.NO_FRAMES).app(), (s, client) -> {
      Map<String, Answer> answers = new LinkedHashMap<>();
      answers.put("page", send(s.port(), "GET", "/", "", null));
      answers.put("script", send(s.port(), "GET", "/app.js", "", null));
      answers.put("search", send(s.port(), "GET", "/api/search?q=keys", AUTH, null));
      answers.put("401", send(s.port(), "GET", "/api/search?q=keys", "", null));
      answers.put("404", send(s.port(), "GET", "/nope", "", null));
      answers.put("414", send(s.port(), "GET", "/" + "a".repeat(70_000), "", null));
      for (Map.Entry<String, Answer> a : answers.entrySet()) {
        Map<String, String> h = a.getValue().headers();
        assertThat(h.get("x-content-type-options")).as(a.getKey()).isEqualTo("nosniff");
        assertThat(h.get("referrer-policy")).as(a.getKey()).isEqualTo("no-referrer");
        assertThat(h.get("content-security-policy")).as(a.getKey()).contains("frame-ancestors 'none'", "default-src 'self'");
      }
    });
  }

  @Test
  void frames_fetched_with_a_token_are_never_stored_by_caches() throws Exception {
    JavalinTest.test(server(ONE_FRAME).app(), (s, client) -> {
      Answer byQuery = send(s.port(), "GET", "/api/streams/kitchen/frame?t=1&token=t", "", null);
      assertThat(byQuery.status()).isEqualTo(200);
      assertThat(byQuery.headers().get("cache-control")).isEqualTo("private, no-store");
      Answer byHeader = send(s.port(), "GET", "/api/streams/kitchen/frame?t=1", AUTH, null);
      assertThat(byHeader.headers().get("cache-control")).isEqualTo("private, no-store");
    });
    ApiServer open = new ApiServer(new ApiServer.Deps(encoder, moments.store(), ONE_FRAME, Tokens.insecure(), ApiServerTest.UP, metrics));
    JavalinTest.test(open.app(), (s, client) -> assertThat(send(s.port(), "GET", "/api/streams/kitchen/frame?t=1", "", null)
        .headers().get("cache-control")).isEqualTo("private, max-age=3600"));
  }

  @Test
  void questions_made_only_of_invisible_characters_are_empty() throws Exception {
    JavalinTest.test(server(ApiServerTest.NO_FRAMES).app(), (s, client) -> {
      // NBSP U+00A0, zero-width space U+200B, byte-order mark U+FEFF, ideographic space U+3000
      for (String q : List.of("\u00a0", "\u200b", "\ufeff", "\u00a0\u200b\ufeff\u3000 \t")) {
        Answer g = send(s.port(), "GET", "/api/search?q=" + ApiServerTest.q(q), AUTH, null);
        assertThat(g.status()).as(g.body()).isEqualTo(400);
        assertThat(g.error()).isEqualTo("q must not be empty");
        Answer p = post(s.port(), "{\"q\":\"" + q.replace("\t", "\\t") + "\"}");
        assertThat(p.status()).as(p.body()).isEqualTo(400);
        assertThat(p.error()).isEqualTo("q must not be empty");
      }
      Answer padded = send(s.port(), "GET", "/api/search?q=" + ApiServerTest.q("\ufeff\u00a0keys\u200b"), AUTH, null);
      assertThat(padded.status()).isEqualTo(200);
      assertThat(padded.json().get("query").asText()).isEqualTo("keys");
    });
  }
}
