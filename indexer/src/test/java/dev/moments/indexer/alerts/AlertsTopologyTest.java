package dev.moments.indexer.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.model.rank.FrameEvidence;
import dev.moments.model.rank.Rankers;
import dev.moments.model.rank.SpanRanker;
import dev.moments.topics.AlertRecord;
import dev.moments.topics.AlertRule;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.DoubleFunction;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The matcher under {@link TopologyTestDriver}: frames (2 fps) and moments in a 4-dim space, the
 * rule's embedding e0. A frame or moment "of the event" is e0 (cosine 1), "other" is e1 (cosine
 * 0). Windows are 60 s; their moments are piped after the frames up to their end; a wall-clock
 * step lets the matcher evaluate. Scores are checked against the ranker applied independently
 * to {@link FrameEvidence#pool} of the same frames.
 */
class AlertsTopologyTest {
  static final long T0 = 1_700_000_000_000L;
  static final float[] EVENT = {1, 0, 0, 0};
  static final float[] OTHER = {0, 1, 0, 0};
  static final float[] THIRD = {0, 0, 1, 0};
  static final double FPS = 2;
  final Topics topics = new Topics("t");
  final AlertsStats stats = new AlertsStats();

  @TempDir Path dir;
  TopologyTestDriver driver;
  TestInputTopic<String, byte[]> rules;
  TestInputTopic<String, byte[]> features;
  TestInputTopic<String, byte[]> moments;
  TestOutputTopic<String, AlertRecord> alerts;

  @BeforeEach
  void start() {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "alerts-test");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    p.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
    driver = new TopologyTestDriver(AlertsTopology.build(new StreamsBuilder(), topics, stats, () -> 42L), p);
    rules = driver.createInputTopic(topics.alertRules().name(), new StringSerializer(), new ByteArraySerializer());
    features = driver.createInputTopic(topics.features().name(), new StringSerializer(), new ByteArraySerializer());
    moments = driver.createInputTopic(topics.moments().name(), new StringSerializer(), new ByteArraySerializer());
    alerts = driver.createOutputTopic(topics.alerts().name(), new StringDeserializer(), AlertRecord.serde().deserializer());
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  static AlertRule rule(String id, List<String> streams, float minScore, long cooldownMs, float[] e) {
    return new AlertRule(id, "sha256:ab", "the keys are put on the shelf", streams, minScore, cooldownMs,
        null, "00", e, "enc", T0);
  }

  /** A scene: the event vector inside any of the [from, to) spans (seconds), other elsewhere. */
  static DoubleFunction<float[]> scene(double... spans) {
    return t -> {
      for (int i = 0; i < spans.length; i += 2) {
        if (t >= spans[i] && t < spans[i + 1]) {
          return EVENT;
        }
      }
      return OTHER;
    };
  }

  /** Frames of {@code stream} at 2 fps over [from, to) seconds after T0. */
  void frames(String stream, double from, double to, DoubleFunction<float[]> scene) {
    for (int i = (int) Math.round(from * FPS); i < Math.round(to * FPS); i++) {
      double t = i / FPS;
      features.pipeInput(stream, new FeatureRecord("enc", scene.apply(t)).toBytes(), T0 + Math.round(t * 1000));
    }
  }

  /** A moment of window {@code windowStartSec} (s after T0), slot, span in s after T0. */
  void moment(String stream, int windowStartSec, int slot, double startSec, double endSec, float[] e) {
    long ws = T0 + windowStartSec * 1000L;
    MomentRecord m = new MomentRecord(MomentRecord.idFor(stream, ws, slot), stream,
        T0 + Math.round(startSec * 1000), T0 + Math.round(endSec * 1000), e, 0.9f,
        MomentRecord.windowIdFor(stream, ws), "model");
    moments.pipeInput(stream, m.toBytes(), ws + 60_000);  // the indexer's timestamp: the window's end
  }

  /** Lets the matcher's wall-clock evaluation run. */
  void evaluate() {
    driver.advanceWallClockTime(Duration.ofMillis(AlertsConfig.DEFAULTS.evaluateEveryMs() + 1));
  }

  List<String> alertIds() {
    return alerts.readValuesToList().stream().map(AlertRecord::alertId).toList();
  }

  static String span(String stream, double fromSec, double toSec) {
    return stream + "/span/" + (T0 + Math.round(fromSec * 1000)) + "-" + (T0 + Math.round(toSec * 1000));
  }

  /**
   * The best span of the fused ranker on [0, seconds) of {@code scene} (frames pooled by {@link
   * FrameEvidence#pool}) and the given moments, for a query e0, computed without the matcher.
   */
  static SpanRanker.Span fusedBest(DoubleFunction<float[]> scene, int seconds, List<SpanRanker.Moment> ms) {
    float[][] frames = new float[(int) (seconds * FPS)][];
    for (int i = 0; i < frames.length; i++) {
      frames[i] = scene.apply(i / FPS);
    }
    double[] scores = FrameEvidence.scores(EVENT, FrameEvidence.pool(frames, FPS));
    return Rankers.fused().rank(scores, ms, 1).getFirst();
  }

  @Test
  void an_event_seen_by_frames_and_two_overlapping_windows_fires_once_with_the_fused_score() {
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, EVENT).toBytes());
    DoubleFunction<float[]> scene = scene(35, 45);
    frames("cam", 0, 60, scene);
    moment("cam", 0, 3, 35, 45, EVENT);   // window 0..60 sees the event at 35..45
    moment("cam", 0, 4, 10, 15, OTHER);
    evaluate();
    List<AlertRecord> out = alerts.readValuesToList();
    assertThat(out).hasSize(1);
    AlertRecord a = out.getFirst();
    // the stretch: the 59 finished seconds (second 59 is open until a frame of second 60 comes)
    SpanRanker.Span best = fusedBest(scene, 59,
        List.of(new SpanRanker.Moment(35, 45, 1), new SpanRanker.Moment(10, 15, 0)));
    assertThat(best.startSec()).isEqualTo(35);
    assertThat(best.endSec()).isEqualTo(45);
    assertThat(a.alertId()).isEqualTo("r1/cam/" + T0 + "/3"); // the span is exactly that moment
    assertThat(a.ruleId()).isEqualTo("r1");
    assertThat(a.owner()).isEqualTo("sha256:ab");
    assertThat(a.streamId()).isEqualTo("cam");
    assertThat(a.windowId()).isEqualTo("cam/" + T0);
    assertThat(a.startMs()).isEqualTo(T0 + 35_000);
    assertThat(a.endMs()).isEqualTo(T0 + 45_000);
    assertThat(a.score()).isEqualTo((float) best.score()).isGreaterThan(0.9f);
    assertThat(a.firedMs()).isEqualTo(42L);

    frames("cam", 60, 90, scene);
    moment("cam", 30, 1, 36, 46, EVENT);  // window 30..90 sees it again, a slightly other span
    moment("cam", 30, 2, 34, 44.5, EVENT);  // and starting a bit earlier: still the same event
    evaluate();
    assertThat(alerts.readValuesToList()).isEmpty();
    assertThat(stats.suppressed.get()).isPositive();
  }

  @Test
  void the_frames_find_an_event_whose_moments_the_model_got_wrong() {
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, EVENT).toBytes());
    frames("cam", 0, 60, scene(30, 38));
    moment("cam", 0, 0, 5, 15, OTHER);
    moment("cam", 0, 1, 40, 50, OTHER);
    evaluate();
    List<AlertRecord> out = alerts.readValuesToList();
    assertThat(out).hasSize(1);
    AlertRecord a = out.getFirst();
    assertThat(a.momentId()).startsWith("cam/span/");
    assertThat(a.alertId()).isEqualTo("r1/" + span("cam", (a.startMs() - T0) / 1000.0, (a.endMs() - T0) / 1000.0));
    // the span covers the event (frame peaks grow around it)
    assertThat(a.startMs()).isBetween(T0 + 29_000, T0 + 31_000);
    assertThat(a.endMs()).isBetween(T0 + 37_000, T0 + 39_000);
  }

  @Test
  void a_moment_that_looks_like_the_query_where_the_frames_do_not_does_not_fire() {
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, EVENT).toBytes());
    frames("cam", 0, 60, scene());
    moment("cam", 0, 0, 40, 45, EVENT);  // cosine 1, but nothing in the frames
    evaluate();
    assertThat(alerts.readValuesToList()).isEmpty();
    // a moment-only rule (the laviti ranker's scale: the cosine) would have fired
    assertThat(stats.evaluations.get()).isEqualTo(1);
  }

  @Test
  void two_events_in_one_horizon_both_fire_in_time_order_and_a_touching_span_is_a_new_event() {
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, EVENT).toBytes());
    frames("cam", 0, 60, scene(10, 16, 40, 46));
    moment("cam", 0, 0, 10, 16, EVENT);
    moment("cam", 0, 1, 40, 46, EVENT);
    evaluate();
    assertThat(alertIds()).containsExactly("r1/cam/" + T0 + "/0", "r1/cam/" + T0 + "/1");
  }

  @Test
  void cooldown_suppresses_events_that_start_within_it_after_the_alert() {
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 60_000, EVENT).toBytes());
    DoubleFunction<float[]> scene = scene(10, 16, 40, 46, 75, 81);
    frames("cam", 0, 60, scene);
    moment("cam", 0, 0, 10, 16, EVENT);   // fires
    moment("cam", 0, 1, 40, 46, EVENT);   // separate, but 30 s after: cooled down
    evaluate();
    frames("cam", 60, 90, scene);
    moment("cam", 30, 0, 75, 81, EVENT);  // 65 s after: fires
    evaluate();
    assertThat(alertIds()).containsExactly("r1/cam/" + T0 + "/0", "r1/cam/" + (T0 + 30_000) + "/0");
  }

  @Test
  void streams_are_independent_and_a_rule_sees_only_the_streams_it_watches() {
    rules.pipeInput("all", rule("all", List.of(), 0.5f, 60_000, EVENT).toBytes());
    rules.pipeInput("cam2", rule("cam2", List.of("cam-2"), 0.5f, 60_000, EVENT).toBytes());
    for (String cam : List.of("cam-1", "cam-2")) {
      frames(cam, 0, 60, scene(10, 20));
      moment(cam, 0, 0, 10, 20, EVENT);
    }
    evaluate();
    List<AlertRecord> out = alerts.readValuesToList();
    assertThat(out).extracting(a -> a.ruleId() + "@" + a.streamId())
        .containsExactlyInAnyOrder("all@cam-1", "all@cam-2", "cam2@cam-2");
  }

  @Test
  void below_min_score_no_alert() {
    rules.pipeInput("r1", rule("r1", List.of(), 0.8f, 0, EVENT).toBytes());
    float s = (float) Math.sqrt(0.5);
    float[] weak = {s, s, 0, 0};  // cosine 0.707 with the rule
    DoubleFunction<float[]> scene = t -> t >= 10 && t < 16 ? weak : t >= 40 && t < 46 ? EVENT : OTHER;
    frames("cam", 0, 60, scene);
    moment("cam", 0, 0, 10, 16, weak);
    moment("cam", 0, 1, 40, 46, EVENT);
    evaluate();
    List<AlertRecord> out = alerts.readValuesToList();
    assertThat(out).extracting(AlertRecord::momentId).containsExactly("cam/" + T0 + "/1");
  }

  @Test
  void a_deleted_rule_stops_firing_and_a_changed_rule_applies_at_once() {
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, EVENT).toBytes());
    DoubleFunction<float[]> scene = t -> t >= 10 && t < 16 || t >= 40 && t < 46 ? EVENT
        : t >= 70 && t < 76 ? THIRD : OTHER;
    frames("cam", 0, 30, scene);
    moment("cam", 0, 0, 10, 16, EVENT);
    evaluate();
    rules.pipeInput("r1", (byte[]) null);
    frames("cam", 30, 60, scene);
    moment("cam", 30, 0, 40, 46, EVENT);
    evaluate();
    assertThat(alertIds()).containsExactly("r1/cam/" + T0 + "/0");
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, THIRD).toBytes());
    frames("cam", 60, 90, scene);
    moment("cam", 60, 0, 70, 76, THIRD);
    evaluate();
    assertThat(alertIds()).containsExactly("r1/cam/" + (T0 + 60_000) + "/0");
  }

  @Test
  void a_rule_of_another_dimension_is_skipped_and_counted() {
    rules.pipeInput("r8", rule("r8", List.of(), 0.0f, 0, new float[8]).toBytes());
    rules.pipeInput("r4", rule("r4", List.of(), 0.5f, 0, EVENT).toBytes());
    frames("cam", 0, 60, scene(10, 16));
    moment("cam", 0, 0, 10, 16, EVENT);
    evaluate();
    assertThat(alertIds()).containsExactly("r4/cam/" + T0 + "/0");
    assertThat(stats.dimMismatches.get()).isEqualTo(1);
  }

  @Test
  void retractions_bad_records_and_bad_rules_never_crash_and_a_retracted_windows_alert_stands() {
    rules.pipeInput("bad", "not json".getBytes(StandardCharsets.UTF_8));
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, EVENT).toBytes());
    DoubleFunction<float[]> scene = scene(10, 20, 40, 45);
    frames("cam", 0, 30, scene);
    moment("cam", 0, 0, 10, 20, EVENT);  // a provisional window's moment fires
    evaluate();
    RecordHeaders h = new RecordHeaders();
    h.add(Topics.HEADER_RETRACT_WINDOW, ("cam/" + T0).getBytes(StandardCharsets.UTF_8));
    moments.pipeInput(new TestRecord<>("cam", null, h));
    moments.pipeInput("cam", new byte[] {1, 2, 3});
    features.pipeInput("cam", new byte[] {4, 5});
    frames("cam", 30, 60, scene);
    moment("cam", 5, 0, 10, 21, EVENT);  // the re-emitted window sees the same event
    moment("cam", 5, 1, 40, 45, EVENT);  // a new event
    evaluate();
    assertThat(alertIds()).containsExactly("r1/cam/" + T0 + "/0", "r1/cam/" + (T0 + 5000) + "/1");
    assertThat(stats.retractions.get()).isEqualTo(1);
    assertThat(stats.unreadable.get()).isEqualTo(2);
    assertThat(stats.badRules.get()).isEqualTo(1);
  }

  @Test
  void a_matcher_catching_up_ranks_every_window_not_only_the_newest() {
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, EVENT).toBytes());
    DoubleFunction<float[]> scene = scene(20, 26, 80, 86, 140, 146);
    // 4 windows of 60 s every 60 s read in one go: no wall-clock evaluation in between
    for (int w = 0; w < 4; w++) {
      frames("cam", 60 * w, 60 * (w + 1), scene);
      moment("cam", 60 * w, 0, 60 * w + 20, 60 * w + 26, 60 * w + 20 < 180 ? EVENT : OTHER);
    }
    evaluate();
    assertThat(alertIds()).containsExactly("r1/cam/" + T0 + "/0", "r1/cam/" + (T0 + 60_000) + "/0",
        "r1/cam/" + (T0 + 120_000) + "/0");
  }

  @Test
  void the_evidence_is_the_indexs_pooled_int8_evidence() {
    // 3.5 fps frames with varied vectors, a late frame, a gap of two seconds, then end-of-stream
    List<float[]> sent = new ArrayList<>();
    java.util.Random r = new java.util.Random(7);
    for (int i = 0; i < 80 * 7 / 2; i++) {
      if (i / 3.5 >= 40 && i / 3.5 < 42) {
        sent.add(new float[4]);  // the gap: no frame sent, pooled as zero
        continue;
      }
      float[] v = {r.nextFloat() - 0.5f, r.nextFloat() - 0.5f, r.nextFloat() - 0.5f, r.nextFloat() - 0.5f};
      sent.add(v);
      features.pipeInput("cam", new FeatureRecord("enc", v).toBytes(), T0 + Math.round(i / 3.5 * 1000));
    }
    features.pipeInput("cam", new FeatureRecord("enc", new float[] {1, 0, 0, 0}).toBytes(), T0 + 3_000); // late
    features.pipeInput(new TestRecord<>("cam", null, endOfStream(), T0 + 80_000));
    KeyValueStore<String, byte[]> store = driver.getKeyValueStore(AlertsTopology.EVIDENCE_STORE);
    AlertEvidence ev = new AlertEvidence(store, 1000);
    float[][] pooled = FrameEvidence.pool(sent.toArray(new float[0][]), 3.5);
    assertThat(pooled).hasNumberOfRows(80);
    AlertEvidence.Stretch last = ev.before("cam", T0 + 90_000, 60);
    assertThat(last.startMs()).isEqualTo(T0 + 20_000);
    assertThat(last.seconds()).hasNumberOfRows(60);
    for (int i = 0; i < 60; i++) {
      assertThat(last.seconds()[i]).as("second %d", 20 + i).containsExactly(pooled[20 + i]);
    }
    assertThat(last.seconds()[20]).containsOnly(0f);  // second 40: the gap
    assertThat(stats.lateFrames.get()).isEqualTo(1);
    AlertEvidence.Stretch earlier = ev.before("cam", T0 + 30_500, 60);  // the window ending at 30.5 s
    assertThat(earlier.startMs()).isEqualTo(T0);
    assertThat(earlier.seconds()).hasNumberOfRows(31);
    assertThat(earlier.seconds()[30]).containsExactly(pooled[30]);
  }

  @Test
  void only_the_horizon_and_its_slack_are_kept() {
    int keep = AlertsConfig.DEFAULTS.horizonSec() + AlertMatcher.EVIDENCE_SLACK_SEC;
    for (int t = 0; t < keep + 100; t++) {
      features.pipeInput("cam", new FeatureRecord("enc", EVENT).toBytes(), T0 + t * 1000L);
    }
    KeyValueStore<String, byte[]> store = driver.getKeyValueStore(AlertsTopology.EVIDENCE_STORE);
    long kept = 0;
    try (var it = store.prefixScan("cam\u0000s", new StringSerializer())) {
      while (it.hasNext()) {
        it.next();
        kept++;
      }
    }
    assertThat(kept).isEqualTo(keep);
    assertThat(stats.frames.get()).isEqualTo(keep + 100);
  }

  static RecordHeaders endOfStream() {
    RecordHeaders h = new RecordHeaders();
    h.add(Topics.HEADER_END_OF_STREAM, "test".getBytes(StandardCharsets.UTF_8));
    return h;
  }
}
