package dev.moments.app;

import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads the features topic (read_committed): per stream, the features and their timestamps, and the marks. */
final class FeaturesReader implements AutoCloseable {
  final Map<String, java.util.concurrent.atomic.AtomicInteger> counts = new ConcurrentHashMap<>();
  /** End-of-stream marks per stream (not counted as features). */
  final Map<String, java.util.concurrent.atomic.AtomicInteger> marks = new ConcurrentHashMap<>();
  final Map<String, Set<Long>> timestamps = new ConcurrentHashMap<>();
  final AtomicBoolean reading = new AtomicBoolean(true);
  final Thread thread;

  FeaturesReader(String bootstrap, Topics topics) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.GROUP_ID_CONFIG, topics.prefix() + "-test-features-reader");
    p.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 1000); // partitions added while it reads
    thread = new Thread(() -> {
      try (KafkaConsumer<byte[], byte[]> c =
          new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        c.subscribe(List.of(topics.features().name()));
        while (reading.get()) {
          for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(50))) {
            String stream = new String(r.key(), StandardCharsets.UTF_8);
            if (Topics.isEndOfStream(r.headers())) {
              marks.computeIfAbsent(stream, k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
              continue;
            }
            timestamps.computeIfAbsent(stream, k -> ConcurrentHashMap.newKeySet()).add(r.timestamp());
            counts.computeIfAbsent(stream, k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
          }
        }
      }
    }, "features-reader");
    thread.setDaemon(true);
    thread.start();
  }

  int count(String stream) {
    var c = counts.get(stream);
    return c == null ? 0 : c.get();
  }

  Set<Long> timestamps(String stream) {
    return timestamps.getOrDefault(stream, Set.of());
  }

  long newest(String stream) {
    return timestamps(stream).stream().mapToLong(Long::longValue).max().orElse(Long.MIN_VALUE);
  }

  @Override
  public void close() throws InterruptedException {
    reading.set(false);
    thread.join(10_000);
  }
}

