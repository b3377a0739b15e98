package dev.moments.app.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.indexer.alerts.AlertsStats;
import dev.moments.indexer.alerts.AlertsTopology;
import dev.moments.topics.AlertRecord;
import dev.moments.topics.AlertRule;
import dev.moments.topics.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Issue 12 point 4, measured on the demo world (not a test: run by hand): the demo with its alerts
 * service, one rule per object ("Where did I put the X?") and the "the keys are put on the
 * shelf", made over HTTP before any video is ingested; every alert read live (read_committed) with
 * its arrival time. Truth: the narrated put-down events (narration "puts"/"places" X), span
 * [t - 2 s, t + 2.5 s] around the narration time. An alert of object X's rule is right when its
 * moment overlaps a put-down of X on its stream; an event is found when a right alert overlaps it.
 * Then every frame and moment of the run is replayed through the same topology
 * (TopologyTestDriver) for a sweep of minScore.
 *
 * <p>Args: data dir, speed (1 = real time), minScore of the live rules, the world's seed (default 1).
 */
public final class AlertsDemoMeasure {
  static final ObjectMapper JSON = new ObjectMapper();
  static final List<String> OBJECTS = List.of("keys", "bottle", "mug", "phone", "remote", "book");
  static final String SHELF = "the keys are put on the shelf";

  record Event(String stream, String object, long startMs, long endMs, String text) {}

  record Seen(AlertRecord alert, long receivedMs) {}

  public static void main(String[] args) throws Exception {
    Path data = Path.of(args[0]);
    double speed = Double.parseDouble(args[1]);
    double minScore = Double.parseDouble(args[2]);
    long seed = args.length > 3 ? Long.parseLong(args[3]) : 1;
    DemoRunner.Options o = new DemoRunner.Options(data, 0, 4, 2, seed, speed, null, null);
    Map<String, String> ruleObject = new ConcurrentHashMap<>();
    List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean stop = new AtomicBoolean();
    Thread reader = null;
    try (DemoRunner demo = new DemoRunner(o, System.out::println)) {
      Topics topics = Topics.defaults();
      String[] bootstrap = new String[1];
      Thread[] holder = new Thread[1];
      demo.beforeIngest(wrap(demo, ruleObject, minScore, () -> {
        bootstrap[0] = demo.bootstrapServers();
        holder[0] = new Thread(() -> follow(bootstrap[0], topics, seen, stop), "alerts-reader");
        Thread frames = new Thread(() -> firstFrames(bootstrap[0], topics, stop), "frames-reader");
        frames.setDaemon(true);
        frames.start();
        holder[0].setDaemon(true);
        holder[0].start();
      }));
      demo.start();
      reader = holder[0];
      // the last window is in the index: wait until no alert came for 15 s
      int n = -1;
      while (n != seen.size()) {
        n = seen.size();
        Thread.sleep(15_000);
      }
      stop.set(true);
      report(demo, topics, ruleObject, seen, minScore, speed);
    }
    if (reader != null) {
      reader.join(5000);
    }
    System.exit(0);
  }

  static Runnable wrap(DemoRunner demo, Map<String, String> ruleObject, double minScore, Runnable then) {
    return () -> {
      try {
        HttpClient http = HttpClient.newHttpClient();
        for (String x : OBJECTS) {
          ruleObject.put(make(http, demo, "Where did I put the " + x + "?", minScore), x);
        }
        ruleObject.put(make(http, demo, SHELF, minScore), "keys(shelf)");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      then.run();
    };
  }

  static String make(HttpClient http, DemoRunner demo, String q, double minScore) throws Exception {
    String body = JSON.writeValueAsString(Map.of("q", q, "minScore", minScore, "cooldown", "30s"));
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(demo.baseUrl() + "api/alerts"))
        .header("Authorization", "Bearer " + demo.token()).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 201) {
      throw new IllegalStateException("POST /api/alerts answered " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body()).get("id").asText();
  }

  static void follow(String bootstrap, Topics topics, List<Seen> seen, AtomicBoolean stop) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    try (KafkaConsumer<String, AlertRecord> c = new KafkaConsumer<>(p, new StringDeserializer(),
        AlertRecord.serde().deserializer())) {
      List<TopicPartition> parts = c.partitionsFor(topics.alerts().name()).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      while (!stop.get()) {
        for (ConsumerRecord<String, AlertRecord> r : c.poll(Duration.ofMillis(50))) {
          seen.add(new Seen(r.value(), System.currentTimeMillis()));
        }
      }
    }
  }

  /** Wall-clock arrival of each stream's first frame (the demo's capture times are shifted by hours). */
  static final Map<String, Long> FIRST_FRAME_WALL_MS = new ConcurrentHashMap<>();

  static void firstFrames(String bootstrap, Topics topics, AtomicBoolean stop) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = c.partitionsFor(topics.frames().name()).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      while (!stop.get()) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(20))) {
          if (r.key() != null) {
            FIRST_FRAME_WALL_MS.putIfAbsent(r.key(), System.currentTimeMillis() - 0 * r.timestamp());
          }
        }
      }
    }
  }

  /** The wall time at which the frame captured at {@code captureMs} of {@code stream} was sent (speed 1). */
  static double wallOf(DemoRunner demo, String stream, long captureMs) {
    Long first = FIRST_FRAME_WALL_MS.get(stream);
    return first == null ? Double.NaN : first + (captureMs - demo.startMsOf(stream));
  }

  static List<Event> events(DemoRunner demo) throws Exception {
    JsonNode n = JSON.readTree(demo.world().resolve("narration.json").toFile());
    List<Event> out = new ArrayList<>();
    for (var v : (Iterable<Map.Entry<String, JsonNode>>) n::fields) {
      long t0 = demo.startMsOf(v.getKey());
      for (JsonNode x : v.getValue().get("narration_pass_1").get("narrations")) {
        String text = x.get("narration_text").asText();
        String[] w = text.split(" ");
        if (w.length > 4 && (w[2].equals("puts") || w[2].equals("places"))) {
          long t = t0 + Math.round(x.get("timestamp_sec").asDouble() * 1000);
          out.add(new Event(v.getKey(), w[4], t - 2000, t + 2500, text));
        }
      }
    }
    return out;
  }

  static boolean overlaps(long s1, long e1, long s2, long e2) {
    return s1 < e2 && s2 < e1;
  }

  static void report(DemoRunner demo, Topics topics, Map<String, String> ruleObject, List<Seen> seen,
      double minScore, double speed) throws Exception {
    List<Event> events = events(demo);
    System.out.println("put-down events: " + events.size());
    events.forEach(e -> System.out.printf(Locale.ROOT, "  %s %s at %.1f s: %s%n", e.stream(), e.object(),
        (e.startMs() + 2000 - demo.startMsOf(e.stream())) / 1000.0, e.text()));
    List<AlertRecord> alerts = seen.stream().map(Seen::alert).toList();
    Map<String, Long> received = new LinkedHashMap<>();
    seen.forEach(s -> received.putIfAbsent(s.alert().alertId(), s.receivedMs()));
    System.out.printf(Locale.ROOT, "LIVE (speed %s, minScore %.3f, cooldown 30 s): %d alerts, %d distinct ids%n",
        speed, minScore, alerts.size(), received.size());
    score("live", alerts, events, ruleObject, demo, true);
    List<Double> capture = new ArrayList<>();
    List<Double> eventEnd = new ArrayList<>();
    for (Seen s : seen) {
      capture.add((s.receivedMs() - wallOf(demo, s.alert().streamId(), s.alert().endMs())) / 1000.0);
      for (Event e : events) {
        String obj = ruleObject.get(s.alert().ruleId());
        if (e.stream().equals(s.alert().streamId()) && obj != null && obj.startsWith(e.object())
            && overlaps(s.alert().startMs(), s.alert().endMs(), e.startMs(), e.endMs())) {
          eventEnd.add((s.receivedMs() - wallOf(demo, e.stream(), e.endMs())) / 1000.0);
        }
      }
    }
    System.out.println("first frames arrived (wall ms): " + FIRST_FRAME_WALL_MS);
    System.out.println("latency, alert read (read_committed) - capture of the moment's last frame: " + stats(capture));
    System.out.println("latency, right alerts - end of the event's truth span: " + stats(eventEnd));
    System.out.println("load: " + new String(Runtime.getRuntime().exec(new String[] {"uptime"}).getInputStream().readAllBytes()).strip());

    // offline sweep: every frame and moment of the run through the same topology
    // (TopologyTestDriver), the same rules at other thresholds
    List<AlertRule> rules = readRules(demo.bootstrapServers(), topics).stream()
        .filter(r -> ruleObject.containsKey(r.id())).toList();
    List<ConsumerRecord<String, byte[]>> features = readAll(demo.bootstrapServers(), topics.features().name());
    List<ConsumerRecord<String, byte[]>> moments = readAll(demo.bootstrapServers(), topics.moments().name());
    System.out.println("replay: " + features.size() + " frame records, " + moments.size() + " moment records, "
        + rules.size() + " rules");
    for (double t : new double[] {0.3, 0.35, 0.4, 0.42, 0.44, 0.46, 0.48, 0.5, 0.55, 0.6}) {
      List<AlertRecord> out = replay(topics, rules, (float) t, features, moments);
      score(String.format(Locale.ROOT, "replay minScore %.2f", t), out, events, ruleObject, demo, false);
    }
  }

  /**
   * The alerts topology's decisions over the run's frames and moments, merged by timestamp (as
   * Kafka Streams merges a task's partitions), every rule at {@code minScore}.
   */
  static List<AlertRecord> replay(Topics topics, List<AlertRule> rules, float minScore,
      List<ConsumerRecord<String, byte[]>> features, List<ConsumerRecord<String, byte[]>> moments) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "alerts-replay");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    try {
      p.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("alerts-replay").toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (TopologyTestDriver d = new TopologyTestDriver(AlertsTopology.build(new StreamsBuilder(), topics,
        new AlertsStats(), System::currentTimeMillis), p)) {
      ByteArraySerializer ser = new ByteArraySerializer();
      var in = d.createInputTopic(topics.alertRules().name(), new StringSerializer(), ser);
      for (AlertRule r : rules) {
        in.pipeInput(r.id(), new AlertRule(r.id(), r.owner(), r.q(), r.streams(), minScore, r.cooldownMs(), null,
            r.secret(), r.embedding(), r.encoder(), r.createdMs()).toBytes());
      }
      var f = d.createInputTopic(topics.features().name(), ser, ser);
      var m = d.createInputTopic(topics.moments().name(), ser, ser);
      List<ConsumerRecord<String, byte[]>> all = new ArrayList<>(features);
      all.addAll(moments);
      all.sort(Comparator.comparingLong(ConsumerRecord<String, byte[]>::timestamp)
          .thenComparing(r -> r.topic().equals(topics.features().name()) ? 0 : 1));
      for (ConsumerRecord<String, byte[]> r : all) {
        var target = r.topic().equals(topics.features().name()) ? f : m;
        target.pipeInput(new TestRecord<>(r.key() == null ? null : r.key().getBytes(StandardCharsets.UTF_8),
            r.value(), r.headers(), r.timestamp()));
      }
      d.advanceWallClockTime(Duration.ofSeconds(1));
      return d.createOutputTopic(topics.alerts().name(), new StringDeserializer(), AlertRecord.serde().deserializer())
          .readValuesToList();
    }
  }

  static void score(String label, List<AlertRecord> alerts, List<Event> events, Map<String, String> ruleObject,
      DemoRunner demo, boolean list) {
    int right = 0;
    int found = 0;
    for (AlertRecord a : alerts) {
      String obj = ruleObject.get(a.ruleId());
      boolean ok = events.stream().anyMatch(e -> e.stream().equals(a.streamId()) && obj.startsWith(e.object())
          && overlaps(a.startMs(), a.endMs(), e.startMs(), e.endMs()));
      right += ok ? 1 : 0;
      if (list) {
        System.out.printf(Locale.ROOT, "  %s %-30s %s %.1f-%.1f s score %.3f %s%n", ok ? "RIGHT" : "wrong", "'" + a.q() + "'",
            a.streamId(), (a.startMs() - demo.startMsOf(a.streamId())) / 1000.0,
            (a.endMs() - demo.startMsOf(a.streamId())) / 1000.0, a.score(), a.alertId());
      }
    }
    for (Event e : events) {
      boolean hit = alerts.stream().anyMatch(a -> e.stream().equals(a.streamId())
          && ruleObject.get(a.ruleId()).startsWith(e.object()) && overlaps(a.startMs(), a.endMs(), e.startMs(), e.endMs()));
      found += hit ? 1 : 0;
    }
    System.out.printf(Locale.ROOT, "%s: %d alerts, precision %d/%d = %.2f, recall %d/%d = %.2f%n", label, alerts.size(),
        right, alerts.size(), alerts.isEmpty() ? 0.0 : right / (double) alerts.size(), found, events.size(),
        found / (double) events.size());
  }

  static String stats(List<Double> xs) {
    if (xs.isEmpty()) {
      return "none";
    }
    List<Double> s = new ArrayList<>(xs);
    Collections.sort(s);
    return String.format(Locale.ROOT, "n %d, p50 %.1f s, max %.1f s, min %.1f s", s.size(), s.get((s.size() - 1) / 2),
        s.getLast(), s.getFirst());
  }

  static List<AlertRule> readRules(String bootstrap, Topics topics) {
    Map<String, AlertRule> out = new LinkedHashMap<>();
    for (ConsumerRecord<String, byte[]> r : readAll(bootstrap, topics.alertRules().name())) {
      if (r.value() == null) {
        out.remove(r.key());
      } else {
        out.put(r.key(), AlertRule.fromBytes(r.value()));
      }
    }
    return List.copyOf(out.values());
  }

  static List<ConsumerRecord<String, byte[]>> readAll(String bootstrap, String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = c.partitionsFor(topic).stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      var end = c.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }
}
