package dev.moments.api.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.alerts.AlertDelivery;
import dev.moments.api.alerts.AlertHub;
import dev.moments.api.alerts.DeliveryStatus;
import dev.moments.api.alerts.Owners;
import dev.moments.api.auth.Access;
import dev.moments.api.auth.Tokens;
import dev.moments.topics.AlertRecord;
import dev.moments.topics.AlertRule;
import io.javalin.http.Context;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code GET /api/alerts/stream} (the caller's alerts as Server-Sent Events) and {@code GET
 * /api/alerts/{id}/deliveries} (a rule's webhook deliveries).
 *
 * <p>The stream: one event per alert, {@code event: alert}, {@code id: <alertId>}, {@code data:}
 * the {@link StreamedAlert} JSON; a comment line {@code : keep-alive} after every heartbeat of
 * silence. Only alerts whose owner is the caller's token ({@link Owners#of}) and whose stream the
 * caller's token may see. A browser's {@code EventSource} cannot send headers, so the token comes
 * as {@code ?token=}, as for thumbnails; thumbnail URLs carry it too.
 */
final class AlertStreamController {
  private final AlertDelivery alerts;
  private final Tokens tokens;
  private final ObjectMapper mapper;

  AlertStreamController(AlertDelivery alerts, Tokens tokens, ObjectMapper mapper) {
    this.alerts = alerts;
    this.tokens = tokens;
    this.mapper = mapper;
  }

  /** One alert as streamed: the alert, its capture times as ISO-8601 and a thumbnail of the moment. */
  record StreamedAlert(String alertId, String ruleId, String q, String streamId, String momentId, String windowId,
      long startMs, long endMs, String start, String end, float score, long firedMs, String thumbnailUrl) {}

  /**
   * Streams on the request's own thread until the client goes away or the hub closes (a plain
   * blocking response, not Javalin's async SSE client: completing an async response after Jetty has
   * recycled it for a departed client fails inside Javalin).
   */
  void stream(Context ctx) throws IOException {
    String accept = ctx.header("Accept");
    if (accept == null || !accept.contains("text/event-stream")) {
      throw new ApiException(406, "this is a Server-Sent Events stream: send 'Accept: text/event-stream' (EventSource does)");
    }
    Auth.access(ctx);
    if (alerts.hub().clients() >= AlertHub.MAX_CLIENTS) {
      throw new ApiException(503, "too many alert streams open (" + AlertHub.MAX_CLIENTS + "); try again later");
    }
    String token = Auth.linkToken(ctx);
    String owner = Owners.of(token);
    Supplier<Optional<Access>> access = () -> tokens.lookup(token);
    HttpServletResponse res = ctx.res();
    res.setStatus(200);
    res.setCharacterEncoding("UTF-8");
    res.setContentType("text/event-stream");
    res.setHeader("Cache-Control", "no-cache");
    res.setHeader("X-Accel-Buffering", "no");
    OutputStream out = res.getOutputStream();
    out.write(("retry: " + RETRY_MS + "\n\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
    alerts.hub().subscribe(owner, access, ctx.header("Last-Event-ID"), new Sink(out, token)).run();
  }

  /** How long a browser waits before reconnecting (the {@code retry:} field sent first). */
  static final int RETRY_MS = 3000;

  void deliveries(Context ctx) {
    String id = ctx.pathParam("id");
    String owner = Owners.of(Auth.linkToken(ctx));
    AlertRule rule = alerts.rules().apply(id).filter(r -> r.owner().equals(owner))
        .orElseThrow(() -> ApiException.notFound("no alert rule '" + id + "'"));
    ctx.json(alerts.deliveries().apply(id).orElseGet(() -> new DeliveryStatus(rule.id(), 0, 0, 0,
        rule.webhook() == null ? "no webhook" : "none", null, null, 0, 0)));
  }

  String json(AlertRecord a, String token) {
    try {
      return mapper.writeValueAsString(new StreamedAlert(a.alertId(), a.ruleId(), a.q(), a.streamId(), a.momentId(),
          a.windowId(), a.startMs(), a.endMs(), Times.iso(a.startMs()), Times.iso(a.endMs()), a.score(), a.firedMs(),
          SearchController.thumbnailUrl(a.streamId(), a.startMs() + (a.endMs() - a.startMs()) / 2, token)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write alert " + a.alertId(), e);
    }
  }

  private final class Sink implements AlertHub.Sink {
    private final OutputStream out;
    private final String token;

    Sink(OutputStream out, String token) {
      this.out = out;
      this.token = token;
    }

    @Override
    public void alert(AlertRecord a) throws IOException {
      // JSON has no raw newlines, so the data is one line; the id has none either (ids are generated).
      out.write(("id: " + a.alertId().replaceAll("[\r\n]", "") + "\nevent: alert\ndata: " + json(a, token) + "\n\n")
          .getBytes(StandardCharsets.UTF_8));
      out.flush();
    }

    @Override
    public void heartbeat() throws IOException {
      out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
    }
  }
}
