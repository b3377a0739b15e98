package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.broker.EmbeddedBroker;
import dev.moments.featurizer.service.FeaturizerConfig;
import dev.moments.topics.PartitionSpread;
import dev.moments.world.SynthWorld;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker-compose.yml's Moments services started the way compose starts them, with no Docker
 * engine: each service's {@code command} runs as its own JVM ({@code java ... dev.moments.app.Moments
 * COMMAND}, as the image's entrypoint does) with exactly the {@code environment} compose gives it,
 * against an embedded broker standing in for the {@code kafka} service. Container paths of its
 * volumes become temporary folders (named volumes one each, bind mounts under a stand-in for the
 * project folder, the image's {@code /opt/moments/data -> /data} link as a link), {@code kafka:9092}
 * becomes the embedded broker and a published container port a free local port.
 *
 * <p>Two replicas of each, as the compose file's header scales them ({@code --scale featurize=2
 * --scale index=2}, {@code MOMENTS_SERVE_PORTS=7070-7071 ... --scale serve=2}): replicas share the
 * named volumes and bind mounts, and each has its own {@code /data}, the image's volume. Every
 * replica works: both {@code serve} replicas answer {@code GET /health} with 200 over HTTP and
 * {@code /api/streams} with the token; each {@code featurize} and each {@code index} replica owns
 * partitions (its INFO ownership log), together all of them once; a JPEG pushed to every
 * partition of {@code moments.frames} becomes a record of {@code moments.features} and each
 * {@code featurize} replica's progress line counts frames; and none has exited (compose would
 * restart it forever). The profile-gated
 * {@code ingest} runs as its header comment shows ({@code MOMENTS_SOURCE=... MOMENTS_STREAM=door
 * docker-compose --profile ingest up ingest}), on a 20 s rendered video instead of a camera: it
 * exits 0 and the frames it says it sent are in {@code moments.frames} under key {@code door}.
 */
class ComposeServicesTest {
  private static final Path ROOT = ComposeFile.repositoryRoot();
  private static final Duration UP = Duration.ofSeconds(240);

  @TempDir Path tmp;

  /** One service's JVM. */
  private record Running(String name, Process process, Path log, int port) {
    String output() {
      try {
        return Files.readString(log);
      } catch (IOException e) {
        return "(no output: " + e.getMessage() + ")";
      }
    }
  }

  @Test
  void two_replicas_each_of_featurize_index_and_serve_come_up_and_every_one_works() throws Exception {
    // the header's scale-out: docker-compose up --scale featurize=2 --scale index=2, and
    // MOMENTS_SERVE_PORTS=7070-7071 ... --scale serve=2
    ComposeFile compose = ComposeFile.load(ROOT.resolve("docker-compose.yml"), Map.of("MOMENTS_SERVE_PORTS", "7070-7071"));
    Map<String, ComposeFile.Service> services = compose.services();
    assertThat(services).containsKeys("kafka", "featurize", "index", "serve");

    // the project folder: the token file made as the README's deployment section says
    Path project = Files.createDirectories(tmp.resolve("project"));
    byte[] secret = new byte[16];
    new SecureRandom().nextBytes(secret);
    String token = HexFormat.of().formatHex(secret);
    Files.createDirectories(project.resolve("config"));
    Files.writeString(project.resolve("config/tokens"), token + " *\n");

    try (EmbeddedBroker kafka = EmbeddedBroker.start(tmp.resolve("kafka"), 0)) {
      List<Running> running = new ArrayList<>();
      try {
        // one of each first (docker-compose up -d), then a second of each (up -d --scale ...=2) joins
        // the running ones: the partitions move, and this 2-core machine does not start 6 JVMs at once
        Map<String, List<Running>> replicas = new LinkedHashMap<>();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        for (int replica = 1; replica <= 2; replica++) {
          for (String name : List.of("featurize", "index", "serve")) {
            Running r = start(services.get(name), replica, kafka.bootstrapServers(), project);
            running.add(r);
            replicas.computeIfAbsent(name, n -> new ArrayList<>()).add(r);
          }
          Running serve = replicas.get("serve").get(replica - 1);
          awaitUp(serve, () -> health(http, serve.port()) == 200, "GET /health answers 200");
          for (String name : List.of("featurize", "index")) {
            Running r = replicas.get(name).get(replica - 1);
            awaitUp(r, () -> !owned(r, name.equals("index") ? "moments.features" : "moments.frames").isEmpty(),
                "it owns partitions");
          }
        }
        // every featurize and index replica owns partitions, and together they own them all
        int partitions = partitionCount(kafka.bootstrapServers(), "moments.frames");
        awaitOwnership(replicas.get("featurize"), "moments.frames", partitions);
        awaitOwnership(replicas.get("index"), "moments.features", partitions);
        assertThat(stableGroup(kafka.bootstrapServers(), FeaturizerConfig.DEFAULT_GROUP)).isTrue();

        // one frame on every partition: each is featurized, so each featurize replica worked
        List<String> keys = new ArrayList<>();
        for (int p = 0, i = 0; p < partitions; i++) {
          if (PartitionSpread.partition("compose-check-" + i, partitions) == p) {
            keys.add("compose-check-" + i);
            p++;
          }
        }
        assertThat(featurizes(kafka.bootstrapServers(), keys)).as("featurize output:%n%s%n%s",
            replicas.get("featurize").get(0).output(), replicas.get("featurize").get(1).output()).isTrue();
        for (Running f : replicas.get("featurize")) {
          awaitUp(f, () -> featurized(f) > 0, "its progress line counts featurized frames");
        }

        // both serve replicas answer with the token from the mounted file, and only with it
        for (Running serve : replicas.get("serve")) {
          HttpResponse<String> streams = http.send(HttpRequest.newBuilder(
                  URI.create("http://localhost:" + serve.port() + "/api/streams"))
              .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
          assertThat(streams.statusCode()).as(streams.body()).isEqualTo(200);
          HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(
              URI.create("http://localhost:" + serve.port() + "/api/streams")).build(), HttpResponse.BodyHandlers.ofString());
          assertThat(anonymous.statusCode()).isEqualTo(401);
        }
        for (Running r : running) {
          assertThat(r.process().isAlive()).as("%s still running; output:%n%s", r.name(), r.output()).isTrue();
        }

        // ingest, with the shell variables its header comment sets, on a 20 s rendered video
        Path video = SynthWorld.render(tmp.resolve("camera"), new SynthWorld.Spec(1, 3, 1.0 / 3, 160, 120, 6), 1)
            .stream().map(sc -> tmp.resolve("camera").resolve(sc.videoUid() + ".mp4")).findFirst().orElseThrow();
        ComposeFile.Service ingest = ComposeFile.load(ROOT.resolve("docker-compose.yml"),
            Map.of("MOMENTS_SOURCE", video.toString(), "MOMENTS_STREAM", "door")).services().get("ingest");
        assertThat(ingest.profiles()).containsExactly("ingest");
        Running camera = start(ingest, 1, kafka.bootstrapServers(), project);
        running.add(camera);
        assertThat(camera.process().waitFor(UP.toSeconds(), TimeUnit.SECONDS)).as("ingest finished").isTrue();
        assertThat(camera.process().exitValue()).as(camera.output()).isZero();
        Matcher sent = Pattern.compile("ingest door: sent (\\d+) frames").matcher(camera.output());
        assertThat(sent.find()).as(camera.output()).isTrue();
        assertThat(Integer.parseInt(sent.group(1))).isPositive();
        // the frames sent, then the stream's end-of-stream mark (not a frame)
        assertThat(framesOf(kafka.bootstrapServers(), "door")).as(camera.output())
            .isEqualTo(Integer.parseInt(sent.group(1)));
        assertThat(camera.output()).contains("end of stream: eof");
      } finally {
        for (Running r : running) {
          r.process().destroy();
        }
        for (Running r : running) {
          if (!r.process().waitFor(30, TimeUnit.SECONDS)) {
            r.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          }
        }
      }
    }
  }

  /**
   * Starts {@code s} as the image would: the entrypoint's {@code java ... dev.moments.app.Moments}
   * with the service's command, working directory {@code /opt/moments}, its environment mapped.
   */
  private Running start(ComposeFile.Service s, int replica, String bootstrap, Path project) throws IOException {
    // replicas share named volumes and bind mounts; each has its own box and /data (the image's VOLUME)
    Path box = Files.createDirectories(tmp.resolve(s.name() + "-" + replica));
    // container path -> host folder: the service's volumes, and the image's VOLUME /data
    Map<String, Path> mounts = new LinkedHashMap<>();
    for (String v : s.volumes()) {
      String[] p = v.split(":");
      assertThat(p.length).as("%s volume %s", s.name(), v).isBetween(2, 3);
      Path host = p[0].startsWith(".") || p[0].startsWith("/")
          ? project.resolve(p[0]).normalize() // bind mount, relative to the compose file's folder
          : tmp.resolve("volumes").resolve(p[0]); // named volume
      mounts.put(p[1], Files.createDirectories(host));
    }
    mounts.putIfAbsent("/data", Files.createDirectories(box.resolve("anonymous-data")));
    Path workdir = Files.createDirectories(box.resolve("opt-moments"));
    Files.createSymbolicLink(workdir.resolve("data"), mounts.get("/data")); // ln -s /data /opt/moments/data

    Map<String, String> published = new LinkedHashMap<>(); // container port -> local port
    for (String p : s.ports()) {
      published.put(p.substring(p.lastIndexOf(':') + 1), Integer.toString(freePort()));
    }
    Map<String, String> env = new LinkedHashMap<>();
    s.environment().forEach((k, v) -> env.put(k, mapValue(v, bootstrap, mounts, published)));
    List<String> args = s.command().stream().map(a -> mapValue(a, bootstrap, mounts, published)).toList();

    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // this JVM's flags are the launcher's (pom: moments.jvm.flags); the image's home holds models/
    ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> !a.startsWith("-Xmx") && !a.startsWith("-Dmoments.home") && !a.startsWith("-javaagent"))
        .forEach(cmd::add);
    cmd.addAll(List.of("-Xmx512m", "-Dmoments.home=" + ROOT, "-cp", System.getProperty("java.class.path"),
        "dev.moments.app.Moments"));
    cmd.addAll(args);
    Path log = box.resolve("output.log");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workdir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("MOMENTS_"));
    pb.environment().putAll(env);
    int port = published.isEmpty() ? -1 : Integer.parseInt(published.values().iterator().next());
    return new Running(s.name() + "-" + replica, pb.start(), log, port);
  }

  /** A value as the process sees it on this machine instead of in the container. */
  private static String mapValue(String v, String bootstrap, Map<String, Path> mounts, Map<String, String> published) {
    if (v.equals("kafka:9092")) {
      return bootstrap;
    }
    if (published.containsKey(v)) {
      return published.get(v);
    }
    String best = mounts.keySet().stream().filter(t -> v.equals(t) || v.startsWith(t + "/"))
        .max(Comparator.comparingInt(String::length)).orElse(null);
    return best == null ? v : mounts.get(best) + v.substring(best.length());
  }

  private static void awaitUp(Running r, BooleanSupplier up, String what) throws InterruptedException {
    long deadline = System.nanoTime() + UP.toNanos();
    while (System.nanoTime() < deadline) {
      assertThat(r.process().isAlive()).as("%s exited (%s) before: %s; output:%n%s", r.name(),
          r.process().isAlive() ? "" : "exit " + r.process().exitValue(), what, r.output()).isTrue();
      if (up.getAsBoolean()) {
        return;
      }
      Thread.sleep(500);
    }
    throw new AssertionError(r.name() + " not up within " + UP.toSeconds() + " s: " + what + "; output:\n" + r.output());
  }

  private static int health(HttpClient http, int port) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/health"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static boolean stableGroup(String bootstrap, String group) {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all()
          .get(10, TimeUnit.SECONDS).get(group);
      return d.groupState() == GroupState.STABLE && !d.members().isEmpty();
    } catch (Exception e) {
      return false;
    }
  }

  /** Pushes one JPEG frame per key and waits for the feature record of each: the featurizers process records. */
  private static boolean featurizes(String bootstrap, List<String> keys) throws Exception {
    BufferedImage img = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
    img.getGraphics().fillRect(8, 8, 32, 24);
    ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
    ImageIO.write(img, "jpg", jpeg);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap), new ByteArraySerializer(), new ByteArraySerializer());
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.GROUP_ID_CONFIG, "compose-check",
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      for (String key : keys) {
        producer.send(new ProducerRecord<>("moments.frames", key.getBytes(StandardCharsets.UTF_8), jpeg.toByteArray())).get();
      }
      consumer.subscribe(Set.of("moments.features"));
      Set<String> missing = new java.util.HashSet<>(keys);
      long deadline = System.nanoTime() + UP.toNanos();
      while (System.nanoTime() < deadline && !missing.isEmpty()) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          missing.remove(new String(r.key(), StandardCharsets.UTF_8));
        }
      }
      return missing.isEmpty();
    }
  }

  private static final Pattern OWNS = Pattern.compile("owns (?:partitions \\[([0-9, ]*)]|no partition) of (\\S+) now");
  private static final Pattern TOTALS = Pattern.compile("totals: (\\d+) frames");

  /** The partitions of {@code topic} the last ownership line of {@code r}'s log names; empty before any. */
  private static Set<Integer> owned(Running r, String topic) {
    Set<Integer> last = Set.of();
    Matcher m = OWNS.matcher(r.output());
    while (m.find()) {
      if (m.group(2).equals(topic)) {
        last = m.group(1) == null ? Set.of() : java.util.Arrays.stream(m.group(1).split(",\\s*"))
            .map(Integer::parseInt).collect(java.util.stream.Collectors.toSet());
      }
    }
    return last;
  }

  /** Waits until every replica owns partitions of {@code topic}, none twice, all of them together. */
  private static void awaitOwnership(List<Running> replicas, String topic, int partitions) throws InterruptedException {
    BooleanSupplier split = () -> {
      Set<Integer> all = new java.util.TreeSet<>();
      int sum = 0;
      for (Running r : replicas) {
        Set<Integer> own = owned(r, topic);
        if (own.isEmpty()) {
          return false;
        }
        all.addAll(own);
        sum += own.size();
      }
      return sum == partitions && all.size() == partitions;
    };
    long deadline = System.nanoTime() + UP.toNanos();
    while (System.nanoTime() < deadline) {
      for (Running r : replicas) {
        assertThat(r.process().isAlive()).as("%s exited before owning partitions of %s; output:%n%s", r.name(), topic,
            r.output()).isTrue();
      }
      if (split.getAsBoolean()) {
        return;
      }
      Thread.sleep(500);
    }
    StringBuilder why = new StringBuilder("not every replica owns partitions of " + topic + " (together all "
        + partitions + ", each once) within " + UP.toSeconds() + " s:");
    for (Running r : replicas) {
      why.append("\n").append(r.name()).append(" owns ").append(owned(r, topic)).append("; output:\n").append(r.output());
    }
    throw new AssertionError(why.toString());
  }

  /** Frames featurized as the last progress line of featurize replica {@code r} counts them; 0 before any. */
  private static long featurized(Running r) {
    long n = 0;
    Matcher m = TOTALS.matcher(r.output());
    while (m.find()) {
      n = Long.parseLong(m.group(1));
    }
    return n;
  }

  private static int partitionCount(String bootstrap, String topic) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic)
          .partitions().size();
    }
  }

  /** The records of {@code moments.frames} with key {@code stream}. */
  private static int framesOf(String bootstrap, String stream) {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = consumer.partitionsFor("moments.frames").stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      int n = 0;
      while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.key() != null && new String(r.key(), StandardCharsets.UTF_8).equals(stream)
              && !dev.moments.topics.Topics.isEndOfStream(r.headers())) {
            n++;
          }
        }
      }
      return n;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("localhost", 0));
      return s.getLocalPort();
    }
  }
}
