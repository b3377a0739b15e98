package dev.moments.api.alerts;

import dev.moments.topics.AlertRecord;
import dev.moments.topics.LoopHealth;
import dev.moments.topics.TopicPartitions;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the alerts topic live for this server's Server-Sent Events: every server reads every
 * partition itself (assigned, no consumer group, nothing committed), {@code read_committed} (an
 * alert of an aborted matcher transaction is never shown), starting at the end it finds when it
 * starts: alerts written before this server started are not streamed (a page shows what happens
 * while it is open). Partitions added later, and a topic that did not exist at start, are read
 * from their beginning. Each alert goes to {@code sink} ({@link AlertHub#publish}); a value that
 * is not an alert is logged and skipped. Survives broker outages with {@link LoopHealth}.
 */
public final class AlertFeed implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AlertFeed.class);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
  private static final long REFRESH_MS = 5000;

  private final String topic;
  private final KafkaConsumer<String, byte[]> consumer;
  private final Consumer<AlertRecord> sink;
  private final LoopHealth health = new LoopHealth("alerts-feed");
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CountDownLatch positioned = new CountDownLatch(1);
  private final Thread thread;
  private List<TopicPartition> assigned = List.of();
  private boolean firstLook = true;
  private long nextRefresh;

  public AlertFeed(String bootstrap, String topic, Consumer<AlertRecord> sink) {
    this.topic = topic;
    this.sink = sink;
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "moments-api-alerts-feed");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
    this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    this.thread = new Thread(this::loop, "alerts-feed");
    this.thread.setDaemon(true);
  }

  public AlertFeed start() {
    thread.start();
    return this;
  }

  /** The loop's state, for {@code /health}. */
  public LoopHealth.Status health() {
    return health.status();
  }

  /** Waits until the feed has found the topic's end (alerts written after that are streamed). */
  public boolean awaitLive(Duration max) throws InterruptedException {
    return positioned.await(max.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void loop() {
    health.run(() -> !closed.get(), this::once);
  }

  private void once() {
    if (System.currentTimeMillis() >= nextRefresh) {
      refresh();
      nextRefresh = System.currentTimeMillis() + REFRESH_MS;
    }
    if (assigned.isEmpty()) {
      LoopHealth.sleepWhile(Duration.ofMillis(500), () -> !closed.get());
      return;
    }
    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
      if (r.value() == null) {
        continue;
      }
      AlertRecord a;
      try {
        a = AlertRecord.fromBytes(r.value());
      } catch (IllegalArgumentException e) {
        LOG.warn("skipping {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
        continue;
      }
      sink.accept(a);
    }
  }

  private void refresh() {
    List<TopicPartition> added = TopicPartitions.assignNew(consumer, topic, CALL_TIMEOUT);
    if (!added.isEmpty()) {
      if (firstLook) {
        consumer.seekToEnd(added);
      } else {
        consumer.seekToBeginning(added);
      }
      for (TopicPartition tp : added) {
        consumer.position(tp, CALL_TIMEOUT); // resolves the seek now: "live" starts here
      }
      assigned = List.copyOf(consumer.assignment());
    }
    if (firstLook) {
      LOG.info("alerts feed of {} live from the end of {} partitions", topic, assigned.size());
    }
    firstLook = false;
    positioned.countDown();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      consumer.wakeup();
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (!thread.isAlive()) {
        consumer.close(Duration.ofSeconds(2));
      }
    }
  }
}
