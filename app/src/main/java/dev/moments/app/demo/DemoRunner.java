package dev.moments.app.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.MomentsServer;
import dev.moments.api.auth.TokenFile;
import dev.moments.broker.EmbeddedBroker;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.ImageEncoder;
import dev.moments.featurizer.service.FeaturizerConfig;
import dev.moments.featurizer.service.FeaturizerService;
import dev.moments.indexer.index.StreamStats;
import dev.moments.indexer.stream.IndexerConfig;
import dev.moments.indexer.stream.IndexerModel;
import dev.moments.indexer.alerts.AlertsService;
import dev.moments.indexer.stream.IndexerService;
import dev.moments.ingest.IngestResult;
import dev.moments.ingest.Ingestor;
import dev.moments.ingest.SourceOptions;
import dev.moments.model.LavitiModel;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import dev.moments.world.Scene;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The built-in demo in one JVM: an embedded broker, rendered first-person scenes ingested as
 * camera streams (one per video, stream id = its {@code video_uid}), the featurizer, the indexer,
 * and the query API with a generated token; then a few example questions asked over HTTP.
 *
 * <p>Everything lives under the data directory: {@code models/<key>/} holds the offline half
 * that {@link DemoModels} builds once (the rendered scenes with their {@code narration.json} and
 * {@code nlq_val.json}, the pocket encoders trained on them, the scenes' features and the LAVITI
 * model trained on those), and {@code live/<key>/} the live half ({@code broker/} with Kafka's
 * logs, {@code index/}, {@code indexer-state/} and {@code ingested/} markers), so a second run
 * reuses the broker's records and the index and starts in seconds; {@code tokens} is shared.
 * {@code --encoder} / {@code --model} replace the trained pair with other weights.
 */
public final class DemoRunner implements AutoCloseable {
  /** Video i's capture starts i hours after video 0's; the last video ends when it is ingested. */
  static final long GAP_MS = 3_600_000L;

  /**
   * How long indexing may go without any progress (frames featurized, moments indexed) before
   * the demo gives up; a slow machine that keeps progressing is waited for.
   */
  static final Duration STALL_LIMIT = Duration.ofMinutes(10);

  /** How far behind a stream's newest frame a frame may arrive (the indexer's lateness). */
  static final Duration LATENESS = Duration.ofSeconds(1);

  /** How long a live stream's last window may take to become searchable after its ingest ends. */
  static final Duration LAST_WINDOW_LIMIT = Duration.ofSeconds(60);

  /** How often the wait for indexing prints its progress. */
  static final Duration PROGRESS_EVERY = Duration.ofSeconds(15);

  /** The demo's parameters; {@code broker} adds to or replaces the embedded broker's configs. */
  public record Options(Path data, int port, int videos, double minutes, long seed, double speed,
      Path encoder, Path model, Map<String, String> broker) {
    public Options(Path data, int port, int videos, double minutes, long seed, double speed, Path encoder,
        Path model) {
      this(data, port, videos, minutes, seed, speed, encoder, model, Map.of());
    }

    public Options {
      broker = Map.copyOf(broker);
      if (videos < 1 || videos > 20) {
        throw new IllegalArgumentException("--videos must be in 1..20, got " + videos);
      }
      if (speed < 0) {
        throw new IllegalArgumentException("--speed must be >= 0 (0 = as fast as possible), got " + speed);
      }
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Options o;
  private final Consumer<String> log;
  private final List<AutoCloseable> open = new ArrayList<>();
  private EmbeddedBroker broker;
  private MomentsServer server;
  private String token;
  private List<Scene> scenes;
  private Path world;
  private Path live;
  private long baseMs;
  private FeaturizerService featurizer;
  private IndexerConfig ic;
  private Topics topics;

  private Runnable beforeIngest;

  /** Runs {@code hook} once every service is up and before any video is ingested (e.g. to make alert rules). */
  public DemoRunner beforeIngest(Runnable hook) {
    this.beforeIngest = hook;
    return this;
  }

  public DemoRunner(Options options, Consumer<String> log) {
    this.o = options;
    this.log = log;
  }

  /** The demo's query API listens on loopback only: its generated token opens every stream. */
  static final String HOST = "127.0.0.1";

  /**
   * The demo's admin token (it sees every stream): the first token of {@code file}, generated into
   * a new file first. The file is readable by its owner only (0600); a file an older demo left
   * readable by others is tightened.
   */
  static String adminToken(Path file) throws IOException {
    Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rw-------");
    boolean posix = file.getFileSystem().supportedFileAttributeViews().contains("posix");
    if (!Files.exists(file)) {
      byte[] b = new byte[16];
      new SecureRandom().nextBytes(b);
      String text = "# generated by moments demo\n" + HexFormat.of().formatHex(b) + " *\n";
      Path tmp = posix
          ? Files.createTempFile(file.getParent(), ".tokens", ".tmp", PosixFilePermissions.asFileAttribute(ownerOnly))
          : Files.createTempFile(file.getParent(), ".tokens", ".tmp");
      Files.writeString(tmp, text);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } else if (posix && !Files.getPosixFilePermissions(file).equals(ownerOnly)) {
      Files.setPosixFilePermissions(file, ownerOnly);
    }
    return Files.readAllLines(file).stream().filter(l -> !l.isBlank() && !l.startsWith("#"))
        .findFirst().orElseThrow().split("\\s+")[0];
  }

  /** Starts every part, ingests what the broker does not hold yet and waits until it is indexed. */
  public void start() throws IOException, InterruptedException {
    Files.createDirectories(o.data());
    // offline half (cached): scenes, pocket encoders, their features, a LAVITI trained on them
    DemoModels.Spec spec = DemoModels.Spec.of(o.videos(), o.minutes(), o.seed());
    long t1 = System.nanoTime();
    DemoModels.Built built = DemoModels.build(o.data().resolve("models"), spec,
        line -> log.accept(String.format(Locale.ROOT, "[%-8s %6.1f s] %s", "models", (System.nanoTime() - t1) / 1e9, line)));
    world = built.world();
    scenes = built.scenes();
    // live half: a broker, index and markers per model set, so a changed recipe starts clean
    live = o.data().resolve("live").resolve(spec.key());
    baseMs = captureStart(live, scenes, System.currentTimeMillis(), log);

    long t0 = System.nanoTime();
    // Moments topics keep records by size (TopicAdmin); the broker default keeps any other topic's too
    Map<String, String> brokerConfig = new LinkedHashMap<>(Map.of("log.retention.ms", "-1"));
    brokerConfig.putAll(o.broker());
    broker = keep(EmbeddedBroker.start(live.resolve("broker"), "localhost", 0, brokerConfig));
    topics = Topics.defaults();
    TopicAdmin.ensureTopics(broker.bootstrapServers(), topics, 2, (short) 1);
    log.accept(step("broker", t0) + " Kafka at " + broker.bootstrapServers() + " (data in "
        + live.resolve("broker") + ")");

    long t2 = System.nanoTime();
    Path encoderDir = o.encoder() != null ? o.encoder() : built.encoders();
    Path modelDir = o.model() != null ? o.model() : built.model();
    ImageEncoder image = keep(Encoders.loadImage(encoderDir));
    LavitiModel laviti = keep(LavitiModel.load(modelDir));
    laviti.checkCompatible(image.id(), image.dim());
    featurizer = keep(new FeaturizerService(
        FeaturizerConfig.defaults(broker.bootstrapServers(), topics), image));
    featurizer.start();
    // windows of the length LAVITI was trained on, a short hop: a live stream's moments become
    // searchable a hop (plus the lateness and the processing) after their capture; one producer per
    // stream sends frames in order, so a second of lateness is plenty
    ic = IndexerConfig.defaults(topics)
        .withWindow(DemoModels.WINDOW, DemoModels.HOP)
        .withLateness(LATENESS)
        .withIdleFlush(Duration.ofSeconds(3)).withFps(DemoModels.FPS);
    IndexerService indexer = keep(new IndexerService(broker.bootstrapServers(), ic, IndexerModel.of(laviti),
        live.resolve("indexer-state")));
    indexer.start();
    Path tokens = o.data().resolve("tokens");
    token = adminToken(tokens);
    server = keep(MomentsServer.start(MomentsServer.Config.of(live.resolve("index"), o.port(), encoderDir,
        TokenFile.load(tokens), broker.bootstrapServers(), topics).withHost(HOST)));
    // standing queries (POST /api/alerts) matched against every new moment, alerts to moments.alerts
    keep(new AlertsService(broker.bootstrapServers(), topics, live.resolve("alerts-state"))).start();
    log.accept(step("services", t2) + " featurizer (" + image.id() + "), indexer (model " + laviti.modelId()
        + "), alerts, query API on port " + server.port());
    if (beforeIngest != null) {
      beforeIngest.run();
    }

    long t3 = System.nanoTime();
    long frames = 0;
    Path markers = Files.createDirectories(live.resolve("ingested"));
    List<Double> latencies = new ArrayList<>();
    try (Ingestor ingestor = new Ingestor(broker.bootstrapServers(), topics, 0.85, line -> {})) {
      for (int i = 0; i < scenes.size(); i++) {
        Scene s = scenes.get(i);
        Path marker = markers.resolve(s.videoUid());
        if (Files.exists(marker)) {
          continue; // already in Kafka from an earlier run
        }
        Path video = world.resolve(s.videoUid() + ".mp4");
        IngestResult r;
        if (o.speed() > 0) {
          // a camera at a real-time pace: watch its answers come while it records
          List<LiveProbe.Watch> watches = s.queries().stream()
              .map(q -> new LiveProbe.Watch(q.query(), q.startSec(), q.endSec())).toList();
          Live l = ingestLive(ingestor, s.videoUid(), video, startMs(i), s.durationSec(), o.speed(), watches,
              line -> log.accept(step("live", t3) + " " + line));
          r = l.ingest();
          l.windows().forEach(w -> latencies.add(w.latencySec()));
        } else {
          r = ingestor.ingest(s.videoUid(), video.toString(),
              SourceOptions.defaults().withFps(DemoModels.FPS).withStartTimeMs(startMs(i)).withSpeed(0));
        }
        frames += r.framesSent();
        Files.writeString(marker, r.summary() + "\n");
      }
    }
    if (!latencies.isEmpty()) {
      log.accept(step("live", t3) + " " + latencyLine(latencies, scenes.size() + " streams"));
    }
    long lastEnd = startMs(scenes.size() - 1) + Math.round(scenes.get(scenes.size() - 1).durationSec() * 1000);
    log.accept(step("ingest", t3) + (frames == 0 ? " nothing new (streams already in Kafka)"
        : " " + frames + " frames of " + scenes.size() + " streams") + ", captured "
        + Instant.ofEpochMilli(startMs(0)) + " .. " + Instant.ofEpochMilli(lastEnd));

    long t4 = System.nanoTime();
    awaitIndexed(line -> log.accept(step("index", t4) + " " + line));
    log.accept(step("index", t4) + " " + server.index().size() + " moments of "
        + server.index().streams().size() + " streams searchable");
  }

  /**
   * What streaming one video live showed: the ingest, the stream's windows with the seconds from
   * their last frame's capture until they were searchable, and the first right answer to each
   * watched question ({@link LiveProbe} says exactly what is measured).
   */
  public record Live(String streamId, long startMs, double durationSec, IngestResult ingest,
      List<LiveProbe.Window> windows, List<LiveProbe.Seen> answers) {}

  /**
   * Ingests {@code video} as the new stream {@code streamId}, its capture starting now, at {@code
   * speed} (> 0; 1 = real time), watching {@code watches} (true ranges in seconds from its start)
   * through the served search while it records; returns once its last window is searchable (or
   * {@link #LAST_WINDOW_LIMIT} after its last frame).
   */
  public Live streamLive(String streamId, Path video, double durationSec, double speed, List<LiveProbe.Watch> watches,
      Consumer<String> out) throws InterruptedException {
    try (Ingestor ingestor = new Ingestor(broker.bootstrapServers(), topics, 0.85, line -> {})) {
      return ingestLive(ingestor, streamId, video, System.currentTimeMillis(), durationSec, speed, watches, out);
    }
  }

  private Live ingestLive(Ingestor ingestor, String streamId, Path video, long startMs, double durationSec, double speed,
      List<LiveProbe.Watch> watches, Consumer<String> out) throws InterruptedException {
    if (!(speed > 0)) {
      throw new IllegalArgumentException("a live stream needs a pace > 0, got " + speed);
    }
    IngestResult r;
    LiveProbe probe = new LiveProbe(this, server.materializer(), broker.bootstrapServers(), topics.moments().name(), streamId,
        startMs, speed, ic.window(), ic.fps(), watches);
    try (probe) {
      r = ingestor.ingest(streamId, video.toString(),
          SourceOptions.defaults().withFps(DemoModels.FPS).withStartTimeMs(startMs).withSpeed(speed));
      probe.ingestDone();
      probe.finish(startMs + Math.round(durationSec * 1000) - 1000, LAST_WINDOW_LIMIT);
    }
    for (LiveProbe.Seen a : probe.seen()) {
      // the frame evidence is searchable a second after capture, so an answer can come before the
      // event has ended (the first answer overlapping the truth)
      out.accept(String.format(Locale.ROOT, "%s: \"%s\" -> %s-%s (truth %s-%s) answered at %s of %s%s, %.1f s %s"
              + " the event's end was captured", streamId, a.watch().question(), clock(a.startSec()), clock(a.endSec()),
          clock(a.watch().startSec()), clock(a.watch().endSec()), clock(a.capturedSec()), clock(durationSec),
          a.live() ? " while recording" : " (after the stream ended)", Math.abs(a.latencySec()),
          a.latencySec() < 0 ? "before" : "after"));
    }
    List<Double> lat = probe.windows().stream().map(LiveProbe.Window::latencySec).toList();
    out.accept(lat.isEmpty() ? streamId + ": no window searchable within " + LAST_WINDOW_LIMIT.toSeconds()
        + " s of its end" : latencyLine(lat, streamId));
    return new Live(streamId, startMs, durationSec, r, probe.windows(), probe.seen());
  }

  /** "N windows searchable p50 X s, max Y s after their last frame's capture (what)". */
  static String latencyLine(List<Double> latencies, String what) {
    double[] v = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return String.format(Locale.ROOT, "%s: %d windows searchable p50 %.1f s, max %.1f s after the capture of their"
        + " last frame (window %d s, hop %d s)", what, v.length, percentile(v, 0.5), v[v.length - 1],
        DemoModels.WINDOW.toSeconds(), DemoModels.HOP.toSeconds());
  }

  /** The nearest-rank percentile {@code p} of sorted {@code v}. */
  static double percentile(double[] v, double p) {
    return v[Math.max(0, (int) Math.ceil(p * v.length) - 1)];
  }

  private static String clock(double sec) {
    long s = Math.round(sec);
    return s / 60 + ":" + String.format(Locale.ROOT, "%02d", s % 60);
  }

  /**
   * The capture time of video 0's first frame, kept in {@code live/capture-start-ms}: chosen on the
   * first run so that the last video ends at {@code nowMs} (the demo's cameras recorded the hours
   * before it), and reused by later runs, which replay the same records from the broker. A live
   * half without that file was stamped 2025-01-06 by an older demo (its frames expired with
   * Kafka's 7-day retention): it is removed and ingested again.
   */
  static long captureStart(Path live, List<Scene> scenes, long nowMs, Consumer<String> log) throws IOException {
    Path file = live.resolve("capture-start-ms");
    if (!Files.exists(file) && Files.exists(live)) {
      log.accept("removing " + live + " (streams stamped 2025-01-06 by an older demo); ingesting again");
      try (var paths = Files.walk(live)) {
        for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    Files.createDirectories(live);
    if (Files.exists(file)) {
      return Long.parseLong(Files.readString(file).strip());
    }
    long lastMs = Math.round(scenes.get(scenes.size() - 1).durationSec() * 1000);
    long start = (nowMs - lastMs - (scenes.size() - 1) * GAP_MS) / 1000 * 1000;
    Files.writeString(file, start + "\n");
    return start;
  }

  /** The capture time of video {@code i}'s first frame. */
  long startMs(int i) {
    return baseMs + i * GAP_MS;
  }

  /**
   * Waits until every stream's last window is searchable, printing progress every {@link
   * #PROGRESS_EVERY}; gives up only after {@link #STALL_LIMIT} without any progress.
   */
  private void awaitIndexed(Consumer<String> progress) throws InterruptedException {
    Set<String> want = scenes.stream().map(Scene::videoUid).collect(Collectors.toSet());
    long lastChange = System.nanoTime();
    long lastPrint = System.nanoTime();
    String seen = null;
    while (true) {
      Map<String, StreamStats> have = server.index().streams().stream()
          .collect(Collectors.toMap(StreamStats::streamId, s -> s));
      boolean complete = server.materializer().caughtUp();
      for (int i = 0; i < scenes.size() && complete; i++) {
        StreamStats st = have.get(scenes.get(i).videoUid());
        // the stream's last window (flushed at its end-of-stream mark) reaches its last seconds
        complete = st != null && st.lastMs() >= startMs(i) + (long) (scenes.get(i).durationSec() * 1000) - 5_000;
      }
      if (complete && have.keySet().containsAll(want)) {
        return;
      }
      FeaturizerService.Stats f = featurizer.stats();
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%d frames featurized (%d dead letters); moments:",
          f.frames(), f.deadLetters()));
      for (int i = 0; i < scenes.size(); i++) {
        StreamStats st = have.get(scenes.get(i).videoUid());
        line.append(' ').append(scenes.get(i).videoUid()).append(' ').append(st == null ? "-" : st.moments()
            + String.format(Locale.ROOT, " (to %.0f of %.0f s)", (st.lastMs() - startMs(i)) / 1000.0,
                scenes.get(i).durationSec()));
      }
      long now = System.nanoTime();
      if (!line.toString().equals(seen)) {
        seen = line.toString();
        lastChange = now;
      } else if (now - lastChange > STALL_LIMIT.toNanos()) {
        throw new IllegalStateException("indexing the demo streams made no progress for "
            + STALL_LIMIT.toMinutes() + " min: " + line);
      }
      if (now - lastPrint >= PROGRESS_EVERY.toNanos()) {
        progress.accept(line.toString());
        lastPrint = now;
      }
      Thread.sleep(250);
    }
  }

  /** One answer printed by {@link #examples(int)}. */
  public record Answer(String question, String streamId, double startSec, double endSec, double score,
      String truthStream, double truthStart, double truthEnd) {
    public boolean overlaps() {
      return streamId != null && streamId.equals(truthStream) && startSec < truthEnd && endSec > truthStart;
    }
  }

  /**
   * Asks up to {@code n} of the scenes' questions over HTTP (all streams, k = 1): only questions
   * whose answer is in exactly one stream (so "right stream" means something), "Where did I put
   * the keys?" first when it is one of them.
   */
  public List<Answer> examples(int n) throws IOException, InterruptedException {
    Map<String, List<Scene>> byText = new LinkedHashMap<>();
    for (Scene s : scenes) {
      for (Scene.SceneQuery q : s.queries()) {
        List<Scene> l = byText.computeIfAbsent(q.query(), k -> new ArrayList<>());
        if (!l.contains(s)) {
          l.add(s);
        }
      }
    }
    List<String> unique = new ArrayList<>();
    byText.forEach((text, in) -> {
      if (in.size() == 1) {
        unique.add(text);
      }
    });
    unique.sort(java.util.Comparator.comparing(t -> !t.contains("keys")));
    HttpClient http = HttpClient.newHttpClient();
    List<Answer> out = new ArrayList<>();
    for (String text : unique.subList(0, Math.min(n, unique.size()))) {
      Scene s = byText.get(text).get(0);
      Scene.SceneQuery q = s.queries().stream().filter(x -> x.query().equals(text)).findFirst().orElseThrow();
      JsonNode top = search(http, text, 1).path("results").path(0);
      String stream = top.isMissingNode() ? null : top.path("streamId").asText();
      int video = stream == null ? -1 : indexOf(stream);
      long origin = video < 0 ? 0 : startMs(video);
      out.add(new Answer(text, stream,
          stream == null ? 0 : (top.path("startMs").asLong() - origin) / 1000.0,
          stream == null ? 0 : (top.path("endMs").asLong() - origin) / 1000.0,
          top.path("score").asDouble(), s.videoUid(), q.startSec(), q.endSec()));
    }
    return out;
  }

  /** {@code GET /api/search} with the demo token. */
  public JsonNode search(HttpClient http, String q, int k) throws IOException, InterruptedException {
    return search(http, q, k, null);
  }

  /** {@code GET /api/search} with the demo token, restricted to {@code stream} when not null. */
  public JsonNode search(HttpClient http, String q, int k, String stream) throws IOException, InterruptedException {
    String streams = stream == null ? "" : "&streams=" + URLEncoder.encode(stream, StandardCharsets.UTF_8);
    HttpRequest req = HttpRequest.newBuilder(URI.create(baseUrl() + "api/search?k=" + k + streams + "&q="
            + URLEncoder.encode(q, StandardCharsets.UTF_8)))
        .header("Authorization", "Bearer " + token).GET().build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("search answered " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body());
  }

  private int indexOf(String uid) {
    for (int i = 0; i < scenes.size(); i++) {
      if (scenes.get(i).videoUid().equals(uid)) {
        return i;
      }
    }
    return -1;
  }

  /** The embedded broker's {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return broker.bootstrapServers();
  }

  public String baseUrl() {
    return "http://localhost:" + server.port() + "/";
  }

  /** The page with the token, the line scripts wait for. */
  public String readyUrl() {
    return baseUrl() + "?token=" + token;
  }

  public String token() {
    return token;
  }

  public List<Scene> scenes() {
    return scenes;
  }

  public Path world() {
    return world;
  }

  /** The capture time (epoch ms) of the first frame of stream {@code videoUid}, or -1. */
  public long startMsOf(String videoUid) {
    int i = indexOf(videoUid);
    return i < 0 ? -1 : startMs(i);
  }

  private <T extends AutoCloseable> T keep(T resource) {
    open.add(resource);
    return resource;
  }

  private static String step(String name, long t0) {
    return String.format(Locale.ROOT, "[%-8s %6.1f s]", name, (System.nanoTime() - t0) / 1e9);
  }

  /** Stops every part, newest first. */
  @Override
  public void close() {
    for (int i = open.size() - 1; i >= 0; i--) {
      long t0 = System.nanoTime();
      try {
        open.get(i).close();
        double s = (System.nanoTime() - t0) / 1e9;
        if (s > 2) {
          log.accept(String.format(Locale.ROOT, "stopping %s took %.1f s", open.get(i).getClass().getSimpleName(), s));
        }
      } catch (Exception e) {
        log.accept("while stopping: " + e.getMessage());
      }
    }
    open.clear();
  }
}
