package dev.moments.app;

import dev.moments.broker.Patience;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads the moments topic (read_committed) as any client would: standing moments, windows seen. */
final class MomentsReader implements AutoCloseable {
  final Map<String, MomentRecord> standing = new ConcurrentHashMap<>();
  final Map<String, Set<String>> windowsByStream = new ConcurrentHashMap<>();
  final AtomicBoolean reading = new AtomicBoolean(true);
  final Thread thread;
  final Topics topics;

  MomentsReader(String bootstrap, Topics topics) {
    this.topics = topics;
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.GROUP_ID_CONFIG, topics.prefix() + "-test-moments-reader");
    thread = new Thread(() -> {
      try (KafkaConsumer<byte[], byte[]> c =
          new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        c.subscribe(List.of(topics.moments().name()));
        while (reading.get()) {
          for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(50))) {
            if (r.value() == null) {
              String w = new String(r.headers().lastHeader(Topics.HEADER_RETRACT_WINDOW).value(),
                  StandardCharsets.UTF_8);
              standing.values().removeIf(m -> m.windowId().equals(w));
            } else {
              MomentRecord m = MomentRecord.fromBytes(r.value());
              standing.put(m.momentId(), m);
              windowsByStream.computeIfAbsent(m.streamId(), k -> ConcurrentHashMap.newKeySet()).add(m.windowId());
            }
          }
        }
      }
    }, "moments-reader-" + topics.prefix());
    thread.setDaemon(true);
    thread.start();
  }

  Set<String> windows(String stream) {
    return windowsByStream.getOrDefault(stream, Set.of());
  }

  /** Waits until each of {@code windowIds} (stream -> window id) stands; returns the standing moments. */
  Map<String, MomentRecord> awaitWindows(Map<String, String> windowIds) throws InterruptedException {
    Patience.await("the windows " + windowIds.values() + " of " + topics.prefix(), Duration.ofMillis(100),
        () -> windowIds.values().stream()
            .allMatch(w -> standing.values().stream().anyMatch(m -> m.windowId().equals(w))));
    return new TreeMap<>(standing);
  }

  @Override
  public void close() throws InterruptedException {
    reading.set(false);
    thread.join(10_000);
  }
}
