package dev.moments.indexer.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.topics.AlertRecord;
import dev.moments.topics.AlertRule;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alerts service on the real broker: rules on the rules topic, frames on the features topic
 * and moments on the moments topic give exactly one alert per event on the alerts topic
 * (read_committed), and a child JVM killed with SIGKILL mid-stream and restarted neither loses
 * nor doubles an alert.
 *
 * <p>Two streams, frames at 1 fps; stream s has an event of 4 s at 40 k + 10 + 3 s (k = 0, 1,
 * ...): its frames are the event's vector then, another vector elsewhere. Windows start every 5 s
 * (20 s long); each yields one moment per event it covers (the event's span, its start shifted by
 * 0..400 ms as another window's prediction would be) with the event's embedding, and one
 * unrelated moment; moment records carry the window's end as timestamp, as the indexer writes
 * them. Every event is seen by 4 or 5 windows and must alert once. After the last window of each
 * stream, a sentinel moment that only the sentinel rule matches marks the end: once its alert is
 * committed, every earlier window of that stream (same partition, in order) has been ranked.
 */
class AlertsBrokerTest {
  static final long T0 = 1_700_000_000_000L;
  static final List<String> STREAMS = List.of("cam-1", "cam-2");
  static final float[] EVENT = {1, 0, 0, 0};
  static final float[] OTHER = {0, 1, 0, 0};
  static final float[] END = {0, 0, 1, 0};
  static final int WINDOWS = 100;
  static final int SPLIT = 60;

  @TempDir Path tmp;

  static AlertRule rule(String id, float[] e, float minScore) {
    return new AlertRule(id, "insecure", id, List.of(), minScore, 0, null, "00", e, "enc", T0);
  }

  /** Capture time of stream s's event k (epoch ms); each lasts 4 s. */
  static long event(int s, int k) {
    return T0 + 40_000L * k + 10_000 + 3000L * s;
  }

  /** Frames (1 fps) of every stream over [fromSec, toSec) after T0, in time order. */
  static List<ProducerRecord<String, byte[]>> frames(Topics topics, int fromSec, int toSec) {
    List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
    for (int t = fromSec; t < toSec; t++) {
      for (int s = 0; s < STREAMS.size(); s++) {
        long ts = T0 + 1000L * t;
        float[] v = OTHER;
        for (int k = 0; event(s, k) <= ts; k++) {
          if (ts < event(s, k) + 4000) {
            v = EVENT;
          }
        }
        out.add(new ProducerRecord<>(topics.features().name(), null, ts, STREAMS.get(s),
            new dev.moments.topics.FeatureRecord("enc", v).toBytes()));
      }
    }
    return out;
  }

  /** Seconds of frames that windows [0, w) need: up to the last one's end. */
  static int framesUpTo(int windows) {
    return 5 * (windows - 1) + 20;
  }

  /** The moments of windows [from, to) of every stream, in order. */
  static List<MomentRecord> moments(int from, int to) {
    List<MomentRecord> out = new ArrayList<>();
    for (int w = from; w < to; w++) {
      for (int s = 0; s < STREAMS.size(); s++) {
        String stream = STREAMS.get(s);
        long ws = T0 + 5000L * w;
        int slot = 0;
        for (int k = 0; ; k++) {
          long ev = event(s, k);
          if (ev >= ws + 20_000) {
            break;
          }
          if (ev >= ws && ev + 4000 <= ws + 20_000) {
            long jitter = 100L * (w % 5);
            out.add(new MomentRecord(MomentRecord.idFor(stream, ws, slot++), stream, ev + jitter,
                ev + 4000 + jitter, mix(EVENT, OTHER, 0.95f), 0.9f, MomentRecord.windowIdFor(stream, ws), "m"));
          }
        }
        out.add(new MomentRecord(MomentRecord.idFor(stream, ws, slot), stream, ws + 1000, ws + 3000,
            OTHER, 0.5f, MomentRecord.windowIdFor(stream, ws), "m"));
      }
    }
    return out;
  }

  static List<MomentRecord> sentinels() {
    List<MomentRecord> out = new ArrayList<>();
    for (String stream : STREAMS) {
      long ws = T0 + 5000L * WINDOWS;
      out.add(new MomentRecord(MomentRecord.idFor(stream, ws, 99), stream, ws, ws + 1000, END, 1f,
          MomentRecord.windowIdFor(stream, ws), "m"));
    }
    return out;
  }

  static float[] mix(float[] a, float[] b, float wa) {
    float wb = (float) Math.sqrt(1 - wa * wa);
    float[] v = new float[a.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = wa * a[i] + wb * b[i];
    }
    return v;
  }

  /** The events the alerts must find: stream#k of each event some window covers. */
  static List<String> expectedEvents() {
    List<String> out = new ArrayList<>();
    for (MomentRecord m : moments(0, WINDOWS)) {
      if (m.embedding()[0] > 0.5f) {
        String e = m.streamId() + "#" + (m.startMs() - T0) / 1000 / 40; // 40 s per event
        if (!out.contains(e)) {
          out.add(e);
        }
      }
    }
    return out;
  }

  /** The event (stream#k) an alert of the keys rule overlaps, or "none". */
  static String eventOf(AlertRecord a) {
    int s = STREAMS.indexOf(a.streamId());
    for (int k = 0; k < 20; k++) {
      if (a.startMs() < event(s, k) + 4000 && event(s, k) < a.endMs()) {
        return a.streamId() + "#" + k;
      }
    }
    return "none: " + a.alertId();
  }

  @Test
  void rules_and_moments_give_exactly_the_expected_alerts() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("alerts"));
    TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
    produceRules(bootstrap, topics);
    send(bootstrap, frames(topics, 0, framesUpTo(WINDOWS)));
    produce(bootstrap, topics, moments(0, WINDOWS));
    produce(bootstrap, topics, sentinels());
    try (AlertsService s = new AlertsService(bootstrap, topics, tmp.resolve("state"))) {
      s.start();
      assertOnce(awaitSentinels(bootstrap, topics));
      assertThat(s.stats().dimMismatches.get()).isZero();
    }
  }

  @Test
  void killing_the_alerts_service_mid_stream_loses_and_doubles_no_alert() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("alerts-kill"));
    TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
    produceRules(bootstrap, topics);
    send(bootstrap, frames(topics, 0, framesUpTo(SPLIT)));
    produce(bootstrap, topics, moments(0, SPLIT));
    Path state = tmp.resolve("state");

    Process first = child(bootstrap, topics, state, "first");
    try {
      // kill in flight: as soon as the first alert is committed
      Patience.await("a first committed alert", Duration.ofMillis(50),
          () -> !readCommitted(bootstrap, topics).isEmpty());
      System.out.println(System.currentTimeMillis() + " killing the first child");
    } finally {
      first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    Map<String, AlertRecord> before = readCommitted(bootstrap, topics);
    assertThat(before.values()).extracting(AlertsBrokerTest::eventOf).doesNotHaveDuplicates()
        .isSubsetOf(expectedEvents()).hasSizeLessThan(expectedEvents().size());

    send(bootstrap, frames(topics, framesUpTo(SPLIT), framesUpTo(WINDOWS)));
    produce(bootstrap, topics, moments(SPLIT, WINDOWS));
    produce(bootstrap, topics, sentinels());
    Process second = child(bootstrap, topics, state, "second");
    try {
      assertOnce(awaitSentinels(bootstrap, topics));
    } finally {
      second.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** Every alert id once (readCommitted fails on a repeat), and exactly one alert per event. */
  private static void assertOnce(Map<String, AlertRecord> alerts) {
    List<String> events = new ArrayList<>();
    for (AlertRecord a : new TreeMap<>(alerts).values()) {
      if (a.ruleId().equals("keys")) {
        events.add(eventOf(a));
      }
    }
    List<String> expected = expectedEvents();
    // 2 streams x events at 13 s, 53 s, ... within 100 windows of 5 s
    assertThat(expected).hasSize(2 * 13);
    assertThat(events).as("the event of each alert: %s", alerts.keySet()).containsExactlyInAnyOrderElementsOf(expected);
  }

  private static void produceRules(String bootstrap, Topics topics) {
    try (KafkaProducer<String, byte[]> p = producer(bootstrap)) {
      p.send(new ProducerRecord<>(topics.alertRules().name(), "keys", rule("keys", EVENT, 0.5f).toBytes()));
      // the sentinel moment has no frames like it: its fused score is the model's support alone,
      // 0.05 x cosine 1 (Rankers.LAVITI_WEIGHT); nothing else scores above 0 for this rule
      p.send(new ProducerRecord<>(topics.alertRules().name(), "end", rule("end", END, 0.04f).toBytes()));
      p.flush();
    }
  }

  /** Moments with their window's end as timestamp (as the indexer writes them). */
  private static void produce(String bootstrap, Topics topics, List<MomentRecord> ms) {
    List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
    for (MomentRecord m : ms) {
      long ws = Long.parseLong(m.windowId().substring(m.windowId().lastIndexOf('/') + 1));
      long end = m.momentId().endsWith("/99") ? ws + 1000 : ws + 20_000;
      out.add(new ProducerRecord<>(topics.moments().name(), null, end, m.streamId(), m.toBytes()));
    }
    send(bootstrap, out);
  }

  private static void send(String bootstrap, List<ProducerRecord<String, byte[]>> records) {
    try (KafkaProducer<String, byte[]> p = producer(bootstrap)) {
      records.forEach(p::send);
      p.flush();
    }
  }

  private static KafkaProducer<String, byte[]> producer(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
  }

  /** Waits for both sentinels' alerts; returns every alert then committed, by id. */
  private static Map<String, AlertRecord> awaitSentinels(String bootstrap, Topics topics) throws Exception {
    Map<String, AlertRecord>[] last = new Map[1];
    Patience.await("both sentinel alerts", Duration.ofMillis(200), () -> {
      last[0] = readCommitted(bootstrap, topics);
      return last[0].keySet().stream().filter(id -> id.startsWith("end/")).count() == STREAMS.size();
    });
    return last[0];
  }

  /** Every committed alert of the topic by alert id; fails on an id written twice. */
  static Map<String, AlertRecord> readCommitted(String bootstrap, Topics topics) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<String, AlertRecord> alerts = new HashMap<>();
    try (KafkaConsumer<String, AlertRecord> c = new KafkaConsumer<>(p, new StringDeserializer(),
        AlertRecord.serde().deserializer())) {
      List<TopicPartition> parts = c.partitionsFor(topics.alerts().name()).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts); // read_committed: the last stable offset
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<String, AlertRecord> r : c.poll(Duration.ofMillis(200))) {
          assertThat(r.key()).isEqualTo(r.value().streamId());
          assertThat(alerts.put(r.value().alertId(), r.value())).as("alert %s written twice", r.value().alertId())
              .isNull();
        }
      }
    }
    return alerts;
  }

  private static Process child(String bootstrap, Topics topics, Path state, String name) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = List.of(java, "-cp", System.getProperty("java.class.path"),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", AlertsChild.class.getName(), bootstrap,
        topics.prefix(), state.toString());
    Path log = Path.of("target", "alerts-restart-" + name + ".log");
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }
}
