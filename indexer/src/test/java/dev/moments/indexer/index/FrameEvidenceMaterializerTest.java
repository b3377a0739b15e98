package dev.moments.indexer.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.model.rank.FrameEvidence;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Frame evidence kept by the materializer from a real features topic into a real Lucene index:
 * the stored seconds are {@link FrameEvidence#pool} of the sent features, and a restart from any
 * commit (or a kill without one) ends with the very same evidence.
 */
class FrameEvidenceMaterializerTest {
  static final double FPS = 6;
  static final long T0 = 1_746_093_600_000L;
  // int8 with a per-second scale max|x|/127: each component within max|x|/254 <= 1/254.
  static final double TOLERANCE = 1.0 / 254 + 1e-6;

  @TempDir Path dir;

  private static float[][] frames(long seed, int n, int dim) {
    Random r = new Random(seed);
    float[][] f = new float[n][dim];
    for (int t = 0; t < n; t++) {
      float scale = 0.5f + 3 * r.nextFloat(); // not normalised: the store normalises each frame
      for (int i = 0; i < dim; i++) {
        f[t][i] = (float) r.nextGaussian() * scale;
      }
    }
    return f;
  }

  private static long at(long origin, int t) {
    return origin + Math.round(t * 1000 / FPS);
  }

  private static ProducerRecord<String, byte[]> frame(Topics topics, String stream, long ts, float[] v) {
    return new ProducerRecord<>(topics.features().name(), null, ts, stream, new FeatureRecord("enc", v).toBytes());
  }

  private static ProducerRecord<String, byte[]> endOfStream(Topics topics, String stream, long ts) {
    var r = new ProducerRecord<String, byte[]>(topics.features().name(), null, ts, stream, null);
    r.headers().add(Topics.HEADER_END_OF_STREAM, "eof".getBytes(StandardCharsets.UTF_8));
    return r;
  }

  private static void send(String bootstrap, List<ProducerRecord<String, byte[]>> records) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (var producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      for (var r : records) {
        producer.send(r);
      }
      producer.flush();
    }
  }

  private static void await(BooleanSupplier done) throws InterruptedException {
    Patience.await("the materializer to catch up", Duration.ofMillis(50), done);
  }

  private static void assertPooled(FrameEvidenceStore.Stretch got, long origin, float[][] expected) {
    assertThat(got.startMs()).isEqualTo(origin);
    assertThat(got.seconds()).hasNumberOfRows(expected.length);
    for (int s = 0; s < expected.length; s++) {
      for (int i = 0; i < expected[s].length; i++) {
        assertThat((double) got.seconds()[s][i])
            .as("second %d component %d", s, i)
            .isCloseTo(expected[s][i], org.assertj.core.data.Offset.offset(TOLERANCE));
      }
    }
  }

  @Test
  void stored_evidence_is_the_pool_of_the_sent_features_per_stream() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("evidence"));
    TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
    int dim = 64;
    float[][] a = frames(1, 100, dim); // 16.7 s: seconds 0..16
    float[][] b = frames(2, 47, dim);
    a[20] = new float[dim]; // an all-zero feature counts for nothing, as in pool
    long originA = T0 + 123;
    long originB = T0 + 5_000_777;
    List<ProducerRecord<String, byte[]>> recs = new ArrayList<>();
    for (int t = 0; t < 100; t++) {
      recs.add(frame(topics, "cam-a", at(originA, t), a[t]));
      if (t < b.length) {
        recs.add(frame(topics, "cam-b", at(originB, t), b[t]));
      }
      if (t == 50) {
        recs.add(frame(topics, "cam-a", originA + 1500, a[0])); // second 1 is long finished: late
        recs.add(new ProducerRecord<>(topics.features().name(), null, originA, "cam-a",
            "garbage".getBytes(StandardCharsets.UTF_8)));
      }
    }
    recs.add(endOfStream(topics, "cam-a", at(originA, 99))); // finishes cam-a's last second
    send(bootstrap, recs);
    try (MomentIndex index = MomentIndex.open(dir.resolve("index"));
        Materializer m = new Materializer(bootstrap, topics, index, MaterializerConfig.defaults())) {
      m.start();
      await(() -> m.caughtUp() && m.framesConsumed() == recs.size());
      m.close();
      assertThat(m.lateFrames()).isEqualTo(1);
      assertThat(m.badFrames()).isEqualTo(1);
      assertThat(index.size()).isZero(); // evidence documents are not moments
      FrameEvidenceStore ev = index.evidence();
      assertThat(ev.streams()).containsExactly("cam-a", "cam-b");
      assertPooled(ev.evidence("cam-a", null, null).orElseThrow(), originA, FrameEvidence.pool(a, FPS));
      // cam-b has no end-of-stream mark: its last second (7, frames 42..46) is still open and not served.
      float[][] pooledB = FrameEvidence.pool(b, FPS);
      assertPooled(ev.evidence("cam-b", null, null).orElseThrow(), originB,
          java.util.Arrays.copyOf(pooledB, pooledB.length - 1));
      // A time range picks the seconds it overlaps, on the stream's own grid.
      FrameEvidenceStore.Stretch mid = ev.evidence("cam-a", originA + 3_500, originA + 5_200).orElseThrow();
      assertThat(mid.startMs()).isEqualTo(originA + 3_000);
      assertThat(mid.seconds()).hasNumberOfRows(3);
      // Scores are FrameEvidence.scores of the stored seconds.
      float[] query = frames(3, 1, dim)[0];
      double[] expected = FrameEvidence.scores(query, FrameEvidence.pool(a, FPS));
      FrameEvidenceStore.Scores got = ev.scores("cam-a", query, null, null).orElseThrow();
      assertThat(got.startMs()).isEqualTo(originA);
      assertThat(got.scores()).hasSize(expected.length);
      for (int s = 0; s < expected.length; s++) {
        assertThat(got.scores()[s]).as("second %d", s).isCloseTo(expected[s], org.assertj.core.data.Offset.offset(0.01));
      }
      assertThat(got.scores()[3]).isEqualTo(FrameEvidence.scores(query, new float[][] {mid.seconds()[0]})[0]);
    }
  }

  @Test
  void a_restart_after_a_commit_mid_second_or_a_kill_without_commit_ends_with_identical_evidence()
      throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("evidence-restart"));
    TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1);
    int dim = 16;
    int n = 400; // 66.7 s: crosses a minute document
    float[][] f = frames(7, n, dim);
    long origin = T0 + 42;
    List<ProducerRecord<String, byte[]>> all = new ArrayList<>();
    for (int t = 0; t < n; t++) {
      all.add(frame(topics, "cam", at(origin, t), f[t]));
    }
    all.add(endOfStream(topics, "cam", at(origin, n - 1)));
    // 15 frames end inside second 2 (frames 12..17); 355 ends inside second 59 of minute 0.
    int cut1 = 15;
    int cut2 = 355;
    String featuresOffset = "offset." + topics.features().name() + ".0";

    send(bootstrap, all.subList(0, cut1));
    try (MomentIndex index = MomentIndex.open(dir.resolve("index"));
        Materializer m = new Materializer(bootstrap, topics, index, MaterializerConfig.defaults())) {
      m.start();
      await(() -> m.caughtUp() && m.framesConsumed() == cut1);
      m.close(); // commits with second 2 partly filled
      assertThat(index.commitData()).containsEntry(featuresOffset, Integer.toString(cut1));
    }
    send(bootstrap, all.subList(cut1, cut2));
    MaterializerConfig never = new MaterializerConfig(1_000_000, Duration.ofHours(1), Duration.ofMillis(50));
    try (MomentIndex index = MomentIndex.open(dir.resolve("index"));
        Materializer m = new Materializer(bootstrap, topics, index, never)) {
      m.start();
      await(() -> m.caughtUp() && m.framesConsumed() == cut2 - cut1);
      m.halt(); // killed: nothing of this run is committed
      assertThat(index.commitData()).containsEntry(featuresOffset, Integer.toString(cut1));
    }
    send(bootstrap, all.subList(cut2, all.size()));
    float[][] restarted;
    try (MomentIndex index = MomentIndex.open(dir.resolve("index"));
        Materializer m = new Materializer(bootstrap, topics, index, MaterializerConfig.defaults())) {
      m.start();
      await(() -> m.caughtUp() && m.framesConsumed() == all.size() - cut1); // replays from the commit
      m.close();
      assertThat(m.lateFrames()).isZero();
      FrameEvidenceStore.Stretch got = index.evidence().evidence("cam", null, null).orElseThrow();
      assertPooled(got, origin, FrameEvidence.pool(f, FPS));
      restarted = got.seconds();
    }
    // The same records in one uninterrupted pass give bit-identical evidence.
    try (MomentIndex once = MomentIndex.open(dir.resolve("once"))) {
      for (int t = 0; t < n; t++) {
        once.evidence().accept("cam", at(origin, t), f[t]);
      }
      once.evidence().endOfStream("cam");
      once.evidence().flush();
      once.commit(Map.of());
      assertThat(once.evidence().evidence("cam", null, null).orElseThrow().seconds()).isDeepEqualTo(restarted);
    }
  }
}
