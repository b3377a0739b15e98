package dev.moments.api.http;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.PipelineStatus;
import dev.moments.api.alerts.AlertDelivery;
import dev.moments.api.alerts.AlertRules;
import dev.moments.api.auth.Tokens;
import dev.moments.api.frames.FrameStore;
import dev.moments.api.metrics.Metrics;
import dev.moments.api.search.MomentStore;
import dev.moments.model.rank.Rankers;
import dev.moments.api.search.SearchService;
import dev.moments.api.search.StreamService;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.model.rank.SpanRanker;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import io.javalin.validation.ValidationError;
import io.javalin.validation.ValidationException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Moments HTTP server: search, streams, frames, health, metrics, OpenAPI and the web page,
 * built from injected services. Usable in-process: {@code new ApiServer(deps).start(0).port()}.
 *
 * <p>Authentication: every {@code /api/*} route needs a token ({@code Authorization: Bearer T}
 * or {@code ?token=T}) unless the server was built with {@link Tokens#insecure()}; {@code /},
 * {@code /health}, {@code /metrics} and {@code /openapi.json} are open.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

  /** Every route the server answers, as "METHOD path" (the OpenAPI document lists each). */
  public static final List<String> ROUTES = List.of(
      "GET /api/search", "POST /api/search", "GET /api/streams", "GET /api/streams/{id}/frame",
      "GET /health", "GET /metrics", "GET /openapi.json",
      "POST /api/alerts", "GET /api/alerts", "DELETE /api/alerts/{id}",
      "GET /api/alerts/stream", "GET /api/alerts/{id}/deliveries");

  /**
   * What the server is built from.
   *
   * @param encoder the text tower used to embed questions
   * @param store the moment index
   * @param frames the frames of the streams
   * @param tokens who may see which stream
   * @param status the state of broker, index and materializer
   * @param metrics where request and search metrics go
   * @param ranker ranks each stream's spans from its frame evidence and moments
   * @param alertRules the standing queries ({@code /api/alerts})
   * @param alerts the live alerts and webhook deliveries ({@link AlertDelivery#none} for none)
   */
  public record Deps(TextEncoder encoder, MomentStore store, FrameStore frames, Tokens tokens,
      PipelineStatus status, Metrics metrics, SpanRanker ranker, AlertRules alertRules, AlertDelivery alerts) {
    /** With the default ranker ({@link Rankers#DEFAULT}). */
    public Deps(TextEncoder encoder, MomentStore store, FrameStore frames, Tokens tokens, PipelineStatus status,
        Metrics metrics) {
      this(encoder, store, frames, tokens, status, metrics, Rankers.named(Rankers.DEFAULT));
    }

    /** With alert rules kept in this process only ({@link AlertRules#inMemory()}: tests), no live alerts. */
    public Deps(TextEncoder encoder, MomentStore store, FrameStore frames, Tokens tokens, PipelineStatus status,
        Metrics metrics, SpanRanker ranker) {
      this(encoder, store, frames, tokens, status, metrics, ranker, AlertRules.inMemory());
    }

    /** Without live alerts ({@link AlertDelivery#none}). */
    public Deps(TextEncoder encoder, MomentStore store, FrameStore frames, Tokens tokens, PipelineStatus status,
        Metrics metrics, SpanRanker ranker, AlertRules alertRules) {
      this(encoder, store, frames, tokens, status, metrics, ranker, alertRules, AlertDelivery.none(metrics));
    }

    public Deps {
      Objects.requireNonNull(alertRules, "alertRules");
      Objects.requireNonNull(alerts, "alerts");
      Objects.requireNonNull(ranker, "ranker");
      Objects.requireNonNull(encoder, "encoder");
      Objects.requireNonNull(store, "store");
      Objects.requireNonNull(frames, "frames");
      Objects.requireNonNull(tokens, "tokens");
      Objects.requireNonNull(status, "status");
      Objects.requireNonNull(metrics, "metrics");
    }
  }

  /** The largest request body accepted (a search body is a question of at most 1000 characters); larger is 413. */
  public static final int MAX_BODY_BYTES = 65_536;

  private final Javalin app;
  private final AlertDelivery alerts;

  public ApiServer(Deps deps) {
    this.app = create(deps);
    this.alerts = deps.alerts();
  }

  /** The Javalin app, not started (tests hand it to {@code JavalinTest}). */
  public Javalin app() {
    return app;
  }

  /** Starts listening on {@code port} (0 = any free port) on all interfaces. */
  public ApiServer start(int port) {
    app.start(port);
    return this;
  }

  /** Starts listening on {@code host:port}. */
  public ApiServer start(String host, int port) {
    app.start(host, port);
    return this;
  }

  /** The bound port once started. */
  public int port() {
    return app.port();
  }

  /** Stops the server (first ending the alert streams, which hold request threads). */
  @Override
  public void close() {
    alerts.hub().close();
    app.stop();
  }

  /** Builds the Javalin app (routes, auth, errors, static page, metrics). */
  public static Javalin create(Deps deps) {
    Metrics metrics = deps.metrics();
    metrics.gauge("moments_ingest_lag_records", "Records of the moments topic not yet in the index.",
        () -> deps.status().ingestLag());
    metrics.gauge("moments_index_moments", "Live moments in the index.", () -> deps.store().size());
    metrics.gauge("moments_index_size_bytes", "Bytes the moment index takes on disk.", () -> deps.store().sizeOnDiskBytes());
    metrics.gauge("moments_index_caught_up", "1 once the index has caught up with the moments topic.",
        () -> deps.status().caughtUp() ? 1 : 0);

    ObjectMapper mapper = JavalinJackson.defaultMapper()
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    SearchController search = new SearchController(new SearchService(deps.encoder(), deps.store(), deps.ranker(),
        SearchService.DEFAULT_MAX_SCAN_SECONDS), metrics, mapper);
    StreamsController streams = new StreamsController(new StreamService(deps.store(), deps.frames()), deps.frames());
    SystemController system = new SystemController(deps.status(), metrics);
    Auth auth = new Auth(deps.tokens());
    AlertsController alertRules = new AlertsController(deps.alertRules(), deps.encoder(), mapper);
    AlertStreamController alerts = new AlertStreamController(deps.alerts(), deps.tokens(), mapper);

    return Javalin.create(config -> {
      config.startup.showJavalinBanner = false;
      config.jsonMapper(new JavalinJackson(mapper, false));
      config.http.prefer405over404 = true;
      config.http.maxRequestSize = MAX_BODY_BYTES;
      // Jetty answers some errors itself (414 URI too long, 431 headers too large, 400 bad request
      // line) before Javalin sees the request: make those JSON too.
      config.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
      config.validation.register(Times.EpochMs.class, Times::parse);
      config.staticFiles.add(sf -> {
        sf.hostedPath = "/";
        sf.directory = "/dev/moments/api/web";
        sf.location = Location.CLASSPATH;
      });
      config.routes.before(ApiServer::securityHeaders);
      config.routes.beforeMatched("/api/*", auth::authenticate);
      config.routes.get("/api/search", search::get);
      config.routes.post("/api/search", search::post);
      config.routes.get("/api/streams", streams::list);
      config.routes.get("/api/streams/{id}/frame", streams::frame);
      config.routes.post("/api/alerts", alertRules::create);
      config.routes.get("/api/alerts", alertRules::list);
      config.routes.get("/api/alerts/stream", alerts::stream);
      config.routes.get("/api/alerts/{id}/deliveries", alerts::deliveries);
      config.routes.delete("/api/alerts/{id}", alertRules::delete);
      config.routes.get("/health", system::health);
      config.routes.get("/metrics", system::metrics);
      config.routes.get("/openapi.json", system::openapi);
      config.routes.after(ctx -> metrics.request(ctx.method().name(), route(ctx), ctx.statusCode()));
      config.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), httpMessage(ctx, e)));
      config.routes.exception(ApiException.class, (e, ctx) -> error(ctx, e.status(), e.getMessage()));
      config.routes.exception(ValidationException.class, (e, ctx) -> error(ctx, 400, message(e)));
      config.routes.exception(IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
      config.routes.exception(JacksonException.class, (e, ctx) -> error(ctx, 400, "body is not valid JSON: " + e.getOriginalMessage()));
      config.routes.exception(IllegalStateException.class, (e, ctx) -> {
        LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
        error(ctx, 500, e.getMessage());
      });
      config.routes.exception(Exception.class, (e, ctx) -> {
        LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
        error(ctx, 500, "internal error (logged by the server)");
      });
    });
  }

  /**
   * Headers on every answer: no MIME sniffing, no referrer (search URLs carry questions and may
   * carry tokens), and a policy that lets the page load only its own script, style and images and
   * forbids framing it.
   */
  static final Map<String, String> SECURITY_HEADERS = Map.of(
      "X-Content-Type-Options", "nosniff",
      "Referrer-Policy", "no-referrer",
      "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
          + "form-action 'self'; frame-ancestors 'none'");

  private static void securityHeaders(Context ctx) {
    SECURITY_HEADERS.forEach(ctx::header);
  }

  // Javalin's own messages ("Endpoint FOO /x not found", "Content Too Large"), in the API's words.
  private static String httpMessage(Context ctx, HttpResponseException e) {
    return switch (e.getStatus()) {
      case 404 -> "no route " + ctx.path();
      case 405 -> "method " + ctx.method().name() + " is not allowed on " + ctx.path();
      case 413 -> "request body too large (at most " + MAX_BODY_BYTES + " bytes)";
      default -> e.getMessage() == null || e.getMessage().isBlank() ? "HTTP " + e.getStatus() : e.getMessage();
    };
  }

  private static String route(Context ctx) {
    io.javalin.router.Endpoint e = ctx.endpoints().matchedHttpEndpoint();
    if (e != null) {
      return e.path;
    }
    return ctx.statusCode() == 404 || ctx.statusCode() == 405 ? "unmatched" : "static";
  }

  private static void error(Context ctx, int status, String message) {
    ctx.status(status).json(Map.of("error", message));
  }

  // Javalin's validation messages are codes (NULLCHECK_FAILED, TYPE_CONVERSION_FAILED); say it in words.
  private static String message(ValidationException e) {
    for (Map.Entry<String, List<ValidationError<Object>>> f : e.getErrors().entrySet()) {
      for (ValidationError<Object> err : f.getValue()) {
        String field = f.getKey();
        return switch (err.getMessage()) {
          case "NULLCHECK_FAILED" -> field + " is required";
          case "TYPE_CONVERSION_FAILED" -> conversion(field, err);
          default -> err.getMessage();
        };
      }
    }
    return "invalid request";
  }

  private static String conversion(String field, ValidationError<Object> err) {
    Exception cause = err.exception();
    if (cause instanceof IllegalArgumentException && cause.getMessage() != null && cause.getMessage().contains("not a time")) {
      return field + ": " + cause.getMessage();
    }
    return field + " has a bad value '" + err.value + "'";
  }
}
