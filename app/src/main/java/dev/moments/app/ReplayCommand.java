package dev.moments.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.MomentsServer;
import dev.moments.api.auth.TokenFile;
import dev.moments.broker.EmbeddedBroker;
import dev.moments.eval.FeatureReplay;
import dev.moments.eval.LiveWindows;
import dev.moments.eval.NlqEvaluator;
import dev.moments.eval.NlqMetrics;
import dev.moments.eval.NlqPredictions;
import dev.moments.eval.QueryText;
import dev.moments.eval.Reports;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.featurizer.store.FeatureManifest;
import dev.moments.indexer.index.MomentIndex;
import dev.moments.indexer.index.StreamStats;
import dev.moments.indexer.stream.IndexerConfig;
import dev.moments.indexer.stream.IndexerModel;
import dev.moments.indexer.stream.IndexerService;
import dev.moments.model.LavitiModel;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import dev.moments.trainer.ego4d.NlqAnnotations;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code moments replay}: scores the live pipeline the way {@code eval nlq} scores the model
 * offline. Every NLQ clip of a feature set becomes its own stream in {@code moments.features}
 * (stream id = clip uid, frames at the manifest fps), the indexer runs the model over the
 * streams' windows, the query API indexes the moments, and every query is asked over HTTP
 * restricted to its clip's stream; the answers become the official prediction JSON and are
 * scored next to the offline evaluation of the same model with the same windows and the same
 * suppression of overlapping answers.
 *
 * <p>The offline row is the live pipeline's answer computed without it: the model runs over
 * exactly the windows the indexer runs over each clip's stream ({@code LiveWindows#live}: windows
 * ending every {@code --hop-sec} after the stream's first frame, early ones partial, pending ones
 * and the rest at its end-of-stream mark, with the indexer's lateness), and the moments (scored
 * by cosine with the query) and the clip's per-second frame evidence go to the served search's
 * default ranker ({@code Rankers.DEFAULT}, the fused one), which keeps the top 5; times are clip
 * seconds both ways (a clip starting mid-frame starts its stream with that whole frame). {@code
 * eval nlq --hop-sec H} gives the same row as its fused row; {@code eval nlq} without it slides
 * windows every {@code --stride-sec} (default half the window) instead, which the note it prints
 * says. Online and offline differ only by the index's whole-millisecond times: both score a moment
 * with its int8 vector ({@code MomentVectors.similarity}) and rank from the int8 frame evidence.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
    description = "Replay a feature set's NLQ clips through Kafka, the indexer and the query API "
        + "(one stream per clip), ask every query over HTTP, write the official prediction JSON and "
        + "print online vs offline metrics.")
final class ReplayCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Capture time of every replayed clip's first frame (streams are separate, so one is enough). */
  static final long START_MS = 1_700_000_000_000L;

  @Option(names = "--dataset", required = true, paramLabel = "DIR",
      description = "Dataset directory; --features and --annotations default to DIR/features and DIR/nlq_val.json.")
  Path dataset;

  @Option(names = "--features", paramLabel = "DIR",
      description = "Replay frame features ({video_uid}.npy + manifest.json; default DIR/features).")
  Path features;

  @Option(names = "--videos", paramLabel = "DIR",
      description = "Replay video files instead ({video_uid}.mp4 ...): each clip's video goes through ingest "
          + "(JPEG frames) and the featurizer with --encoder; offline features are made from the same files.")
  Path videos;

  @Option(names = "--encoder", paramLabel = "DIR",
      description = "With --videos: the image/text encoder (default: the bundled models/tiny-clip).")
  Path encoder;

  @Option(names = "--fps", defaultValue = "6", description = "With --videos: frames per second sampled (default: ${DEFAULT-VALUE}).")
  double fps;

  @Option(names = "--annotations", paramLabel = "FILE", description = "nlq_val.json (official layout).")
  Path annotations;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "LAVITI checkpoint directory.")
  Path model;

  @Option(names = "--text-embeddings", paramLabel = "NPZ",
      description = "Query text table (texts.npy + embeddings.npy); default: DIR/text_embeddings.npz when present, "
          + "else --text-encoder.")
  Path textEmbeddings;

  @Option(names = "--text-encoder", paramLabel = "DIR",
      description = "Text encoder directory (default: the bundled models/tiny-clip).")
  Path textEncoder;

  @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
      description = "Kafka to replay into (default: an in-process broker under --work).")
  String bootstrap;

  @Option(names = "--topic-prefix", defaultValue = Topics.DEFAULT_PREFIX, paramLabel = "PREFIX",
      description = "Topic prefix; use a fresh one on a shared cluster (default: ${DEFAULT-VALUE}).")
  String topicPrefix;

  @Option(names = "--work", paramLabel = "DIR",
      description = "Broker data, indexer state and index of this replay (default: a new temporary directory).")
  Path work;

  @Option(names = "--window-sec", paramLabel = "SEC",
      description = "Window length, live and offline (default: the model's training chunk length, else 600).")
  Double windowSec;

  @Option(names = "--hop-sec", paramLabel = "SEC",
      description = "Distance between live window ends; offline stride (default: the window).")
  Double hopSec;

  @Option(names = "--copies", defaultValue = "" + dev.moments.model.rank.CentredMoments.DEFAULT_COPIES, paramLabel = "N",
      description = "As index's --copies: the index keeps each stretch from the N windows nearest it, 0 every "
          + "moment; the offline row keeps the same (default: ${DEFAULT-VALUE}).")
  int copies;

  @Option(names = "--timeout", defaultValue = "10m", converter = DurationConverter.class,
      description = "Give up when the index has not caught up after this long (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--predictions-out", paramLabel = "FILE", description = "Write the live prediction JSON here.")
  Path predictionsOut;

  @Option(names = "--offline-predictions-out", paramLabel = "FILE",
      description = "Write the offline row's prediction JSON here.")
  Path offlinePredictionsOut;

  @Option(names = "--json", description = "Print {online: {...}, offline: {...}} metrics (percent) as one JSON object.")
  boolean json;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  /** Progress lines (the command line's error stream). */
  private java.io.PrintWriter err = new java.io.PrintWriter(System.err, true);

  /** What a replay measured. */
  record Outcome(NlqMetrics.Scores online, NlqMetrics.Scores offline, List<NlqPredictions.Result> live,
      List<NlqPredictions.Result> offlinePredictions) {}

  @Override
  public Integer call() throws Exception {
    if (spec != null) {
      err = spec.commandLine().getErr();
    }
    if (videos != null && features != null) {
      throw new IllegalArgumentException("give --videos or --features, not both");
    }
    Path ann = annotations != null ? annotations : dataset.resolve("nlq_val.json");
    Path table = textEmbeddings;
    if (table == null && textEncoder == null && videos == null
        && Files.isRegularFile(dataset.resolve("text_embeddings.npz"))) {
      table = dataset.resolve("text_embeddings.npz");
    }
    Path imageDir = encoder != null ? encoder : Encoders.defaultDir();
    Path text = table != null ? table : textEncoder != null ? textEncoder : videos != null ? imageDir : Encoders.defaultDir();
    Path dir = work != null ? work : Files.createTempDirectory("moments-replay");
    Path feats = features != null ? features : dataset.resolve("features");
    Outcome o;
    if (videos != null) {
      // one image encoder for both sides: the offline features and the live featurizer
      feats = dir.resolve("features");
      try (dev.moments.featurizer.encoder.ImageEncoder image = Encoders.loadImage(imageDir)) {
        err.println("replay: offline features of " + videos + " with " + image.id() + " -> " + feats);
        dev.moments.featurizer.offline.OfflineFeaturizer.Result r = new dev.moments.featurizer.offline.OfflineFeaturizer(
            image, fps, 32, new java.io.PrintStream(java.io.OutputStream.nullOutputStream())).run(videos, feats);
        if (!r.failed().isEmpty()) {
          throw new IllegalArgumentException("cannot decode videos " + r.failed() + " in " + videos);
        }
        o = run(feats, ann, text, dir, image);
      }
    } else {
      o = run(feats, ann, text, dir, null);
    }
    if (predictionsOut != null) {
      NlqPredictions.write(predictionsOut, o.live());
    }
    if (offlinePredictionsOut != null) {
      NlqPredictions.write(offlinePredictionsOut, o.offlinePredictions());
    }
    if (json) {
      Map<String, Object> both = new LinkedHashMap<>();
      both.put("online", o.online().asMap());
      both.put("offline", o.offline().asMap());
      System.out.println(JSON.writeValueAsString(both));
      return 0;
    }
    Map<String, NlqMetrics.Scores> rows = new LinkedHashMap<>();
    rows.put("online (replay)", o.online());
    rows.put("offline (eval nlq)", o.offline());
    System.out.print(Reports.nlqTable(rows));
    System.out.println(Reports.nlqCounts(o.online()));
    if (predictionsOut != null) {
      System.out.println("predictions: " + predictionsOut);
    }
    return 0;
  }

  /** Replays and scores; {@code image} is the live featurizer's encoder in --videos mode, else null. */
  Outcome run(Path feats, Path ann, Path textPath, Path dir, dev.moments.featurizer.encoder.ImageEncoder image)
      throws Exception {
    NlqAnnotations gt = NlqAnnotations.read(ann);
    FeatureManifest manifest = FeatureManifest.read(feats);
    Topics topics = new Topics(topicPrefix);
    List<AutoCloseable> open = new ArrayList<>();
    try (LavitiModel m = LavitiModel.load(model);
        TextEncoder encoder = Encoders.loadText(textPath)) {
      m.checkCompatible(manifest.encoderId(), manifest.dim());
      if (encoder.dim() != m.config().textDim()) {
        throw new IllegalArgumentException("text embeddings of " + textPath + " have dim " + encoder.dim()
            + ", the model's text dim is " + m.config().textDim());
      }
      double window = EvalCommand.window(m, windowSec);
      double hop = hopSec != null ? hopSec : window;
      FeatureReplay replay = new FeatureReplay(feats);
      List<FeatureReplay.Clip> clips = replay.plan(gt, START_MS);
      if (videos != null) {
        // the stream is the whole video, its time set so that the clip's start is at START_MS
        clips = clips.stream().map(FeatureReplay.Clip::alignedToClipStart).toList();
      }
      if (clips.isEmpty()) {
        throw new IllegalArgumentException("no clip of " + ann + " has features in " + feats);
      }
      String servers = bootstrap;
      if (servers == null) {
        EmbeddedBroker broker = EmbeddedBroker.start(dir.resolve("broker"), 0);
        open.add(broker);
        servers = broker.bootstrapServers();
      }
      TopicAdmin.ensureTopics(servers, topics, 2, (short) 1);
      IndexerConfig ic = IndexerConfig.defaults(topics)
          .withWindow(Duration.ofMillis(Math.round(window * 1000)), Duration.ofMillis(Math.round(hop * 1000)))
          // Every replayed stream ends with its end-of-stream mark, which flushes its last window;
          // a short idle flush would only add provisional windows (while a loaded featurizer
          // lags) whose later retraction the wait for the expected moment count can mistake.
          .withIdleFlush(Duration.ofMinutes(10)).withFps(manifest.fps()).withCopies(copies)
          .withApplicationId(topics.prefix() + "-replay-" + Long.toHexString(System.nanoTime()));
      IndexerService indexer = new IndexerService(servers, ic, IndexerModel.of(m), dir.resolve("indexer-state"));
      open.add(indexer);
      indexer.start();
      byte[] b = new byte[16];
      new SecureRandom().nextBytes(b);
      String token = HexFormat.of().formatHex(b);
      Path tokens = dir.resolve("tokens");
      Files.writeString(tokens, token + " *\n");
      if (image != null) {
        dev.moments.featurizer.service.FeaturizerService featurizer = new dev.moments.featurizer.service.FeaturizerService(
            dev.moments.featurizer.service.FeaturizerConfig.defaults(servers, topics), image);
        open.add(featurizer);
        featurizer.start();
      }
      MomentsServer server = MomentsServer.start(new MomentsServer.Config(dir.resolve("index"), "127.0.0.1", 0,
          textPath, TokenFile.load(tokens), servers, topics, MomentsServer.Config.DEFAULT_FRAME_CACHE_BYTES));
      open.add(server);

      long frames = clips.stream().mapToLong(FeatureReplay.Clip::frames).sum();
      err.printf(Locale.ROOT, "replay: %d clips, %d feature frames -> %s (window %.0f s, hop %.0f s)%n",
          clips.size(), frames, topics.features().name(), window, hop);
      if (videos != null) {
        ingestVideos(servers, topics, gt, clips);
      } else {
        replay.push(servers, topics, gt, clips, n -> err.printf(Locale.ROOT, "\rsent %d/%d frames", n, frames));
        err.println();
      }
      awaitIndexed(server, clips, manifest, ic, m.config().numQueries());
      err.printf(Locale.ROOT, "index: %d moments kept of %d consumed (each stretch from %s; %d centred before "
          + "their window's band not stored), %d bytes on disk with the frame evidence%n", server.index().size(),
          server.materializer().consumed(), dev.moments.model.rank.CentredMoments.describe(copies),
          server.index().offCentre(), server.index().sizeOnDiskBytes());

      List<NlqPredictions.Result> live = ask(server.port(), token, gt, clips);
      NlqMetrics.Scores online = NlqMetrics.score(gt, live);
      // The indexer's windows over each clip's stream (with --videos the stream holds the whole
      // video, so only the clip's frames are the same: the rows agree less there).
      List<NlqPredictions.Result> offlinePredictions = new NlqEvaluator(m, QueryText.fromEncoder(encoder),
          NlqEvaluator.Options.live(window, hop, ic.lateness().toMillis() / 1000.0, copies, 5,
              MomentIndex.DEFAULT_NMS_IOU))
          .runRanked(gt, feats, java.util.Map.of(dev.moments.model.rank.Rankers.DEFAULT,
              dev.moments.model.rank.Rankers.named(dev.moments.model.rank.Rankers.DEFAULT)))
          .predictions().get(dev.moments.model.rank.Rankers.DEFAULT);
      NlqMetrics.Scores offline = NlqMetrics.score(gt, offlinePredictions);
      err.printf(Locale.ROOT, "offline row: the indexer's windows (%.0f s ending every %.0f s, lateness %.0f s) and "
          + "the index's moments = eval nlq --window-sec %.0f --hop-sec %.0f --copies %d%n", window, hop,
          ic.lateness().toMillis() / 1000.0, window, hop, copies);
      return new Outcome(online, offline, live, offlinePredictions);
    } finally {
      for (int i = open.size() - 1; i >= 0; i--) {
        open.get(i).close();
      }
    }
  }

  /**
   * Ingests each clip's video file as the clip's stream; the capture time of the video's first
   * frame is set so that the clip's first frame is at {@link #START_MS}. Frames outside the clip
   * are indexed too; the queries ask only for the clip's time range.
   */
  private void ingestVideos(String servers, Topics topics, NlqAnnotations gt, List<FeatureReplay.Clip> clips)
      throws IOException {
    Map<String, NlqAnnotations.Query> firstOf = new LinkedHashMap<>();
    gt.queries().forEach(q -> firstOf.putIfAbsent(q.clipUid(), q));
    Map<String, Path> files = new LinkedHashMap<>();
    try (var s = Files.list(videos)) {
      s.filter(f -> Files.isRegularFile(f) && !f.getFileName().toString().endsWith(".json"))
          .sorted().forEach(f -> files.putIfAbsent(dev.moments.featurizer.offline.OfflineFeaturizer.uid(f), f));
    }
    try (dev.moments.ingest.Ingestor ingestor = new dev.moments.ingest.Ingestor(servers, topics, 0.85, line -> {})) {
      int i = 0;
      for (FeatureReplay.Clip c : clips) {
        NlqAnnotations.Query q = firstOf.get(c.clipUid());
        Path file = files.get(c.videoUid());
        if (file == null) {
          throw new IllegalArgumentException("no video file for " + c.videoUid() + " in " + videos);
        }
        dev.moments.ingest.IngestResult r = ingestor.ingest(c.streamId(), file.toString(),
            dev.moments.ingest.SourceOptions.defaults().withFps(fps)
                .withStartTimeMs(START_MS - Math.round(q.clipVideoStartSec() * 1000)));
        err.printf(Locale.ROOT, "\ringested %d/%d clips (%s: %d frames)", ++i, clips.size(), c.videoUid(),
            r.framesSent());
      }
    }
    err.println();
  }

  /**
   * Waits until the index holds every window's moments: the windows the indexer emits over each
   * stream ({@link LiveWindows#live}) times the model's moments per window. With --features that
   * count is exact, and nothing is asked before it is reached (a loaded machine can take longer
   * than any quiet period between two windows: a "settled" guess asked queries of a half-indexed
   * clip). With --videos it need not be reached (a video can decode to another frame count than
   * its features), so there a stream with at least one window's moments that has not changed for
   * 5 s counts as done.
   */
  private void awaitIndexed(MomentsServer server, List<FeatureReplay.Clip> clips, FeatureManifest manifest,
      IndexerConfig ic, int perWindow) throws InterruptedException {
    Map<String, Long> want = new LinkedHashMap<>();
    for (FeatureReplay.Clip c : clips) {
      // with --videos the stream carries the whole video, not only the clip
      int frames = videos != null ? manifest.videos().get(c.videoUid()).frames() : c.frames();
      int windows = LiveWindows.live(frames, c.fps(), ic.window().toMillis() / 1000.0,
          ic.hop().toMillis() / 1000.0, ic.lateness().toMillis() / 1000.0).size();
      want.put(c.streamId(), (long) windows * perWindow);
    }
    long expected = want.values().stream().mapToLong(Long::longValue).sum();
    long deadline = System.nanoTime() + timeout.toNanos();
    long stableSince = System.nanoTime();
    long lastTotal = -1;
    while (System.nanoTime() < deadline) {
      Map<String, Long> have = server.index().streams().stream()
          .collect(Collectors.toMap(StreamStats::streamId, StreamStats::moments));
      long total = have.values().stream().mapToLong(Long::longValue).sum();
      long consumed = server.materializer().consumed();
      err.printf(Locale.ROOT, "\rindexed %d/%d streams, %d/%d moments consumed, %d kept", have.size(), want.size(),
          consumed, expected, total);
      if (consumed + total != lastTotal) {
        stableSince = System.nanoTime();
        lastTotal = consumed + total;
      }
      if (server.materializer().caughtUp()) {
        // every window's moments consumed (the index keeps fewer: each stretch only from the
        // windows nearest it) and every stream has some
        boolean complete = server.materializer().consumed() >= expected
            && want.keySet().stream().allMatch(k -> have.getOrDefault(k, 0L) > 0);
        boolean settled = videos != null && System.nanoTime() - stableSince > 5_000_000_000L
            && want.keySet().stream().allMatch(k -> have.getOrDefault(k, 0L) > 0);
        if (complete || settled) {
          err.println();
          if (!complete) {
            err.printf(Locale.ROOT, "note: %d of the %d expected moments were indexed (no change for 5 s)%n",
                server.materializer().consumed(), expected);
          }
          return;
        }
      }
      Thread.sleep(200);
    }
    err.println();
    throw new IllegalStateException("the replayed streams were not indexed within " + timeout.toSeconds()
        + " s (--timeout): " + server.materializer().consumed() + " of " + expected + " moments consumed");
  }

  private List<NlqPredictions.Result> ask(int port, String token, NlqAnnotations gt,
      List<FeatureReplay.Clip> clips) throws IOException, InterruptedException {
    Map<String, FeatureReplay.Clip> byUid = new LinkedHashMap<>();
    clips.forEach(c -> byUid.put(c.clipUid(), c));
    HttpClient http = HttpClient.newHttpClient();
    List<NlqPredictions.Result> out = new ArrayList<>();
    int done = 0;
    for (NlqAnnotations.Query q : gt.queries()) {
      FeatureReplay.Clip c = byUid.get(q.clipUid());
      if (c == null) {
        continue;
      }
      // the clip's time range (with --features: the whole stream, which is the clip's frames)
      long to = c.startMs() + Math.round(Math.max(c.durationSec(), c.lengthSec() - c.offsetSec()) * 1000);
      URI uri = URI.create("http://127.0.0.1:" + port + "/api/search?k=5&streams="
          + URLEncoder.encode(c.streamId(), StandardCharsets.UTF_8)
          + "&from=" + c.startMs() + "&to=" + to + "&q="
          + URLEncoder.encode(q.query(), StandardCharsets.UTF_8));
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token)
          .GET().build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("search for \"" + q.query() + "\" answered " + r.statusCode() + ": " + r.body());
      }
      List<double[]> times = new ArrayList<>();
      for (JsonNode h : JSON.readTree(r.body()).path("results")) {
        times.add(c.clipSpan(h.path("startMs").asLong(), h.path("endMs").asLong()));
      }
      out.add(new NlqPredictions.Result(q.clipUid(), q.annotationUid(), q.queryIdx(), times));
      err.printf(Locale.ROOT, "\rasked %d/%d queries", ++done, gt.queries().size());
    }
    err.println();
    return out;
  }
}
