package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.moments.broker.EmbeddedBroker;
import dev.moments.broker.Patience;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.ImageEncoder;
import dev.moments.featurizer.service.FeaturizerConfig;
import dev.moments.featurizer.service.FeaturizerService;
import dev.moments.indexer.stream.BundledModel;
import dev.moments.indexer.stream.IndexerConfig;
import dev.moments.indexer.stream.IndexerModel;
import dev.moments.indexer.stream.IndexerService;
import dev.moments.indexer.stream.IndexerTopology;
import dev.moments.indexer.stream.PartitionGrowth;
import dev.moments.model.LavitiModel;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 13, point 1: {@code moments partitions add} grows a running system's work topics from 4 to
 * 8 partitions between two halves of eight streams, and every stream keeps its windows: the
 * standing moments at the end are those of a clean run that never grew (same ids, windows,
 * times), every frame is featurized exactly once, and the streams that moved to new partitions
 * went on with their windows instead of starting new timelines. It refuses while a service runs
 * and while frames wait unfeaturized, saying why.
 *
 * <p>Real broker, the real featurizer (bundled encoder) and indexer (bundled model) in-process,
 * the command through picocli as a user types it. Frames 0..43 of every stream come before the
 * growth, 44..79 and the end-of-stream marks after it; windows of 10 s every 2 s at 2 fps, so
 * windows straddle the growth.
 */
class AddPartitionsTest {
  private static final long T0 = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
  private static final int FROM = 4;
  private static final int TO = 8;
  private static final int FRAMES = 80;
  private static final int CUT = 44;
  private static final long FRAME_MS = 500;
  private static final long WINDOW_MS = 10_000;
  private static final List<String> STREAMS =
      List.of("cam-1", "cam-2", "cam-3", "cam-4", "cam-5", "cam-6", "cam-7", "cam-8");

  static ImageEncoder encoder;
  static LavitiModel laviti;

  @TempDir Path tmp;

  @BeforeAll
  static void load() throws Exception {
    encoder = Encoders.loadImage(Encoders.defaultDir());
    laviti = LavitiModel.load(BundledModel.defaultDir());
  }

  @AfterAll
  static void unload() throws Exception {
    encoder.close();
    laviti.close();
  }

  @Test
  void growing_from_4_to_8_partitions_mid_stream_keeps_every_window_and_every_frame_once() throws Exception {
    List<String> moving = STREAMS.stream()
        .filter(s -> PartitionGrowth.partitionOf(s, FROM) != PartitionGrowth.partitionOf(s, TO)).toList();
    assertThat(moving).as("streams that change partition from %d to %d", FROM, TO).isNotEmpty();
    try (EmbeddedBroker kafka = EmbeddedBroker.start(tmp.resolve("kafka"), 0)) {
      String bootstrap = kafka.bootstrapServers();

      Topics cleanTopics = new Topics("ap-clean");
      TopicAdmin.ensureTopics(bootstrap, cleanTopics, FROM, (short) 1);
      Map<String, MomentRecord> clean;
      try (MomentsReader reader = new MomentsReader(bootstrap, cleanTopics)) {
        produce(bootstrap, cleanTopics, 0, FRAMES, true);
        try (Pipeline p = new Pipeline(bootstrap, cleanTopics, tmp.resolve("clean-state"))) {
          clean = reader.awaitWindows(finalWindows());
        }
      }

      Topics topics = new Topics("ap");
      TopicAdmin.ensureTopics(bootstrap, topics, FROM, (short) 1);
      Path state = tmp.resolve("state");
      Map<String, MomentRecord> grown;
      try (MomentsReader reader = new MomentsReader(bootstrap, topics);
          FeaturesReader features = new FeaturesReader(bootstrap, topics)) {
        produce(bootstrap, topics, 0, CUT - 4, false);
        try (Pipeline p = new Pipeline(bootstrap, topics, state)) {
          awaitDrained(bootstrap, topics);
          Result refused = partitions(bootstrap, topics, "add", "--to", Integer.toString(TO));
          assertThat(refused.rc).isEqualTo(1);
          assertThat(refused.err).contains("stop every featurize instance first");
        }
        // four more frames of each stream, not featurized before the growth
        produce(bootstrap, topics, CUT - 4, CUT, false);
        Result lagging = partitions(bootstrap, topics, "add", "--to", Integer.toString(TO));
        assertThat(lagging.rc).isEqualTo(1);
        assertThat(lagging.err).contains("32 frames not yet featurized in ap.frames");
        assertThat(partitionCount(bootstrap, topics.frames().name())).isEqualTo(FROM);
        Result show = partitions(bootstrap, topics);
        assertThat(show.out).contains("lag 32 in all");
        try (Pipeline p = new Pipeline(bootstrap, topics, state)) {
          awaitDrained(bootstrap, topics);
        }
        Set<String> windowsBefore = windowIds(reader.standing);

        // a run killed at the worst moment: the moved values written, their old copies not deleted
        String featuresLog = PartitionGrowth.changelog(appId(topics), IndexerTopology.FEATURES_STORE);
        PartitionGrowth killed = new PartitionGrowth(bootstrap, topics, group(topics), appId(topics),
            tmp.resolve("journal"), System.out).onStep(step -> {
              if (step.equals("moved-values " + featuresLog)) {
                throw new IllegalStateException("killed at " + step);
              }
            });
        assertThatThrownBy(() -> killed.growTo(TO)).hasMessage("killed at moved-values " + featuresLog);
        assertThat(killed.journal()).exists();
        assertThat(partitions(bootstrap, topics, "add", "--to", "16").err)
            .contains("an interrupted run growing to 8 partitions left");
        // ... is finished by running it again
        Result grew = partitions(bootstrap, topics, "add", "--to", Integer.toString(TO));
        System.out.print(grew.out);
        assertThat(grew.rc).as(grew.err).isZero();
        assertThat(grew.out).contains("resuming the interrupted run of");
        assertThat(grew.out).contains(moving.size() + " streams moved to another partition with their window state");
        for (String t : List.of(topics.frames().name(), topics.features().name(),
            PartitionGrowth.changelog(appId(topics), IndexerTopology.FEATURES_STORE),
            PartitionGrowth.changelog(appId(topics), IndexerTopology.META_STORE))) {
          assertThat(partitionCount(bootstrap, t)).as(t).isEqualTo(TO);
        }
        assertThat(tmp.resolve("journal")).isEmptyDirectory();
        assertThat(partitions(bootstrap, topics, "add", "--to", Integer.toString(TO)).out)
            .contains("nothing to do");

        produce(bootstrap, topics, CUT, FRAMES, true);
        try (Pipeline p = new Pipeline(bootstrap, topics, state)) {
          grown = reader.awaitWindows(finalWindows());
          Patience.await("every frame featurized", Duration.ofMillis(100),
              () -> STREAMS.stream().allMatch(s -> features.count(s) >= FRAMES));
        }
        assertThat(windowIds(grown)).containsAll(windowsBefore);
        for (String s : STREAMS) {
          assertThat(features.count(s)).as("features of %s", s).isEqualTo(FRAMES);
          assertThat(features.timestamps(s)).as("distinct timestamps of %s", s).hasSize(FRAMES);
          assertThat(features.marks.get(s)).as("end-of-stream marks of %s", s).hasValue(1);
        }
        assertThat(features.timestamps.keySet()).containsExactlyInAnyOrderElementsOf(STREAMS);
      }

      System.out.printf("standing moments: clean %d in %d windows, grown 4->8 mid-stream %d in %d windows%n",
          clean.size(), windowIds(clean).size(), grown.size(), windowIds(grown).size());
      assertThat(windowIds(grown)).isEqualTo(windowIds(clean));
      assertThat(grown.keySet()).isEqualTo(clean.keySet());
      for (String id : clean.keySet()) {
        MomentRecord c = clean.get(id);
        MomentRecord g = grown.get(id);
        assertThat(List.of(g.streamId(), g.startMs(), g.endMs(), g.windowId())).as(id)
            .isEqualTo(List.of(c.streamId(), c.startMs(), c.endMs(), c.windowId()));
      }
    }
  }

  private static String appId(Topics topics) {
    return topics.prefix() + "-indexer";
  }

  private static String group(Topics topics) {
    return topics.prefix() + "-featurizer";
  }

  /** The featurizer and the indexer of {@code topics}, in-process, as the services run them. */
  private static final class Pipeline implements AutoCloseable {
    final FeaturizerService featurizer;
    final IndexerService indexer;

    Pipeline(String bootstrap, Topics topics, Path state) throws InterruptedException {
      FeaturizerConfig fc = FeaturizerConfig.defaults(bootstrap, topics).withGroup(group(topics))
          .withBatching(8, Duration.ofMillis(20));
      featurizer = new FeaturizerService(fc, encoder);
      IndexerConfig ic = IndexerConfig.defaults(topics).withWindow(Duration.ofMillis(WINDOW_MS), Duration.ofSeconds(2))
          .withIdleFlush(Duration.ofHours(1)).withLateness(Duration.ofSeconds(1)).withFps(2)
          .withApplicationId(appId(topics));
      indexer = new IndexerService(bootstrap, ic, IndexerModel.of(laviti), state);
      featurizer.start();
      indexer.start();
      assertThat(indexer.awaitRunning(Duration.ofMinutes(2))).isTrue();
    }

    @Override
    public void close() {
      indexer.close();
      featurizer.close();
    }
  }

  /** Waits until both groups have committed the end of every partition of their input. */
  private static void awaitDrained(String bootstrap, Topics topics) throws InterruptedException {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      Patience.await("the featurizer and the indexer to catch up", Duration.ofMillis(200),
          () -> lag(admin, group(topics), topics.frames().name()) == 0
              && lag(admin, appId(topics), topics.features().name()) == 0);
    }
  }

  private static long lag(Admin admin, String group, String topic) {
    try {
      return PartitionGrowth.progress(admin, group, topic).values().stream()
          .mapToLong(PartitionGrowth.Progress::lag).sum();
    } catch (Exception e) {
      return -1;
    }
  }

  private static int partitionCount(String bootstrap, String topic) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic)
          .partitions().size();
    }
  }

  private record Result(int rc, String out, String err) {}

  /** {@code moments partitions ARGS} through picocli, as typed. */
  private Result partitions(String bootstrap, Topics topics, String... args) {
    // the connection options after the subcommand, as the README and the services' warning write them
    List<String> all = new ArrayList<>(List.of("partitions"));
    all.addAll(List.of(args));
    all.addAll(List.of("--bootstrap", bootstrap, "--topic-prefix", topics.prefix(), "--group", group(topics)));
    if (args.length > 0 && args[0].equals("add")) {
      all.addAll(List.of("--journal-dir", tmp.resolve("journal").toString()));
    }
    CommandLine cl = Moments.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    cl.getSubcommands().get("partitions").setErr(new PrintWriter(err, true));
    cl.getSubcommands().get("partitions").getSubcommands().get("add").setErr(new PrintWriter(err, true));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream saved = System.out;
    int rc;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      rc = cl.execute(all.toArray(String[]::new));
    } finally {
      System.setOut(saved);
    }
    return new Result(rc, out.toString(StandardCharsets.UTF_8), err.toString());
  }

  /** Frames {@code from..to-1} of every stream (the Java client's partitioner), then the marks if asked. */
  private static void produce(String bootstrap, Topics topics, int from, int to, boolean marks) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      for (int i = from; i < to; i++) {
        for (int s = 0; s < STREAMS.size(); s++) {
          producer.send(new ProducerRecord<>(topics.frames().name(), null, T0 + FRAME_MS * i, STREAMS.get(s),
              ScaleOutFailoverTest.jpeg(s, i)));
        }
      }
      if (marks) {
        for (String s : STREAMS) {
          producer.send(Topics.<byte[]>endOfStreamMark(topics.frames().name(), s, T0 + FRAME_MS * (to - 1), "eof"));
        }
      }
      producer.flush();
    }
  }

  private static Map<String, String> finalWindows() {
    Map<String, String> finals = new LinkedHashMap<>();
    STREAMS.forEach(s -> finals.put(s, MomentRecord.windowIdFor(s, T0 + FRAME_MS * FRAMES - WINDOW_MS)));
    return finals;
  }

  private static Set<String> windowIds(Map<String, MomentRecord> moments) {
    return moments.values().stream().map(MomentRecord::windowId).collect(Collectors.toCollection(TreeSet::new));
  }
}
