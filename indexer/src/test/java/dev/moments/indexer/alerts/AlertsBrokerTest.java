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
import java.util.LinkedHashMap;
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
 * The alerts service on the real broker: rules on the rules topic and moments on the moments
 * topic give exactly the expected alerts on the alerts topic (read_committed), and a child JVM
 * killed with SIGKILL mid-stream and restarted neither loses nor doubles an alert.
 *
 * <p>Moments: two streams, windows starting every 5 s (20 s long); stream s has an event of 4 s
 * at 40 k + 10 + 3 s (k = 0, 1, ...); each window yields one moment per event it covers (the
 * event's span, its start shifted by 0..400 ms as another window's prediction would be) with the
 * event's embedding, and one unrelated moment. Every event is seen by 4 or 5 windows and must
 * alert once. After the last window of each stream, a sentinel moment that only the sentinel rule
 * matches marks the end: once its alert is committed, every earlier moment of that stream (same
 * partition, in order) has been matched.
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

  static AlertRule rule(String id, float[] e) {
    return new AlertRule(id, "insecure", id, List.of(), 0.8f, 0, null, "00", e, "enc", T0);
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
          long ev = T0 + 40_000L * k + 10_000 + 3000L * s;
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

  /** The event alerts the moments must give: the first moment of each event, per stream. */
  static List<String> expectedEventAlerts() {
    Map<String, String> firstOfEvent = new LinkedHashMap<>();
    for (MomentRecord m : moments(0, WINDOWS)) {
      if (m.embedding()[0] > 0.5f) {
        long event = (m.startMs() - T0) / 1000 / 40; // 40 s per event
        firstOfEvent.putIfAbsent(m.streamId() + "#" + event, AlertRecord.idFor("keys", m.momentId()));
      }
    }
    return List.copyOf(firstOfEvent.values());
  }

  @Test
  void rules_and_moments_give_exactly_the_expected_alerts() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("alerts"));
    TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
    produceRules(bootstrap, topics);
    produce(bootstrap, topics, moments(0, WINDOWS));
    produce(bootstrap, topics, sentinels());
    try (AlertsService s = new AlertsService(bootstrap, topics, tmp.resolve("state"))) {
      s.start();
      Map<String, Integer> counts = awaitSentinels(bootstrap, topics);
      assertOnce(counts);
      assertThat(s.stats().dimMismatches.get()).isZero();
    }
  }

  @Test
  void killing_the_alerts_service_mid_stream_loses_and_doubles_no_alert() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("alerts-kill"));
    TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
    produceRules(bootstrap, topics);
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
    assertThat(readCommitted(bootstrap, topics).keySet())
        .isSubsetOf(expectedEventAlerts()).hasSizeLessThan(expectedEventAlerts().size());

    produce(bootstrap, topics, moments(SPLIT, WINDOWS));
    produce(bootstrap, topics, sentinels());
    Process second = child(bootstrap, topics, state, "second");
    try {
      assertOnce(awaitSentinels(bootstrap, topics));
    } finally {
      second.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static void assertOnce(Map<String, Integer> counts) {
    Map<String, Integer> events = new TreeMap<>(counts);
    events.keySet().removeIf(id -> id.startsWith("end/"));
    List<String> expected = expectedEventAlerts();
    // 2 streams x events at 13 s, 53 s, ... within 100 windows of 5 s
    assertThat(expected).hasSize(2 * 13);
    assertThat(events.keySet()).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(events.values()).as("alerts by id: %s", events).containsOnly(1);
  }

  private static void produceRules(String bootstrap, Topics topics) {
    try (KafkaProducer<String, byte[]> p = producer(bootstrap)) {
      p.send(new ProducerRecord<>(topics.alertRules().name(), "keys", rule("keys", EVENT).toBytes()));
      p.send(new ProducerRecord<>(topics.alertRules().name(), "end", rule("end", END).toBytes()));
      p.flush();
    }
  }

  private static void produce(String bootstrap, Topics topics, List<MomentRecord> ms) {
    try (KafkaProducer<String, byte[]> p = producer(bootstrap)) {
      for (MomentRecord m : ms) {
        p.send(new ProducerRecord<>(topics.moments().name(), null, m.endMs(), m.streamId(), m.toBytes()));
      }
      p.flush();
    }
  }

  private static KafkaProducer<String, byte[]> producer(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
  }

  /** Waits for both sentinels' alerts; returns the count of each alert id then committed. */
  private static Map<String, Integer> awaitSentinels(String bootstrap, Topics topics) throws Exception {
    Map<String, Integer>[] last = new Map[1];
    Patience.await("both sentinel alerts", Duration.ofMillis(200), () -> {
      last[0] = readCommitted(bootstrap, topics);
      return last[0].keySet().stream().filter(id -> id.startsWith("end/")).count() == STREAMS.size();
    });
    return last[0];
  }

  /** Every committed alert of the topic, counted by alert id. */
  static Map<String, Integer> readCommitted(String bootstrap, Topics topics) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<String, Integer> counts = new HashMap<>();
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
          counts.merge(r.value().alertId(), 1, Integer::sum);
        }
      }
    }
    return counts;
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
