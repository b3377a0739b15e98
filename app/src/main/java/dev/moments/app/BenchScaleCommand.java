package dev.moments.app;

import dev.moments.api.metrics.Metrics;
import dev.moments.broker.EmbeddedBroker;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.indexer.stream.BundledModel;
import dev.moments.model.CheckpointMetadata;
import dev.moments.model.LavitiConfig;
import dev.moments.model.LavitiModel;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code moments bench scale}: throughput of 1, 2, 4... real {@code featurize} and {@code index}
 * processes sharing one input (issue 13, "every instance works").
 *
 * <p>Per stage and instance count n: a fresh topic prefix (so a fresh consumer group or
 * application id and empty output topics), the stage's whole input written in one open Kafka
 * transaction, n child JVMs running the real command (the flags and class path of this JVM, each
 * pinned to one CPU with {@code taskset} when asked), and once every instance owns partitions
 * (read from its {@code /metrics}) the transaction is committed: the input becomes visible to the
 * read_committed services at once, and the clock runs from that commit until the whole output
 * has been read (read_committed): a feature per frame, or the final window of every stream. Then
 * the instances are stopped with SIGTERM, the output is read to its end and checked for
 * exactly-once counts.
 */
@Command(name = "scale", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Frames/s of 1, 2, 4... 'moments featurize' processes and windows/s of 'moments index' "
        + "processes on S streams over one broker (an embedded one in a temp dir unless --bootstrap), each "
        + "instance pinned to one CPU (taskset), with an exactly-once check of the output counts. NOTE: timings "
        + "depend on the machine's load (printed before and after each run).")
final class BenchScaleCommand implements Callable<Integer> {
  enum Stage { featurize, index, both }

  /** 2026-01-01T00:00:00Z, the first frame's capture time. */
  private static final long T0 = 1_767_225_600_000L;
  private static final int WIDTH = 640;
  private static final int HEIGHT = 360;
  /** Distinct rendered frames per stream, sent in a loop (rendering each frame would take longer than the run). */
  private static final int DISTINCT_FRAMES = 24;
  private static final Pattern METRICS_AT = Pattern.compile("metrics at http://[^:/]+:(\\d+)/metrics");
  private static final Pattern PARTITION = Pattern.compile("partition=\"(\\d+)\"");

  @Option(names = "--stage", defaultValue = "both",
      description = "featurize, index or both (default: ${DEFAULT-VALUE}).")
  Stage stage;

  @Option(names = "--instances", defaultValue = "1,2,4", split = ",", paramLabel = "N[,N...]",
      description = "Instance counts to time, in order (default: ${DEFAULT-VALUE}).")
  List<Integer> instances;

  @Option(names = "--streams", defaultValue = "8", description = "Streams (default: ${DEFAULT-VALUE}).")
  int streams;

  @Option(names = "--partitions", defaultValue = "8",
      description = "Partitions of the bench's topics (default: ${DEFAULT-VALUE}).")
  int partitions;

  @Option(names = "--seconds", paramLabel = "S",
      description = "Seconds of video per stream (default: " + FEATURIZE_SECONDS + " for featurize, "
          + INDEX_SECONDS + " for index: about a minute per instance count on a 2-core machine).")
  Integer seconds;

  static final int FEATURIZE_SECONDS = 60;
  static final int INDEX_SECONDS = 5400;

  @Option(names = "--fps", defaultValue = "6", description = "Frames per second (default: ${DEFAULT-VALUE}).")
  double fps;

  @Option(names = "--encoder", paramLabel = "DIR",
      description = "Encoder of featurize (default: the bundled models/tiny-clip).")
  Path encoder;

  @Option(names = "--model", paramLabel = "DIR",
      description = "LAVITI checkpoint of index (default: the bundled models/laviti-tiny).")
  Path model;

  @Option(names = "--window", defaultValue = "600s", converter = DurationConverter.class,
      description = "Window of index (default: ${DEFAULT-VALUE}, the service's).")
  Duration window;

  @Option(names = "--hop", defaultValue = "30s", converter = DurationConverter.class,
      description = "Hop of index (default: ${DEFAULT-VALUE}, the service's).")
  Duration hop;

  @Option(names = "--lateness", defaultValue = "10s", converter = DurationConverter.class,
      description = "Lateness of index (default: ${DEFAULT-VALUE}, the service's).")
  Duration lateness;

  @Option(names = "--pin", negatable = true,
      description = "Pin instance i to CPU i mod (CPUs this process may use) with taskset, one libtorch "
          + "thread each (default: on when taskset exists).")
  Boolean pin;

  @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
      description = "Use this broker (its bench topics are deleted afterwards) instead of an embedded one.")
  String bootstrap;

  @Option(names = "--timeout", defaultValue = "10m", converter = DurationConverter.class,
      description = "Longest wait for one run's output, and separately for its instances to start "
          + "(default: ${DEFAULT-VALUE}).")
  Duration timeout;

  /** The instances running now: stopped by the shutdown hook if the bench itself is stopped (Ctrl-C). */
  private static final Set<Child> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String runId = Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
  private List<String> streamIds;
  private List<Integer> cpus;
  private boolean pinned;

  @Override
  public Integer call() throws Exception {
    check();
    Path tmp = Files.createTempDirectory("moments-bench-scale-");
    EmbeddedBroker broker = null;
    Thread hook = new Thread(() -> {
      try {
        stopAll(List.copyOf(LIVE));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "bench-scale-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      String servers = bootstrap;
      if (servers == null) {
        broker = EmbeddedBroker.start(tmp.resolve("broker"), "127.0.0.1", 0);
        servers = broker.bootstrapServers();
      }
      cpus = allowedCpus();
      pinned = pin != null ? pin : hasTaskset();
      if (pinned && !hasTaskset()) {
        throw new IllegalArgumentException("--pin needs taskset, which is not on the PATH");
      }
      streamIds = spreadStreamIds(streams, partitions);
      System.out.printf(Locale.ROOT, "bench scale: %d streams on %d partitions (%s), broker %s%s; %d CPUs (%s); "
              + "pinning %s%n", streams, partitions, spread(), servers, broker != null ? " (embedded)" : "",
          cpus.size(), cpus, pinned ? "on: instance i on CPU i mod " + cpus.size() + ", 1 libtorch thread each"
              : "off" + (pin == null ? " (no taskset)" : ""));
      boolean ok = true;
      if (stage != Stage.index) {
        ok &= runStage(new FeaturizeStage(), servers, tmp);
      }
      if (stage != Stage.featurize) {
        ok &= runStage(new IndexStage(), servers, tmp);
      }
      return ok ? 0 : 1;
    } finally {
      if (broker != null) {
        broker.close();
      }
      deleteTree(tmp);
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // shutting down: the hook runs
      }
    }
  }

  private void check() {
    if (instances.isEmpty() || instances.stream().anyMatch(n -> n < 1)) {
      throw new IllegalArgumentException("--instances must be positive counts, got " + instances);
    }
    if (streams < 1 || partitions < 1) {
      throw new IllegalArgumentException("--streams and --partitions must be >= 1");
    }
    if (seconds != null && seconds < 1) {
      throw new IllegalArgumentException("--seconds must be >= 1, got " + seconds);
    }
    if (!(fps > 0) || Double.isInfinite(fps)) {
      throw new IllegalArgumentException("--fps must be a positive number, got " + fps);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // one stage: input once, a run per instance count, the table

  /** What differs between featurize and index. */
  private abstract class StageRun {
    final String name;
    final int seconds;
    final int frames;
    final long frameMs = Math.max(1, Math.round(1000.0 / fps));

    StageRun(String name, int defaultSeconds) {
      this.name = name;
      this.seconds = BenchScaleCommand.this.seconds != null ? BenchScaleCommand.this.seconds : defaultSeconds;
      this.frames = (int) Math.max(1, Math.round(this.seconds * fps));
    }

    long timestamp(int frame) {
      return T0 + frame * frameMs;
    }

    abstract String describe();

    /** The topic the input goes to. */
    abstract String inputTopic(Topics t);

    /** The value of frame {@code i} of stream {@code s}. */
    abstract byte[] value(int s, int i);

    /** The headers of a frame (marks get theirs). */
    abstract void headers(RecordHeaders h, int i);

    /** The arguments of instance {@code i}'s command. */
    abstract List<String> args(Topics t, String servers, Path dir);

    /** A fresh reader of the output. */
    abstract Output output(Topics t, String servers);

    /** The metric that counts what an instance consumed, or null when it has none. */
    abstract String recordsMetric();

    /** The table's throughput columns of a run taking {@code sec} with {@code output} read. */
    abstract String header();

    abstract String throughput(double sec, Output output);

    /** Frames/s or windows/s: the number the speed-up compares. */
    abstract double rate(double sec, Output output);
  }

  private final class FeaturizeStage extends StageRun {
    final Path encoderDir = (encoder != null ? encoder : Encoders.defaultDir()).toAbsolutePath();
    final byte[][][] jpegs = new byte[streams][][];

    FeaturizeStage() {
      super("featurize", FEATURIZE_SECONDS);
    }

    @Override
    String describe() {
      return String.format(Locale.ROOT, "%d s x %s fps = %d frames per stream, %d frames (%dx%d JPEG, %d distinct "
              + "per stream, about %d KB each); encoder %s", seconds, fmt(fps), frames, frames * streams, WIDTH,
          HEIGHT, Math.min(DISTINCT_FRAMES, frames), jpegKb(), encoderDir);
    }

    private long jpegKb() {
      long bytes = 0;
      for (int i = 0; i < Math.min(DISTINCT_FRAMES, frames); i++) {
        bytes += value(0, i).length;
      }
      return bytes / Math.min(DISTINCT_FRAMES, frames) / 1024;
    }

    @Override
    String inputTopic(Topics t) {
      return t.frames().name();
    }

    @Override
    byte[] value(int s, int i) {
      if (jpegs[s] == null) {
        jpegs[s] = new byte[Math.min(DISTINCT_FRAMES, frames)][];
      }
      int k = i % jpegs[s].length;
      if (jpegs[s][k] == null) {
        jpegs[s][k] = renderJpeg(s, k);
      }
      return jpegs[s][k];
    }

    @Override
    void headers(RecordHeaders h, int i) {
      h.add(Topics.HEADER_PTS_MS, Long.toString(i * frameMs).getBytes(StandardCharsets.US_ASCII));
      h.add(Topics.HEADER_CONTENT_TYPE, "image/jpeg".getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    List<String> args(Topics t, String servers, Path dir) {
      return List.of("featurize", "--bootstrap", servers, "--topic-prefix", t.prefix(), "--partitions",
          Integer.toString(partitions), "--encoder", encoderDir.toString(), "--group", t.prefix() + "-featurizer");
    }

    @Override
    Output output(Topics t, String servers) {
      return new FeatureOutput(this, servers, t.features().name());
    }

    @Override
    String recordsMetric() {
      return "moments_featurizer_records_total{service=\"featurize\"}";
    }

    @Override
    String header() {
      return String.format("%9s", "frames/s");
    }

    @Override
    String throughput(double sec, Output output) {
      return String.format(Locale.ROOT, "%9.1f", rate(sec, output));
    }

    @Override
    double rate(double sec, Output output) {
      return (double) frames * streams / sec;
    }
  }

  private final class IndexStage extends StageRun {
    final Path modelDir = (model != null ? model : BundledModel.defaultDir()).toAbsolutePath();
    final CheckpointMetadata meta;
    final int momentsPerWindow;

    IndexStage() throws IOException {
      super("index", INDEX_SECONDS);
      meta = CheckpointMetadata.read(modelDir.resolve(CheckpointMetadata.FILE_NAME));
      momentsPerWindow = LavitiConfig.read(modelDir.resolve(LavitiModel.CONFIG_FILE)).numQueries();
    }

    /** Hop windows (ends t0 + k hop up to the last frame less the lateness) plus the final window. */
    int windowsPerStream() {
      long span = timestamp(frames - 1) - lateness.toMillis() - T0;
      return (span < 0 ? 0 : (int) (span / hop.toMillis())) + 1;
    }

    String finalWindow(String stream) {
      return MomentRecord.windowIdFor(stream, timestamp(frames - 1) + frameMs - window.toMillis());
    }

    @Override
    String describe() {
      return String.format(Locale.ROOT, "%d s x %s fps = %d features per stream (dim %d, %s), %d features; window %s, "
              + "hop %s, lateness %s: %d windows per stream, %d windows; model %s", seconds, fmt(fps), frames,
          meta.featureDim(), meta.encoderId(), frames * streams, fmt(window), fmt(hop), fmt(lateness), windowsPerStream(),
          windowsPerStream() * streams, modelDir);
    }

    @Override
    String inputTopic(Topics t) {
      return t.features().name();
    }

    @Override
    byte[] value(int s, int i) {
      float[] v = new float[meta.featureDim()];
      double norm = 0;
      for (int k = 0; k < v.length; k++) {
        v[k] = (float) Math.sin(0.37 * k + 0.011 * i + 1.3 * s);
        norm += v[k] * v[k];
      }
      for (int k = 0; k < v.length; k++) {
        v[k] /= (float) Math.sqrt(norm);
      }
      return new FeatureRecord(meta.encoderId(), v).toBytes();
    }

    @Override
    void headers(RecordHeaders h, int i) {
      h.add(Topics.HEADER_PTS_MS, Long.toString(i * frameMs).getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    List<String> args(Topics t, String servers, Path dir) {
      return List.of("index", "--bootstrap", servers, "--topic-prefix", t.prefix(), "--partitions",
          Integer.toString(partitions), "--model", modelDir.toString(), "--window", window.toMillis() + "ms",
          "--hop", hop.toMillis() + "ms", "--lateness", lateness.toMillis() + "ms", "--idle-flush", "1h",
          "--fps", fmt(fps), "--state-dir", dir.resolve("state").toString(), "--application-id",
          t.prefix() + "-indexer");
    }

    @Override
    Output output(Topics t, String servers) {
      return new MomentOutput(this, servers, t.moments().name());
    }

    @Override
    String recordsMetric() {
      return null;
    }

    @Override
    String header() {
      return String.format("%10s %11s", "windows/s", "features/s");
    }

    @Override
    String throughput(double sec, Output output) {
      return String.format(Locale.ROOT, "%10.2f %11.1f", rate(sec, output), frames * (double) streams / sec);
    }

    @Override
    double rate(double sec, Output output) {
      return (double) windowsPerStream() * streams / sec;
    }
  }

  /** One run's result. */
  private record Row(int n, double seconds, String throughput, double rate, String perInstance,
      String loadBefore, String loadAfter, boolean exactlyOnce) {}

  private boolean runStage(StageRun s, String servers, Path tmp) throws Exception {
    System.out.printf("%n%s: %s%n", s.name, s.describe());
    List<Row> rows = new ArrayList<>();
    boolean ok = true;
    for (int n : instances) {
      Row r = runOnce(s, n, servers, tmp);
      rows.add(r);
      ok &= r.exactlyOnce();
    }
    double base = rows.stream().filter(r -> r.n() == 1).findFirst().orElse(rows.getFirst()).rate();
    System.out.printf("%n%s: %d streams, %d partitions, pinning %s%n", s.name, streams, partitions,
        pinned ? "on" : "off");
    System.out.printf("%-9s %9s %8s %s %8s %-12s %-15s %s%n", "stage", "instances", "seconds", s.header(),
        "speed-up", "exactly-once", "load 1m", "records per instance");
    for (Row r : rows) {
      System.out.printf(Locale.ROOT, "%-9s %9d %8.1f %s %7.2fx %-12s %-15s %s%n", s.name, r.n(), r.seconds(),
          r.throughput(), r.rate() / base, r.exactlyOnce() ? "ok" : "FAILED",
          r.loadBefore().split(" ")[0] + "->" + r.loadAfter().split(" ")[0], r.perInstance());
    }
    return ok;
  }

  private Row runOnce(StageRun s, int n, String servers, Path tmp) throws Exception {
    Topics t = new Topics("bench-scale-" + runId + "-" + s.name + "-" + n);
    Path dir = Files.createDirectories(tmp.resolve(t.prefix()));
    TopicAdmin.ensureTopics(servers, t, partitions, (short) 1);
    String before = loadavg();
    System.out.printf("%n%s x%d: load %s; writing the input in one open transaction...%n", s.name, n, before);
    long[] perPartition = new long[partitions];
    List<Child> children = new ArrayList<>();
    try (KafkaProducer<String, byte[]> producer = transactionalProducer(servers, t.prefix() + "-input");
        Output out = s.output(t, servers)) {
      long w0 = System.nanoTime();
      produce(s, producer, s.inputTopic(t), perPartition);
      System.out.printf(Locale.ROOT, "%s x%d: %d records written in %.1f s; starting %d instance(s)%n", s.name, n,
          java.util.Arrays.stream(perPartition).sum(),
          (System.nanoTime() - w0) / 1e9, n);
      for (int i = 0; i < n; i++) {
        Integer cpu = pinned ? cpus.get(i % cpus.size()) : null;
        Path d = Files.createDirectories(dir.resolve("instance-" + i));
        children.add(Child.start(i, cpu, s.args(t, servers, d), d));
      }
      long up0 = System.nanoTime();
      Map<Integer, Set<Integer>> owned = awaitOwnership(children, s.name.equals("index"));
      System.out.printf(Locale.ROOT, "%s x%d: every instance owns partitions after %.1f s: %s; committing the input%n",
          s.name, n, (System.nanoTime() - up0) / 1e9, owned);
      long start = System.nanoTime();
      producer.commitTransaction();
      long deadline = start + timeout.toNanos();
      while (!out.complete()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(s.name + " x" + n + ": the output was not complete after " + timeout + ": "
              + out.progress() + logTails(children));
        }
        for (Child c : children) {
          c.checkAlive();
        }
        out.poll();
      }
      double sec = (System.nanoTime() - start) / 1e9;
      String after = loadavg();
      System.out.printf(Locale.ROOT, "%s x%d: complete after %.1f s (%s); load %s%n", s.name, n, sec, out.progress(),
          after);
      // what each instance did, before it is stopped
      Map<Integer, Set<Integer>> ownedAfter = new TreeMap<>();
      List<String> per = new ArrayList<>();
      for (Child c : children) {
        Map<String, Double> m = scrape(c.port);
        Set<Integer> o = owned(m);
        ownedAfter.put(c.index, o);
        long handled = s.recordsMetric() != null && m.containsKey(s.recordsMetric())
            ? Math.round(m.get(s.recordsMetric()))
            : o.stream().mapToLong(p -> perPartition[p]).sum();
        per.add("i" + c.index + "=" + handled + (c.cpu != null ? " (cpu " + c.cpu + ")" : ""));
      }
      if (!ownedAfter.equals(owned)) {
        System.out.printf("%s x%d: ownership changed during the run: %s at the end%n", s.name, n, ownedAfter);
      }
      stopAll(children);
      out.drain();
      List<String> errors = out.errors();
      errors.forEach(e -> System.out.printf("ERROR: exactly-once check failed, %s x%d: %s%n", s.name, n, e));
      if (errors.isEmpty()) {
        System.out.printf("%s x%d: exactly-once check passed: %s%n", s.name, n, out.progress());
      }
      String perInstance = String.join(", ", per)
          + (s.recordsMetric() != null ? "" : " (owned partitions x input)");
      return new Row(n, sec, s.throughput(sec, out), s.rate(sec, out), perInstance, before, after,
          errors.isEmpty());
    } finally {
      stopAll(children);
      deleteTopics(servers, t);
    }
  }

  private void produce(StageRun s, KafkaProducer<String, byte[]> producer, String topic, long[] perPartition) {
    AtomicLongArray counts = new AtomicLongArray(partitions);
    AtomicReference<Exception> failed = new AtomicReference<>();
    org.apache.kafka.clients.producer.Callback cb = (md, e) -> {
      if (e != null) {
        failed.compareAndSet(null, e);
      } else {
        counts.incrementAndGet(md.partition());
      }
    };
    producer.beginTransaction();
    for (int i = 0; i < s.frames; i++) {
      for (int k = 0; k < streams; k++) {
        RecordHeaders h = new RecordHeaders();
        s.headers(h, i);
        producer.send(new ProducerRecord<>(topic, null, s.timestamp(i), streamIds.get(k), s.value(k, i), h), cb);
      }
    }
    for (int k = 0; k < streams; k++) {
      producer.send(Topics.endOfStreamMark(topic, streamIds.get(k), s.timestamp(s.frames - 1), "eof"), cb);
    }
    producer.flush();
    if (failed.get() != null) {
      throw new IllegalStateException("cannot write the input to " + topic + ": " + failed.get().getMessage(),
          failed.get());
    }
    for (int p = 0; p < partitions; p++) {
      perPartition[p] = counts.get(p);
    }
  }

  private static KafkaProducer<String, byte[]> transactionalProducer(String servers, String id) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
    // open while the instances start (the broker's transaction.max.timeout.ms is 15 min by default)
    p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 900_000);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
    KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    producer.initTransactions();
    return producer;
  }

  // ---------------------------------------------------------------------------------------------
  // the instances

  /** One child process running a {@code moments} command. */
  private static final class Child {
    final int index;
    final Integer cpu;
    final Process process;
    final Path log;
    int port = -1;

    private Child(int index, Integer cpu, Process process, Path log) {
      this.index = index;
      this.cpu = cpu;
      this.process = process;
      this.log = log;
    }

    static Child start(int index, Integer cpu, List<String> args, Path dir) throws IOException {
      List<String> all = new ArrayList<>(args);
      all.addAll(List.of("--metrics-port", "0", "--metrics-host", "127.0.0.1"));
      Path log = dir.resolve("instance.log");
      Process p = new ProcessBuilder(command(cpu, all)).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
      Child c = new Child(index, cpu, p, log);
      LIVE.add(c);
      return c;
    }

    /** The metrics port once the instance has said it, else -1. */
    int port() {
      if (port < 0) {
        Matcher m = METRICS_AT.matcher(readLog());
        if (m.find()) {
          port = Integer.parseInt(m.group(1));
        }
      }
      return port;
    }

    String readLog() {
      try {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
      } catch (IOException e) {
        return "";
      } catch (UncheckedIOException e) {
        return ""; // a partly written multi-byte character
      }
    }

    String tail() {
      List<String> lines = readLog().lines().toList();
      return String.join("\n  ", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    }

    void checkAlive() {
      if (!process.isAlive()) {
        throw new IllegalStateException("instance " + index + " exited with status " + process.exitValue()
            + "; the end of its log:\n  " + tail());
      }
    }
  }

  /**
   * The command line of {@code moments args...} in a new JVM: this JVM's executable, flags (less
   * agents, which would share files and ports) and class path; pinned to {@code cpu} when not null,
   * with one libtorch thread.
   */
  static List<String> command(Integer cpu, List<String> args) {
    List<String> cmd = new ArrayList<>();
    if (cpu != null) {
      cmd.addAll(List.of("taskset", "-c", Integer.toString(cpu)));
    }
    cmd.add(ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("-javaagent") || a.startsWith("-agentlib") || a.startsWith("-agentpath")
          || (cpu != null && a.startsWith("-D" + Encoders.THREADS_PROPERTY + "="))) {
        continue;
      }
      cmd.add(a);
    }
    if (cpu != null) {
      cmd.add("-D" + Encoders.THREADS_PROPERTY + "=1");
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Moments.class.getName()));
    cmd.addAll(args);
    return cmd;
  }

  /** Waits until every instance owns at least one partition and together they own all of them. */
  private Map<Integer, Set<Integer>> awaitOwnership(List<Child> children, boolean indexer)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String running = indexer ? "moments_indexer_running{service=\"index\"}"
        : "moments_featurizer_running{service=\"featurize\"}";
    int each = children.size() <= partitions ? 1 : 0;
    while (true) {
      Map<Integer, Set<Integer>> owned = new TreeMap<>();
      boolean allRunning = true;
      for (Child c : children) {
        c.checkAlive();
        if (c.port() < 0) {
          allRunning = false;
          continue;
        }
        Map<String, Double> m = scrape(c.port());
        allRunning &= Double.valueOf(1).equals(m.get(running));
        owned.put(c.index, owned(m));
      }
      Set<Integer> all = new TreeSet<>();
      owned.values().forEach(all::addAll);
      int total = owned.values().stream().mapToInt(Set::size).sum();
      if (allRunning && owned.size() == children.size() && all.size() == partitions && total == partitions
          && owned.values().stream().allMatch(o -> o.size() >= each)) {
        return owned;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the instances did not own every partition within " + timeout + ": "
            + owned + logTails(children));
      }
      Thread.sleep(200); // polling the instances' /metrics; nothing to wait on here
    }
  }

  private static String logTails(List<Child> children) {
    StringBuilder b = new StringBuilder();
    for (Child c : children) {
      b.append("\ninstance ").append(c.index).append(" log (end):\n  ").append(c.tail());
    }
    return b.toString();
  }

  /** SIGTERM to each, then waits (a minute, then kill -9). */
  private static void stopAll(List<Child> children) throws InterruptedException {
    for (Child c : children) {
      c.process.destroy();
    }
    for (Child c : children) {
      if (!c.process.waitFor(60, TimeUnit.SECONDS)) {
        System.out.printf("instance %d did not stop within 60 s of SIGTERM; killing it%n", c.index);
        c.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      LIVE.remove(c);
    }
  }

  /** The scrape of {@code /metrics} at {@code port}, empty while it does not answer. */
  private Map<String, Double> scrape(int port) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? Metrics.parse(r.body()) : Map.of();
    } catch (IOException e) {
      return Map.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Map.of();
    }
  }

  private static Set<Integer> owned(Map<String, Double> metrics) {
    Set<Integer> out = new TreeSet<>();
    metrics.forEach((k, v) -> {
      if (k.startsWith("moments_owned_partitions{") && v == 1.0) {
        Matcher m = PARTITION.matcher(k);
        if (m.find()) {
          out.add(Integer.parseInt(m.group(1)));
        }
      }
    });
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // the output

  /** Reads a run's output topic read_committed from its start, without a group. */
  private abstract class Output implements AutoCloseable {
    final KafkaConsumer<byte[], byte[]> consumer;
    final List<TopicPartition> tps = new ArrayList<>();

    Output(String servers, String topic) {
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
      p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024);
      consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      for (int i = 0; i < partitions; i++) {
        tps.add(new TopicPartition(topic, i));
      }
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
    }

    void poll() {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
        accept(r);
      }
    }

    /** Reads to the end (the last stable offsets), after the instances have stopped. */
    void drain() {
      Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(30));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (tps.stream().anyMatch(tp -> consumer.position(tp, Duration.ofSeconds(30)) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("cannot read the output to its end " + end);
        }
        poll();
      }
    }

    abstract void accept(ConsumerRecord<byte[], byte[]> r);

    abstract boolean complete();

    abstract String progress();

    abstract List<String> errors();

    @Override
    public void close() {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  /** Features per stream (distinct timestamps too) and marks. */
  private final class FeatureOutput extends Output {
    final StageRun s;
    final Map<String, Long> features = new HashMap<>();
    final Map<String, Set<Long>> timestamps = new HashMap<>();
    final Map<String, Long> marks = new HashMap<>();
    long total;
    long totalMarks;

    FeatureOutput(StageRun s, String servers, String topic) {
      super(servers, topic);
      this.s = s;
    }

    @Override
    void accept(ConsumerRecord<byte[], byte[]> r) {
      String stream = r.key() == null ? "(no key)" : new String(r.key(), StandardCharsets.UTF_8);
      if (Topics.isEndOfStream(r.headers())) {
        marks.merge(stream, 1L, Long::sum);
        totalMarks++;
      } else {
        features.merge(stream, 1L, Long::sum);
        timestamps.computeIfAbsent(stream, k -> new HashSet<>()).add(r.timestamp());
        total++;
      }
    }

    @Override
    boolean complete() {
      return total >= (long) s.frames * streams && totalMarks >= streams;
    }

    @Override
    String progress() {
      return String.format("%d features of %d frames, %d end-of-stream marks of %d", total,
          (long) s.frames * streams, totalMarks, streams);
    }

    @Override
    List<String> errors() {
      List<String> e = new ArrayList<>();
      Set<String> all = new TreeSet<>(streamIds);
      all.addAll(features.keySet());
      all.addAll(marks.keySet());
      for (String stream : all) {
        long f = features.getOrDefault(stream, 0L);
        int distinct = timestamps.getOrDefault(stream, Set.of()).size();
        long m = marks.getOrDefault(stream, 0L);
        if (!streamIds.contains(stream)) {
          e.add("stream " + stream + " is not one of the input's");
        } else if (f != s.frames || distinct != s.frames || m != 1) {
          e.add(String.format("stream %s: %d features (%d distinct frames) and %d end-of-stream marks for %d frames "
              + "and 1 mark", stream, f, distinct, m, s.frames));
        }
      }
      return e;
    }
  }

  /** Windows and moments per stream, retractions. */
  private final class MomentOutput extends Output {
    final IndexStage s;
    final Map<String, Map<String, Integer>> momentsByWindow = new HashMap<>(); // stream -> window -> moments
    final Set<String> momentIds = new HashSet<>();
    long records;
    long retractions;

    MomentOutput(IndexStage s, String servers, String topic) {
      super(servers, topic);
      this.s = s;
    }

    @Override
    void accept(ConsumerRecord<byte[], byte[]> r) {
      if (r.value() == null) {
        retractions++;
        return;
      }
      MomentRecord m = MomentRecord.fromBytes(r.value());
      records++;
      momentIds.add(m.momentId());
      momentsByWindow.computeIfAbsent(m.streamId(), k -> new HashMap<>()).merge(m.windowId(), 1, Integer::sum);
    }

    int windows() {
      return momentsByWindow.values().stream().mapToInt(Map::size).sum();
    }

    @Override
    boolean complete() {
      return streamIds.stream().allMatch(id -> momentsByWindow.getOrDefault(id, Map.of()).containsKey(s.finalWindow(id)));
    }

    @Override
    String progress() {
      long finals = streamIds.stream()
          .filter(id -> momentsByWindow.getOrDefault(id, Map.of()).containsKey(s.finalWindow(id))).count();
      return String.format("%d windows of %d, %d moments, final windows of %d streams of %d", windows(),
          s.windowsPerStream() * streams, records, finals, streams);
    }

    @Override
    List<String> errors() {
      List<String> e = new ArrayList<>();
      for (String id : streamIds) {
        Map<String, Integer> w = momentsByWindow.getOrDefault(id, Map.of());
        if (w.size() != s.windowsPerStream()) {
          e.add(String.format("stream %s: %d windows, expected %d", id, w.size(), s.windowsPerStream()));
        }
        w.forEach((window, count) -> {
          if (count != s.momentsPerWindow) {
            e.add(String.format("window %s: %d moment records, expected %d", window, count, s.momentsPerWindow));
          }
        });
      }
      if (records != momentIds.size()) {
        e.add(String.format("%d moment records but %d distinct moment ids", records, momentIds.size()));
      }
      if (retractions != 0) {
        e.add(retractions + " retractions (no window should have been provisional)");
      }
      Set<String> unknown = new TreeSet<>(momentsByWindow.keySet());
      streamIds.forEach(unknown::remove);
      if (!unknown.isEmpty()) {
        e.add("moments of streams not in the input: " + unknown);
      }
      return e;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  /** A frame of stream {@code s}: a sky, a street of blocks, a moving ball, a caption, and sensor noise. */
  static byte[] renderJpeg(int s, int k) {
    BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    float hue = (s * 0.137f) % 1f;
    g.setPaint(new GradientPaint(0, 0, Color.getHSBColor(hue, 0.4f, 0.95f), 0, HEIGHT,
        Color.getHSBColor((hue + 0.3f) % 1f, 0.6f, 0.35f)));
    g.fillRect(0, 0, WIDTH, HEIGHT);
    Random r = new Random(31L * s + 7);
    for (int b = 0; b < 14; b++) {
      int x = r.nextInt(WIDTH);
      int h = 60 + r.nextInt(180);
      g.setColor(Color.getHSBColor(r.nextFloat(), 0.3f, 0.3f + 0.5f * r.nextFloat()));
      g.fillRect(x, HEIGHT - h, 30 + r.nextInt(70), h);
    }
    g.setColor(Color.getHSBColor((hue + 0.5f) % 1f, 0.9f, 0.9f));
    g.fillOval((40 + k * 23) % (WIDTH - 60), 80 + (int) (60 * Math.sin(k * 0.5)), 60, 60);
    g.setStroke(new BasicStroke(3));
    g.setColor(Color.WHITE);
    g.drawLine(0, HEIGHT - 20 - k, WIDTH, HEIGHT - 40 + k);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 22));
    g.drawString("cam " + s + "  frame " + k, 16, 32);
    g.dispose();
    Random noise = new Random(1000L * s + k);
    for (int y = 0; y < HEIGHT; y++) {
      for (int x = 0; x < WIDTH; x++) {
        int rgb = img.getRGB(x, y);
        int d = noise.nextInt(17) - 8;
        int red = Math.clamp(((rgb >> 16) & 0xff) + d, 0, 255);
        int green = Math.clamp(((rgb >> 8) & 0xff) + d, 0, 255);
        int blue = Math.clamp((rgb & 0xff) + d, 0, 255);
        img.setRGB(x, y, (red << 16) | (green << 8) | blue);
      }
    }
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(img, "jpg", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@code n} stream ids {@code cam-K}, chosen so that stream j lands on partition j mod
   * {@code partitions} under the Java client's default partitioner: an even spread, so that the
   * instance counts, not the hash, decide the balance.
   */
  static List<String> spreadStreamIds(int n, int partitions) {
    List<String> out = new ArrayList<>();
    Map<Integer, List<String>> free = new HashMap<>();
    int next = 1;
    for (int j = 0; j < n; j++) {
      int want = j % partitions;
      while (free.getOrDefault(want, List.of()).isEmpty()) {
        String id = "cam-" + next++;
        free.computeIfAbsent(partitionOf(id, partitions), k -> new ArrayList<>()).add(id);
      }
      out.add(free.get(want).removeFirst());
    }
    return out;
  }

  static int partitionOf(String key, int partitions) {
    return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  private String spread() {
    Map<Integer, Long> by = streamIds.stream()
        .collect(Collectors.groupingBy(id -> partitionOf(id, partitions), TreeMap::new, Collectors.counting()));
    long min = java.util.stream.IntStream.range(0, partitions).mapToLong(p -> by.getOrDefault(p, 0L)).min().orElse(0);
    long max = by.values().stream().mapToLong(Long::longValue).max().orElse(0);
    return min == max ? max + " per partition" : min + " to " + max + " per partition";
  }

  /** The CPUs this process may run on (Cpus_allowed_list), else 0..availableProcessors-1. */
  static List<Integer> allowedCpus() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Cpus_allowed_list:")) {
          List<Integer> out = new ArrayList<>();
          for (String part : line.substring(line.indexOf(':') + 1).strip().split(",")) {
            String[] r = part.split("-");
            int from = Integer.parseInt(r[0].strip());
            int to = r.length > 1 ? Integer.parseInt(r[1].strip()) : from;
            for (int c = from; c <= to; c++) {
              out.add(c);
            }
          }
          if (!out.isEmpty()) {
            return out;
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: fall through
    }
    List<Integer> out = new ArrayList<>();
    for (int c = 0; c < Runtime.getRuntime().availableProcessors(); c++) {
      out.add(c);
    }
    return out;
  }

  private static boolean hasTaskset() {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String d : path.split(java.io.File.pathSeparator)) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, "taskset"))) {
        return true;
      }
    }
    return false;
  }

  /** The 1, 5 and 15-minute load averages, or "?" where /proc/loadavg does not exist. */
  static String loadavg() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).strip().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  private static String fmt(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  /** Deletes the run's topics (input, output, dead letters, the indexer's internal topics). */
  private static void deleteTopics(String servers, Topics t) {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", servers))) {
      Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
          .filter(n -> n.startsWith(t.prefix() + ".") || n.startsWith(t.prefix() + "-"))
          .collect(Collectors.toSet());
      if (!names.isEmpty()) {
        admin.deleteTopics(names).all().get(30, TimeUnit.SECONDS);
      }
    } catch (ExecutionException | TimeoutException e) {
      System.out.println("could not delete the topics of " + t.prefix() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
