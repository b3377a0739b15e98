package dev.moments.indexer.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.topics.DeadLetter;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Properties;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The production topology under {@link TopologyTestDriver} with W = 10 s, hop 5 s, lateness 3 s,
 * idle flush 20 s, 1 fps (one frame = 1000 ms). Stream "cam" starts at T0; frame i has timestamp
 * T0 + 1000 i and feature (i, 1, 0, 0), so the {@link RecordingPredictor} shows which frames a
 * window held. Window k ends at T0 + 5000 k, covers [end - 10000, end), has id end - 10000 and is
 * emitted once stream time reaches end + 3000.
 */
class IndexerTopologyTest {
  static final long T0 = 1_000_000L;
  static final String ENC = "enc-test";
  final Topics topics = new Topics("t");
  final IndexerConfig cfg = IndexerConfig.defaults(topics)
      .withWindow(Duration.ofSeconds(10), Duration.ofSeconds(5))
      .withLateness(Duration.ofSeconds(3))
      .withIdleFlush(Duration.ofSeconds(20))
      .withFps(1.0);

  @TempDir Path stateDir;
  RecordingPredictor predictor;
  TopologyTestDriver driver;
  TestInputTopic<String, byte[]> in;
  TestOutputTopic<String, MomentRecord> out;
  TestOutputTopic<byte[], byte[]> dlq;

  @BeforeEach
  void setUp() {
    predictor = new RecordingPredictor();
    driver = newDriver(predictor, stateDir.resolve("a"));
    in = driver.createInputTopic(topics.features().name(), new StringSerializer(),
        new ByteArraySerializer());
    out = driver.createOutputTopic(topics.moments().name(), new StringDeserializer(),
        MomentRecord.serde().deserializer());
    dlq = driver.createOutputTopic(topics.deadLetter().name(), new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  @AfterEach
  void tearDown() {
    driver.close();
  }

  private TopologyTestDriver newDriver(RecordingPredictor p, Path dir) {
    return newDriver(cfg, p, dir);
  }

  private static TopologyTestDriver newDriver(IndexerConfig cfg, RecordingPredictor p, Path dir) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "indexer-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
    IndexerModel model = new IndexerModel(p, "test-model", 4, ENC);
    return new TopologyTestDriver(IndexerTopology.build(new StreamsBuilder(), cfg, model), props,
        Instant.parse("2030-01-01T00:00:00Z"));
  }

  private static byte[] feature(float frame) {
    return new FeatureRecord(ENC, new float[] {frame, 1, 0, 0}).toBytes();
  }

  private void frame(TestInputTopic<String, byte[]> topic, double i) {
    topic.pipeInput("cam", feature((float) i), T0 + Math.round(i * 1000));
  }

  private void frames(int... is) {
    for (int i : is) {
      frame(in, i);
    }
  }

  private StreamMeta meta() {
    KeyValueStore<String, byte[]> store = driver.getKeyValueStore(IndexerTopology.META_STORE);
    return StreamMeta.fromBytes(store.get("cam"));
  }

  @Test
  void a_window_is_emitted_when_stream_time_passes_its_end_plus_lateness() {
    frames(0, 1, 3, 4, 5, 6, 7); // frame 2 is missing
    assertThat(out.isEmpty()).isTrue();
    frames(8); // stream time T0 + 8000 = first end (T0 + 5000) + lateness
    List<TestRecord<String, MomentRecord>> w1 = out.readRecordsToList();
    assertThat(RecordingPredictor.frameNumbers(predictor.windows.get(0)))
        .containsExactly(0f, 1f, 3f, 4f);
    // Slot 0: [0 s, 4 s] -> frame 0 = T0 .. index 4 = T (one frame past the last, T0 + 4000)
    // = T0 + 5000. Slot 1: [1 s, 2 s] -> frames 1 and 2 of the window, whose actual
    // timestamps are T0 + 1000 and T0 + 3000 (the gap is not assumed away).
    assertThat(w1).extracting(TestRecord::key).containsExactly("cam", "cam");
    assertThat(w1).extracting(TestRecord::timestamp).containsExactly(T0 + 5000, T0 + 5000);
    MomentRecord s0 = w1.get(0).value();
    MomentRecord s1 = w1.get(1).value();
    assertThat(s0).isEqualTo(new MomentRecord("cam/995000/0", "cam", T0, T0 + 5000,
        new float[] {0, 1, 0, 0}, 0.04f, "cam/995000", "test-model"));
    assertThat(s1).isEqualTo(new MomentRecord("cam/995000/1", "cam", T0 + 1000, T0 + 3000,
        new float[] {4, 1, 0, 0}, 0.5f, "cam/995000", "test-model"));

    frames(9, 10, 11, 12);
    assertThat(out.isEmpty()).isTrue();
    frames(13); // T0 + 13000 = second end (T0 + 10000) + lateness
    List<MomentRecord> w2 = out.readValuesToList();
    assertThat(RecordingPredictor.frameNumbers(predictor.windows.get(1)))
        .containsExactly(0f, 1f, 3f, 4f, 5f, 6f, 7f, 8f, 9f);
    assertThat(w2).extracting(MomentRecord::momentId)
        .containsExactly("cam/1000000/0", "cam/1000000/1");
    assertThat(w2.get(0).windowId()).isEqualTo("cam/1000000");
    assertThat(w2.get(0).endMs()).isEqualTo(T0 + 10000);
    assertThat(meta().windows()).isEqualTo(2);
  }

  @Test
  void the_same_input_gives_the_same_moments_and_ids() {
    frames(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
    List<KeyValue<String, MomentRecord>> first = out.readKeyValuesToList();
    RecordingPredictor p2 = new RecordingPredictor();
    try (TopologyTestDriver d2 = newDriver(p2, stateDir.resolve("b"))) {
      TestInputTopic<String, byte[]> in2 = d2.createInputTopic(topics.features().name(),
          new StringSerializer(), new ByteArraySerializer());
      for (int i = 0; i <= 14; i++) {
        frame(in2, i);
      }
      List<KeyValue<String, MomentRecord>> second = d2.createOutputTopic(topics.moments().name(),
          new StringDeserializer(), MomentRecord.serde().deserializer()).readKeyValuesToList();
      assertThat(second).isEqualTo(first);
    }
    assertThat(first).extracting(kv -> kv.value.momentId()).containsExactly(
        "cam/995000/0", "cam/995000/1", "cam/1000000/0", "cam/1000000/1");
  }

  @Test
  void an_idle_stream_is_flushed_as_a_short_provisional_window_once() {
    frames(0, 1, 2, 3, 4, 5, 6, 7, 8);
    assertThat(out.readValuesToList()).hasSize(2); // the first hop window
    tick(10);
    assertThat(out.isEmpty()).isTrue();
    tick(11); // 21 s idle >= 20 s
    // Provisional window: end = newest (T0 + 8000) + one frame = T0 + 9000, id T0 - 1000 =
    // 999000, frames 0..8; slot 0 spans [T0, T0 + 9000].
    List<MomentRecord> last = out.readValuesToList();
    assertThat(RecordingPredictor.frameNumbers(predictor.windows.get(1)))
        .containsExactly(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f);
    assertThat(last).extracting(MomentRecord::momentId)
        .containsExactly("cam/999000/0", "cam/999000/1");
    assertThat(last.get(0).startMs()).isEqualTo(T0);
    assertThat(last.get(0).endMs()).isEqualTo(T0 + 9000);
    tick(60);
    assertThat(out.isEmpty()).isTrue();
    // The hop grid and the late-drop bound did not move.
    assertThat(meta().lastEmittedEnd()).isEqualTo(T0 + 5000);
    assertThat(meta().provisionalEnd()).isEqualTo(T0 + 9000);
    assertThat(meta().windows()).isEqualTo(2);
  }

  private static String header(TestRecord<String, MomentRecord> r, String name) {
    var h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), java.nio.charset.StandardCharsets.US_ASCII);
  }

  /**
   * The moments of a hop window and of a final window carry the window's band (W 10 s, hop 5 s, 3
   * copies: from end - 12.5 s, 15 s long), which the index keeps each stretch by; a provisional
   * window's carry none (it may be retracted); with copies 0 no window's do.
   */
  @Test
  void hop_and_final_windows_carry_their_band_and_a_provisional_one_none() {
    frames(0, 1, 2, 3, 4, 5, 6, 7, 8);
    List<TestRecord<String, MomentRecord>> hop = out.readRecordsToList();
    assertThat(hop).hasSize(2).allSatisfy(r -> {
      assertThat(header(r, Topics.HEADER_BAND_FROM_MS)).isEqualTo(Long.toString(T0 + 5000 - 12_500));
      assertThat(header(r, Topics.HEADER_BAND_UNTIL_MS)).isEqualTo(Long.toString(T0 + 5000 + 2_500));
    });
    tick(21); // provisional window ending at T0 + 9000
    List<TestRecord<String, MomentRecord>> provisional = out.readRecordsToList();
    assertThat(provisional).hasSize(2).allSatisfy(r -> {
      assertThat(header(r, Topics.HEADER_BAND_FROM_MS)).isNull();
      assertThat(header(r, Topics.HEADER_BAND_UNTIL_MS)).isNull();
    });
    frames(9); // the stream goes on: the provisional window is retracted
    out.readRecordsToList();
    mark("cam", T0 + 9000); // final window ending at T0 + 10000
    List<TestRecord<String, MomentRecord>> fin = out.readRecordsToList();
    assertThat(fin).hasSize(2).allSatisfy(r -> {
      assertThat(header(r, Topics.HEADER_BAND_FROM_MS)).isEqualTo(Long.toString(T0 + 10_000 - 12_500));
      assertThat(header(r, Topics.HEADER_BAND_UNTIL_MS)).isEqualTo(Long.toString(T0 + 10_000 + 2_500));
    });
    try (TopologyTestDriver d2 = newDriver(cfg.withCopies(0), new RecordingPredictor(), stateDir.resolve("b"))) {
      TestInputTopic<String, byte[]> in2 = d2.createInputTopic(topics.features().name(),
          new StringSerializer(), new ByteArraySerializer());
      for (int i = 0; i <= 8; i++) {
        frame(in2, i);
      }
      assertThat(d2.createOutputTopic(topics.moments().name(), new StringDeserializer(),
          MomentRecord.serde().deserializer()).readRecordsToList()).hasSize(2)
          .allSatisfy(r -> assertThat(header(r, Topics.HEADER_BAND_FROM_MS)).isNull());
    }
  }

  @Test
  void an_end_of_stream_mark_flushes_the_final_window_at_once_and_only_once() {
    frames(0, 1, 2, 3, 4, 5, 6, 7, 8);
    assertThat(out.readValuesToList()).hasSize(2);
    mark("cam", T0 + 8000);
    assertThat(RecordingPredictor.frameNumbers(predictor.windows.get(1)))
        .containsExactly(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f);
    assertThat(out.readValuesToList()).extracting(MomentRecord::momentId)
        .containsExactly("cam/999000/0", "cam/999000/1");
    assertThat(meta().lastEmittedEnd()).isEqualTo(T0 + 9000);
    mark("cam", T0 + 8000); // repeated
    mark("other", T0); // a stream never seen
    tick(60);
    assertThat(out.isEmpty()).isTrue();
    assertThat(predictor.windows).hasSize(2);
    assertThat(dlq.isEmpty()).isTrue();
    // Frames after a mark begin a new timeline: t0 = T0 + 9000, the first window ends at
    // T0 + 14000 (due at T0 + 17000) and holds only the new frames; the old ones are gone.
    frame(in, 8.5); // older than the final window's end: late
    assertThat(meta().lateDropped()).isEqualTo(1);
    frames(9, 10, 11, 12, 13, 14, 15, 16);
    assertThat(out.isEmpty()).isTrue();
    frames(17, 18);
    assertThat(out.readValuesToList()).extracting(MomentRecord::momentId)
        .containsExactly("cam/1004000/0", "cam/1004000/1");
    assertThat(RecordingPredictor.frameNumbers(predictor.windows.get(2)))
        .containsExactly(9f, 10f, 11f, 12f, 13f);
    assertThat(meta().t0()).isEqualTo(T0 + 9000);
  }

  /**
   * Hop = W = 10 s with a 3 s lateness (replay's default: the hop is the window): frames 0..21,
   * the hop window ending at 10 s is due at 13 s, the one ending at 20 s would be due at 23 s.
   * At the mark, a final window alone ([12 s, 22 s)) would leave frames 10 and 11 in no window;
   * the pending hop window ending at 20 s comes first, then the final window. Before, frames 10
   * and 11 were never indexed (windows [0, 10) and [12, 22) only).
   */
  @Test
  void at_the_mark_every_frame_is_in_a_window_when_hop_plus_lateness_exceeds_the_window() {
    IndexerConfig hopIsWindow = cfg.withWindow(Duration.ofSeconds(10), Duration.ofSeconds(10));
    RecordingPredictor p = new RecordingPredictor();
    try (TopologyTestDriver d = newDriver(hopIsWindow, p, stateDir.resolve("hop-is-window"))) {
      TestInputTopic<String, byte[]> in2 = d.createInputTopic(topics.features().name(),
          new StringSerializer(), new ByteArraySerializer());
      for (int i = 0; i <= 21; i++) {
        frame(in2, i);
      }
      assertThat(p.windows).hasSize(1);
      in2.pipeInput(new TestRecord<>("cam", null, markHeaders(), T0 + 21000));
      assertThat(p.windows).extracting(RecordingPredictor::frameNumbers).containsExactly(
          frameRange(0, 10), frameRange(10, 20), frameRange(12, 22));
      List<MomentRecord> all = d.createOutputTopic(topics.moments().name(), new StringDeserializer(),
          MomentRecord.serde().deserializer()).readValuesToList();
      assertThat(all).extracting(MomentRecord::windowId).containsExactly(
          "cam/1000000", "cam/1000000", "cam/1010000", "cam/1010000", "cam/1012000", "cam/1012000");
      StreamMeta m = StreamMeta.fromBytes(
          d.<String, byte[]>getKeyValueStore(IndexerTopology.META_STORE).get("cam"));
      assertThat(m.lastEmittedEnd()).isEqualTo(T0 + 22000);
      assertThat(m.windows()).isEqualTo(3);
    }
  }

  /**
   * The same stream gone quiet before its mark: its provisional window ([12 s, 22 s)) leaves
   * frames 10 and 11 out, so at the mark it is retracted and the moments that stand are those
   * of the run without the quiet.
   */
  @Test
  void a_provisional_window_that_leaves_frames_out_is_retracted_at_the_mark() {
    IndexerConfig hopIsWindow = cfg.withWindow(Duration.ofSeconds(10), Duration.ofSeconds(10));
    RecordingPredictor p = new RecordingPredictor();
    try (TopologyTestDriver d = newDriver(hopIsWindow, p, stateDir.resolve("quiet"))) {
      TestInputTopic<String, byte[]> in2 = d.createInputTopic(topics.features().name(),
          new StringSerializer(), new ByteArraySerializer());
      TestOutputTopic<String, MomentRecord> out2 = d.createOutputTopic(topics.moments().name(),
          new StringDeserializer(), MomentRecord.serde().deserializer());
      for (int i = 0; i <= 21; i++) {
        frame(in2, i);
      }
      for (int i = 0; i < 21; i++) {
        d.advanceWallClockTime(Duration.ofSeconds(1));
      }
      assertThat(p.windows).hasSize(2); // the hop window and the provisional one
      in2.pipeInput(new TestRecord<>("cam", null, markHeaders(), T0 + 21000));
      Map<String, MomentRecord> standing = standing(out2.readRecordsToList());
      assertThat(standing.values()).extracting(MomentRecord::windowId).containsOnly(
          "cam/1000000", "cam/1010000", "cam/1012000").hasSize(6);
      assertThat(p.windows).extracting(RecordingPredictor::frameNumbers).containsExactly(
          frameRange(0, 10), frameRange(12, 22), frameRange(10, 20), frameRange(12, 22));
    }
  }

  private static List<Float> frameRange(int from, int to) {
    List<Float> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add((float) i);
    }
    return out;
  }

  @Test
  void a_provisional_window_becomes_final_at_the_mark_without_running_the_model_again() {
    frames(0, 1, 2, 3, 4, 5, 6, 7, 8);
    tick(21);
    List<MomentRecord> all = out.readValuesToList();
    assertThat(all).hasSize(4);
    mark("cam", T0 + 8000);
    assertThat(out.isEmpty()).isTrue();
    assertThat(predictor.windows).hasSize(2);
    assertThat(meta().lastEmittedEnd()).isEqualTo(T0 + 9000);
    assertThat(meta().hasProvisional()).isFalse();
    assertThat(meta().windows()).isEqualTo(2);
  }

  /**
   * A quiet longer than the idle flush in the middle of a stream (an outage of the featurizer, or
   * of the indexer's input), at several points, including right before a window is due: the
   * moments that stand are exactly those of a run without the quiet.
   */
  @Test
  void a_quiet_mid_stream_leaves_the_same_moments_as_a_run_without_it() {
    Map<String, MomentRecord> clean = runWithQuietAfter(-1);
    assertThat(clean.keySet()).containsExactlyInAnyOrder(
        "cam/995000/0", "cam/995000/1", "cam/1000000/0", "cam/1000000/1",
        "cam/1006000/0", "cam/1006000/1"); // hop windows ending T0 + 5 s, 10 s; final T0 + 16 s
    for (int quietAfter : new int[] {0, 3, 7, 8, 11, 12, 15}) {
      assertThat(runWithQuietAfter(quietAfter)).as("quiet after frame %d", quietAfter)
          .isEqualTo(clean);
    }
  }

  /** Frames 0..15 and a mark; a 25 s wall-clock quiet after frame {@code quietAfter} (-1: none). */
  private Map<String, MomentRecord> runWithQuietAfter(int quietAfter) {
    RecordingPredictor p = new RecordingPredictor();
    try (TopologyTestDriver d = newDriver(p, stateDir.resolve("quiet" + quietAfter))) {
      TestInputTopic<String, byte[]> input = d.createInputTopic(topics.features().name(),
          new StringSerializer(), new ByteArraySerializer());
      for (int i = 0; i <= 15; i++) {
        frame(input, i);
        d.advanceWallClockTime(Duration.ofSeconds(1));
        if (i == quietAfter) {
          for (int s = 0; s < 25; s++) {
            d.advanceWallClockTime(Duration.ofSeconds(1));
          }
        }
      }
      TestRecord<String, byte[]> m = new TestRecord<>("cam", null, markHeaders(), T0 + 15000);
      input.pipeInput(m);
      for (int s = 0; s < 25; s++) {
        d.advanceWallClockTime(Duration.ofSeconds(1));
      }
      return standing(d.createOutputTopic(topics.moments().name(), new StringDeserializer(),
          MomentRecord.serde().deserializer()).readRecordsToList());
    }
  }

  @Test
  void a_provisional_window_is_retracted_before_the_stream_goes_on() {
    frames(0, 1, 2, 3, 4, 5, 6, 7, 8);
    tick(21);
    assertThat(out.readValuesToList()).hasSize(4);
    frames(9);
    List<TestRecord<String, MomentRecord>> r = out.readRecordsToList();
    assertThat(r).hasSize(1);
    assertThat(r.get(0).key()).isEqualTo("cam");
    assertThat(r.get(0).value()).isNull();
    assertThat(DeadLetter.header(r.get(0).headers(), Topics.HEADER_RETRACT_WINDOW))
        .isEqualTo("cam/999000");
    assertThat(meta().hasProvisional()).isFalse();
    assertThat(meta().windows()).isEqualTo(1);
    assertThat(driver.metrics().entrySet()).anySatisfy(e -> {
      assertThat(e.getKey().name()).isEqualTo("windows-retracted-total");
      assertThat(e.getValue().metricValue()).isEqualTo(1.0);
    });
  }

  @Test
  void marks_without_a_stream_id_go_to_the_dead_letter_topic() {
    in.pipeInput(new TestRecord<>((String) null, null, markHeaders(), T0));
    in.pipeInput(new TestRecord<>("", null, markHeaders(), T0));
    in.pipeInput("", feature(0), T0);
    assertThat(dlq.readRecordsToList()).extracting(
        r -> DeadLetter.header(r.headers(), DeadLetter.HEADER_REASON)).containsExactly(
        "end-of-stream mark has no key (the stream id)",
        "end-of-stream mark has an empty key (the stream id)",
        "feature record has an empty key (the stream id)");
  }

  @Test
  void stream_meta_of_the_earlier_six_field_layout_still_reads() {
    byte[] v1 = java.nio.ByteBuffer.allocate(48).putLong(1).putLong(2).putLong(3).putLong(4)
        .putLong(5).putLong(6).array();
    assertThat(StreamMeta.fromBytes(v1))
        .isEqualTo(new StreamMeta(1, 2, 3, 4, 5, 6, Long.MIN_VALUE));
  }

  private static Headers markHeaders() {
    return new RecordHeaders().add(Topics.HEADER_END_OF_STREAM,
        "eof".getBytes(StandardCharsets.UTF_8));
  }

  private void mark(String stream, long ts) {
    in.pipeInput(new TestRecord<>(stream, null, markHeaders(), ts));
  }

  /** The moments that stand after a run: upserts by id, retractions delete their window. */
  static Map<String, MomentRecord> standing(List<TestRecord<String, MomentRecord>> records) {
    Map<String, MomentRecord> m = new TreeMap<>();
    for (TestRecord<String, MomentRecord> r : records) {
      if (r.value() == null) {
        String w = DeadLetter.header(r.headers(), Topics.HEADER_RETRACT_WINDOW);
        assertThat(w).as("a null moment value carries the window it retracts").isNotNull();
        m.values().removeIf(x -> x.windowId().equals(w));
      } else {
        m.put(r.value().momentId(), r.value());
      }
    }
    return m;
  }

  @Test
  void a_stalled_stream_thread_does_not_make_a_stream_look_idle() {
    frames(0, 1, 2, 3, 4, 5, 6, 7, 8);
    out.readValuesToList();
    tick(1);
    // One jump of 60 s, as when the thread was stuck in a long inference: counts as one 5 s
    // punctuation interval, not as 60 s of idleness.
    driver.advanceWallClockTime(Duration.ofSeconds(60));
    assertThat(out.isEmpty()).isTrue();
    tick(20);
    assertThat(out.readValuesToList()).extracting(MomentRecord::momentId)
        .containsExactly("cam/999000/0", "cam/999000/1");
  }

  /** Advances the wall clock one second at a time, as a running app's punctuator sees it. */
  private void tick(int seconds) {
    for (int i = 0; i < seconds; i++) {
      driver.advanceWallClockTime(Duration.ofSeconds(1));
    }
  }

  @Test
  void a_late_feature_within_the_tolerance_is_placed_by_its_timestamp() {
    frames(0, 1, 2, 4, 5, 6);
    frames(3); // 3 s behind stream time T0 + 6000: within the 3 s tolerance
    frames(7, 8);
    assertThat(RecordingPredictor.frameNumbers(predictor.windows.get(0)))
        .containsExactly(0f, 1f, 2f, 3f, 4f);
    assertThat(meta().lateDropped()).isZero();
    assertThat(meta().frames()).isEqualTo(9);
  }

  @Test
  void a_feature_too_late_is_dropped_and_counted() {
    frames(0, 1, 2, 3, 4, 5, 6, 7, 8); // window ending T0 + 5000 emitted
    frame(in, 4.5); // before the last emitted window end
    frames(9);
    frame(in, 5.5); // after that end, but 3.5 s behind stream time T0 + 9000
    assertThat(meta().lateDropped()).isEqualTo(2);
    frames(10, 11, 12, 13);
    assertThat(RecordingPredictor.frameNumbers(predictor.windows.get(1)))
        .containsExactly(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f);
    assertThat(meta().frames()).isEqualTo(14);
    assertThat(driver.metrics().entrySet()).anySatisfy(e -> {
      assertThat(e.getKey().name()).isEqualTo("late-dropped-total");
      assertThat(e.getValue().metricValue()).isEqualTo(2.0);
    });
  }

  @Test
  void features_of_the_wrong_dimension_or_encoder_or_undecodable_go_to_the_dead_letter_topic() {
    byte[] wrongDim = new FeatureRecord(ENC, new float[] {1, 2, 3}).toBytes();
    byte[] wrongEnc = new FeatureRecord("other-enc", new float[] {1, 2, 3, 4}).toBytes();
    byte[] garbage = "not a feature".getBytes(StandardCharsets.UTF_8);
    in.pipeInput("cam", wrongDim, T0);
    in.pipeInput("cam", wrongEnc, T0);
    in.pipeInput("cam", garbage, T0);
    in.pipeInput((String) null, feature(0), T0);
    frames(0);
    List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
    List<String> reasons = new ArrayList<>();
    for (TestRecord<byte[], byte[]> r : dead) {
      reasons.add(DeadLetter.header(r.headers(), DeadLetter.HEADER_REASON));
      assertThat(DeadLetter.header(r.headers(), DeadLetter.HEADER_STAGE)).isEqualTo("indexer");
      assertThat(DeadLetter.header(r.headers(), DeadLetter.HEADER_TOPIC))
          .isEqualTo(topics.features().name());
    }
    assertThat(reasons).containsExactly(
        "feature dim 3 differs from the model's feature dim 4",
        "feature encoder id 'other-enc' differs from the model's encoder id 'enc-test'",
        "undecodable feature record: not a feature record: missing 'MF' magic",
        "feature record has no key (the stream id)");
    assertThat(dead.get(0).value()).isEqualTo(wrongDim);
    assertThat(DeadLetter.header(dead.get(2).headers(), DeadLetter.HEADER_OFFSET)).isEqualTo("2");
    assertThat(out.isEmpty()).isTrue();
    assertThat(meta().frames()).isEqualTo(1); // the good record after them was processed
  }

  @Test
  void the_store_keeps_only_what_later_windows_need() {
    for (int i = 0; i <= 40; i++) {
      frame(in, i);
    }
    // Stream time T0 + 40000: windows up to end T0 + 35000 emitted (35000 + 3000 <= 40000);
    // later windows start after T0 + 25000, so frames 0..25 are gone and 26..40 remain.
    assertThat(meta().windows()).isEqualTo(7);
    KeyValueStore<Bytes, byte[]> store = driver.getKeyValueStore(IndexerTopology.FEATURES_STORE);
    List<Long> kept = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
      it.forEachRemaining(kv -> kept.add(FeatureKeys.timestamp(kv.key) - T0));
    }
    List<Long> expected = new ArrayList<>();
    for (long i = 26; i <= 40; i++) {
      expected.add(i * 1000);
    }
    assertThat(kept).isEqualTo(expected);
  }
}
