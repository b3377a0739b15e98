package dev.moments.api.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * A headless Chromium driven over the Chrome DevTools Protocol with the JDK's WebSocket client
 * (no WebDriver dependency): one page, commands answered by id.
 */
final class Chromium implements AutoCloseable {
  /**
   * The binary: {@code MOMENTS_CHROMIUM} when set (the launcher honours it too), else {@code
   * /usr/bin/chromium}, else {@code chromium} on PATH.
   */
  static final Path BINARY = binary(System.getenv("MOMENTS_CHROMIUM"), System.getenv("PATH"));

  /** Why the browser test is skipped when {@link #available()} is false, in the launcher's words. */
  static final String MISSING = "chromium not found; the browser test is skipped (install it with: apt-get install chromium)";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final Path profile;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

  static boolean available() {
    return Files.isExecutable(BINARY);
  }

  static Path binary(String override, String path) {
    if (override != null && !override.isBlank()) {
      return Path.of(override);
    }
    Path usual = Path.of("/usr/bin/chromium");
    if (Files.isExecutable(usual) || path == null) {
      return usual;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "chromium"))) {
        return Path.of(dir, "chromium");
      }
    }
    return usual;
  }

  Chromium(int width, int height) throws Exception {
    profile = Files.createTempDirectory("moments-chromium");
    process = new ProcessBuilder(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=" + width + "," + height,
        "--user-data-dir=" + profile, "--remote-debugging-port=0", "about:blank")
        .redirectErrorStream(true)
        .redirectOutput(profile.resolve("chromium.log").toFile())
        .start();
    try {
      Path portFile = profile.resolve("DevToolsActivePort");
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!(Files.isRegularFile(portFile) && Files.readAllLines(portFile).size() >= 2)) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException("chromium did not start: " + Files.readString(profile.resolve("chromium.log")));
        }
        Thread.sleep(100);
      }
      int port = Integer.parseInt(Files.readAllLines(portFile).get(0).strip());
      HttpClient http = HttpClient.newHttpClient();
      String pageWs = null;
      while (pageWs == null) {
        JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
            HttpResponse.BodyHandlers.ofString()).body());
        for (JsonNode t : targets) {
          if (t.get("type").asText().equals("page")) {
            pageWs = t.get("webSocketDebuggerUrl").asText();
          }
        }
        if (pageWs == null) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("chromium has no page target: " + targets);
          }
          Thread.sleep(100);
        }
      }
      socket = http.newWebSocketBuilder().buildAsync(URI.create(pageWs), new Listener()).get(10, TimeUnit.SECONDS);
      send("Page.enable", Map.of());
      send("Runtime.enable", Map.of());
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  /** Sends one CDP command and waits for its result. */
  JsonNode send(String method, Map<String, ?> params) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonNode> f = new CompletableFuture<>();
    pending.put(id, f);
    ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
    msg.set("params", JSON.valueToTree(params));
    socket.sendText(JSON.writeValueAsString(msg), true).get(10, TimeUnit.SECONDS);
    JsonNode answer = f.get(30, TimeUnit.SECONDS);
    if (answer.has("error")) {
      throw new IllegalStateException(method + " failed: " + answer.get("error"));
    }
    return answer.get("result");
  }

  void navigate(String url) throws Exception {
    send("Page.navigate", Map.of("url", url));
    waitFor(() -> "complete".equals(evalQuietly("document.readyState").asText()), Duration.ofSeconds(20), "page load of " + url);
  }

  /** Evaluates a JavaScript expression in the page and returns its JSON value. */
  JsonNode eval(String expression) throws Exception {
    JsonNode r = send("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true, "awaitPromise", true));
    if (r.has("exceptionDetails")) {
      throw new IllegalStateException("script failed: " + r.get("exceptionDetails"));
    }
    JsonNode v = r.get("result").get("value");
    return v == null ? JSON.nullNode() : v;
  }

  private JsonNode evalQuietly(String expression) {
    try {
      return eval(expression);
    } catch (Exception e) {
      return JSON.nullNode();
    }
  }

  /** Types text into the focused element, as a keyboard would (input events fire). */
  void type(String text) throws Exception {
    send("Input.insertText", Map.of("text", text));
  }

  void pressEnter() throws Exception {
    Map<String, Object> key = Map.of("key", "Enter", "code", "Enter", "windowsVirtualKeyCode", 13, "text", "\r");
    send("Input.dispatchKeyEvent", merge(key, "type", "keyDown"));
    send("Input.dispatchKeyEvent", merge(Map.of("key", "Enter", "code", "Enter", "windowsVirtualKeyCode", 13), "type", "keyUp"));
  }

  byte[] screenshotPng() throws Exception {
    JsonNode r = send("Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", false));
    return java.util.Base64.getDecoder().decode(r.get("data").asText());
  }

  void waitFor(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(100);
    }
  }

  BooleanSupplier truthy(String expression) {
    return () -> evalQuietly(expression).asBoolean(false);
  }

  private static Map<String, Object> merge(Map<String, Object> m, String k, Object v) {
    Map<String, Object> out = new java.util.HashMap<>(m);
    out.put(k, v);
    return out;
  }

  @Override
  public void close() {
    if (socket != null) {
      socket.abort();
    }
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (var files = Files.walk(profile)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // A leftover temp profile is harmless; the browser may still be releasing files.
    }
  }

  private final class Listener implements WebSocket.Listener {
    private final StringBuilder buf = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      buf.append(data);
      if (last) {
        try {
          JsonNode msg = JSON.readTree(buf.toString());
          if (msg.has("id")) {
            CompletableFuture<JsonNode> f = pending.remove(msg.get("id").asInt());
            if (f != null) {
              f.complete(msg);
            }
          }
        } catch (IOException e) {
          pending.values().forEach(f -> f.completeExceptionally(e));
        }
        buf.setLength(0);
      }
      ws.request(1);
      return null;
    }
  }
}
