package dev.moments.api.http;

import dev.moments.api.PipelineStatus;
import dev.moments.api.metrics.Metrics;
import dev.moments.topics.LoopHealth;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code GET /health}, {@code GET /metrics} and {@code GET /openapi.json}. */
final class SystemController {
  static final String OPENAPI_RESOURCE = "/dev/moments/api/openapi.json";

  /** How long a loop may fail (a broker restart, a leader election) before {@code /health} says so. */
  static final Duration LOOP_GRACE = Duration.ofSeconds(10);

  private final PipelineStatus status;
  private final Metrics metrics;
  private final byte[] openapi;

  SystemController(PipelineStatus status, Metrics metrics) {
    this.status = status;
    this.metrics = metrics;
    try (InputStream in = SystemController.class.getResourceAsStream(OPENAPI_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + OPENAPI_RESOURCE);
      }
      this.openapi = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void health(Context ctx) {
    boolean broker = status.brokerReachable();
    boolean index = status.indexOpen();
    Instant now = Instant.now();
    Map<String, Object> loops = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    boolean stopped = false;
    for (LoopHealth.Status l : status.loops()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("state", l.state().name().toLowerCase(Locale.ROOT));
      m.put("since", l.since().toString());
      if (l.state() != LoopHealth.State.OK) {
        m.put("failures", l.failures());
        m.put("reason", l.reason());
      }
      loops.put(l.loop(), m);
      if (l.unhealthy(LOOP_GRACE, now)) {
        stopped |= l.state() == LoopHealth.State.STOPPED;
        problems.add(l.state() == LoopHealth.State.STOPPED
            ? l.loop() + " stopped at " + l.since() + ": " + l.reason()
            : l.loop() + " failing since " + l.since() + " (" + l.failures() + " attempts): " + l.reason());
      }
    }
    boolean ok = broker && index && problems.isEmpty();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", ok ? "ok" : "degraded");
    body.put("broker", broker);
    body.put("indexOpen", index);
    body.put("lag", status.ingestLag());
    body.put("caughtUp", status.caughtUp());
    body.put("loops", loops);
    body.put("problems", problems);
    ctx.status(broker && index && !stopped ? 200 : 503).json(body);
  }

  void metrics(Context ctx) {
    ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape());
  }

  void openapi(Context ctx) {
    ctx.contentType("application/json").result(openapi);
  }
}
