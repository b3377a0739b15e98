package dev.moments.api.http;

import dev.moments.api.PipelineStatus;
import dev.moments.api.metrics.Metrics;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code GET /health}, {@code GET /metrics} and {@code GET /openapi.json}. */
final class SystemController {
  static final String OPENAPI_RESOURCE = "/dev/moments/api/openapi.json";

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
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", broker && index ? "ok" : "degraded");
    body.put("broker", broker);
    body.put("indexOpen", index);
    body.put("lag", status.ingestLag());
    body.put("caughtUp", status.caughtUp());
    ctx.status(broker && index ? 200 : 503).json(body);
  }

  void metrics(Context ctx) {
    ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape());
  }

  void openapi(Context ctx) {
    ctx.contentType("application/json").result(openapi);
  }
}
