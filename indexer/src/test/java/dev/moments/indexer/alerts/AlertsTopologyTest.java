package dev.moments.indexer.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.topics.AlertRecord;
import dev.moments.topics.AlertRule;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The matcher's NMS, cooldown and rule handling under {@link TopologyTestDriver}, with hand-made
 * moments in a 4-dim space: the rule's embedding is e0; a moment "of the event" is e0 (cosine 1),
 * "other" is e1 (cosine 0).
 */
class AlertsTopologyTest {
  static final long T0 = 1_700_000_000_000L;
  static final float[] EVENT = {1, 0, 0, 0};
  static final float[] OTHER = {0, 1, 0, 0};
  final Topics topics = new Topics("t");
  final AlertsStats stats = new AlertsStats();

  @TempDir Path dir;
  TopologyTestDriver driver;
  TestInputTopic<String, byte[]> rules;
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

  /** A moment of window {@code windowStartSec} (s after T0), slot, span in s after T0. */
  void moment(String stream, int windowStartSec, int slot, double startSec, double endSec, float[] e) {
    long ws = T0 + windowStartSec * 1000L;
    MomentRecord m = new MomentRecord(MomentRecord.idFor(stream, ws, slot), stream,
        T0 + Math.round(startSec * 1000), T0 + Math.round(endSec * 1000), e, 0.9f,
        MomentRecord.windowIdFor(stream, ws), "model");
    moments.pipeInput(stream, m.toBytes());
  }

  List<String> alertIds() {
    return alerts.readValuesToList().stream().map(AlertRecord::alertId).toList();
  }

  @Test
  void two_overlapping_windows_seeing_one_event_fire_once_with_the_first_match() {
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, EVENT).toBytes());
    moment("cam", 0, 3, 20, 30, EVENT);   // window 0..60 sees the event at 20..30
    moment("cam", 0, 4, 40, 45, OTHER);
    moment("cam", 30, 1, 21, 31, EVENT);  // window 30..90 sees it again, a slightly other span
    moment("cam", 30, 2, 19, 29.5, EVENT);  // and starting a bit earlier: still the same event
    List<AlertRecord> out = alerts.readValuesToList();
    assertThat(out).hasSize(1);
    AlertRecord a = out.getFirst();
    assertThat(a.alertId()).isEqualTo("r1/cam/" + T0 + "/3");
    assertThat(a.ruleId()).isEqualTo("r1");
    assertThat(a.owner()).isEqualTo("sha256:ab");
    assertThat(a.streamId()).isEqualTo("cam");
    assertThat(a.windowId()).isEqualTo("cam/" + T0);
    assertThat(a.startMs()).isEqualTo(T0 + 20_000);
    assertThat(a.endMs()).isEqualTo(T0 + 30_000);
    assertThat(a.score()).isEqualTo(1.0f);
    assertThat(a.firedMs()).isEqualTo(42L);
    assertThat(stats.suppressed.get()).isEqualTo(2);
  }

  @Test
  void two_separate_events_fire_twice_and_a_touching_span_is_a_new_event() {
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, EVENT).toBytes());
    moment("cam", 0, 0, 10, 20, EVENT);
    moment("cam", 0, 1, 20, 25, EVENT);  // starts where the first ends: IoU 0
    moment("cam", 30, 0, 50, 55, EVENT);
    assertThat(alertIds()).containsExactly("r1/cam/" + T0 + "/0", "r1/cam/" + T0 + "/1",
        "r1/cam/" + (T0 + 30_000) + "/0");
  }

  @Test
  void cooldown_suppresses_matches_that_start_within_it_after_the_alert() {
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 60_000, EVENT).toBytes());
    moment("cam", 0, 0, 10, 20, EVENT);   // fires
    moment("cam", 0, 1, 40, 45, EVENT);   // separate, but 30 s after: cooled down
    moment("cam", 30, 0, 69.9, 75, EVENT);  // 59.9 s after
    moment("cam", 60, 0, 70, 80, EVENT);  // exactly 60 s after: fires
    assertThat(alertIds()).containsExactly("r1/cam/" + T0 + "/0", "r1/cam/" + (T0 + 60_000) + "/0");
  }

  @Test
  void a_match_older_than_the_last_alert_is_not_news() {
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, EVENT).toBytes());
    moment("cam", 30, 0, 50, 55, EVENT);
    moment("cam", 30, 1, 35, 40, EVENT);  // earlier, separate: the later window's late find
    assertThat(alertIds()).containsExactly("r1/cam/" + (T0 + 30_000) + "/0");
  }

  @Test
  void streams_are_independent_and_a_rule_sees_only_the_streams_it_watches() {
    rules.pipeInput("all", rule("all", List.of(), 0.5f, 60_000, EVENT).toBytes());
    rules.pipeInput("cam2", rule("cam2", List.of("cam-2"), 0.5f, 60_000, EVENT).toBytes());
    moment("cam-1", 0, 0, 10, 20, EVENT);
    moment("cam-2", 0, 0, 10, 20, EVENT);
    moment("cam-1", 0, 1, 12, 22, EVENT);  // same event on cam-1: suppressed
    List<AlertRecord> out = alerts.readValuesToList();
    assertThat(out).extracting(a -> a.ruleId() + "@" + a.streamId())
        .containsExactlyInAnyOrder("all@cam-1", "all@cam-2", "cam2@cam-2");
  }

  @Test
  void below_min_score_no_alert_and_the_score_is_the_cosine() {
    float s = (float) Math.sqrt(0.5);
    rules.pipeInput("r1", rule("r1", List.of(), 0.8f, 0, EVENT).toBytes());
    moment("cam", 0, 0, 10, 20, new float[] {s, s, 0, 0});  // cosine 0.707 < 0.8
    moment("cam", 0, 1, 30, 40, new float[] {0.8f, 0.6f, 0, 0});  // cosine 0.8: fires
    List<AlertRecord> out = alerts.readValuesToList();
    assertThat(out).hasSize(1);
    assertThat(out.getFirst().momentId()).isEqualTo("cam/" + T0 + "/1");
    assertThat(out.getFirst().score()).isEqualTo(0.8f);
  }

  @Test
  void a_deleted_rule_stops_firing_and_a_changed_rule_applies_at_once() {
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, EVENT).toBytes());
    moment("cam", 0, 0, 10, 20, EVENT);
    rules.pipeInput("r1", (byte[]) null);
    moment("cam", 30, 0, 50, 60, EVENT);
    assertThat(alertIds()).containsExactly("r1/cam/" + T0 + "/0");
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, OTHER).toBytes());
    moment("cam", 60, 0, 70, 80, EVENT);
    moment("cam", 60, 1, 80, 90, OTHER);
    assertThat(alertIds()).containsExactly("r1/cam/" + (T0 + 60_000) + "/1");
  }

  @Test
  void a_rule_of_another_dimension_is_skipped_and_counted() {
    rules.pipeInput("r8", rule("r8", List.of(), 0.0f, 0, new float[8]).toBytes());
    rules.pipeInput("r4", rule("r4", List.of(), 0.5f, 0, EVENT).toBytes());
    moment("cam", 0, 0, 10, 20, EVENT);
    moment("cam", 0, 1, 30, 40, EVENT);
    assertThat(alertIds()).containsExactly("r4/cam/" + T0 + "/0", "r4/cam/" + T0 + "/1");
    assertThat(stats.dimMismatches.get()).isEqualTo(2);
  }

  @Test
  void retractions_bad_records_and_bad_rules_never_crash_and_a_retracted_windows_alert_stands() {
    rules.pipeInput("bad", "not json".getBytes(StandardCharsets.UTF_8));
    rules.pipeInput("r1", rule("r1", List.of(), 0.5f, 0, EVENT).toBytes());
    moment("cam", 0, 0, 10, 20, EVENT);  // a provisional window's moment fires
    RecordHeaders h = new RecordHeaders();
    h.add(Topics.HEADER_RETRACT_WINDOW, ("cam/" + T0).getBytes(StandardCharsets.UTF_8));
    moments.pipeInput(new TestRecord<>("cam", null, h));
    moments.pipeInput("cam", new byte[] {1, 2, 3});
    moment("cam", 5, 0, 10, 21, EVENT);  // the re-emitted window sees the same event
    moment("cam", 5, 1, 40, 45, EVENT);  // a new event
    assertThat(alertIds()).containsExactly("r1/cam/" + T0 + "/0", "r1/cam/" + (T0 + 5000) + "/1");
    assertThat(stats.retractions.get()).isEqualTo(1);
    assertThat(stats.unreadable.get()).isEqualTo(1);
    assertThat(stats.badRules.get()).isEqualTo(1);
  }
}
