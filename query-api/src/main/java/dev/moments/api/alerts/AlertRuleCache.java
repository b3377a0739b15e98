package dev.moments.api.alerts;

import dev.moments.topics.AlertRule;
import dev.moments.topics.LoopHealth;
import dev.moments.topics.TopicPartitions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The alert rules as a map id → rule, read from the compacted rules topic (every partition from
 * the beginning, assigned, no consumer group, {@code read_committed}); a null value (tombstone)
 * deletes the rule: the read side of {@link AlertRules}, which the HTTP routes and the webhook
 * delivery (each alert's rule: its URL and secret) ask.
 *
 * <p>{@link #sync()} answers once the cache has read everything the topic held when it was
 * called: an alert's rule was written before the alert, so after a sync an unknown rule id means
 * the rule was deleted.
 */
final class AlertRuleCache implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AlertRuleCache.class);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
  private static final long REFRESH_MS = 5000;

  private final String topic;
  private final KafkaConsumer<String, byte[]> consumer;
  private final Map<String, AlertRule> rules = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<CompletableFuture<Void>> syncRequests = new ConcurrentLinkedQueue<>();
  private final List<Target> targets = new ArrayList<>();
  private final LoopHealth health = new LoopHealth("alert-rules");
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread thread;
  private List<TopicPartition> assigned = List.of();
  private long nextRefresh;

  private record Target(Map<TopicPartition, Long> ends, List<CompletableFuture<Void>> waiting) {}

  AlertRuleCache(String bootstrap, String topic) {
    this.topic = topic;
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "moments-api-alert-rules");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    this.thread = new Thread(this::loop, "alert-rules");
    this.thread.setDaemon(true);
  }

  public AlertRuleCache start() {
    thread.start();
    return this;
  }

  /** The rule of that id as last read, or empty (unknown or deleted). */
  public Optional<AlertRule> get(String id) {
    return Optional.ofNullable(rules.get(id));
  }

  /** Every rule held now. */
  public List<AlertRule> all() {
    return List.copyOf(rules.values());
  }

  /** Rules held now. */
  public int size() {
    return rules.size();
  }

  /** Completes once everything the topic holds now has been read (fails when the cache closes first). */
  public CompletableFuture<Void> sync() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    syncRequests.add(f);
    if (closed.get()) {
      f.completeExceptionally(new IllegalStateException("the alert rule cache is closed"));
    }
    return f;
  }

  /** The loop's state, for {@code /health}. */
  public LoopHealth.Status health() {
    return health.status();
  }

  private void loop() {
    try {
      health.run(() -> !closed.get(), this::once);
    } finally {
      failWaiting();
    }
  }

  private void once() {
    boolean asked = !syncRequests.isEmpty();
    if (asked || System.currentTimeMillis() >= nextRefresh) {
      refresh();
      nextRefresh = System.currentTimeMillis() + REFRESH_MS;
    }
    if (asked) {
      // Drained before the end offsets are asked for, so each request's target is at or after it.
      List<CompletableFuture<Void>> waiting = new ArrayList<>();
      for (CompletableFuture<Void> f; (f = syncRequests.poll()) != null; ) {
        waiting.add(f);
      }
      try {
        targets.add(new Target(assigned.isEmpty() ? Map.of() : new HashMap<>(consumer.endOffsets(assigned, CALL_TIMEOUT)),
            waiting));
      } catch (RuntimeException e) {
        syncRequests.addAll(waiting); // asked again at the next iteration
        throw e;
      }
    }
    if (!assigned.isEmpty()) {
      for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(targets.isEmpty() ? 500 : 50))) {
        apply(r);
      }
    } else if (targets.isEmpty()) {
      LoopHealth.sleepWhile(Duration.ofMillis(200), () -> !closed.get() && syncRequests.isEmpty());
    }
    for (var it = targets.iterator(); it.hasNext(); ) {
      Target t = it.next();
      if (reached(t.ends())) {
        t.waiting().forEach(f -> f.complete(null));
        it.remove();
      }
    }
  }

  private boolean reached(Map<TopicPartition, Long> ends) {
    for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
      if (consumer.position(e.getKey(), CALL_TIMEOUT) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private void apply(ConsumerRecord<String, byte[]> r) {
    if (r.key() == null) {
      return;
    }
    if (r.value() == null) {
      rules.remove(r.key());
      return;
    }
    try {
      AlertRule rule = AlertRule.fromBytes(r.value());
      rules.put(r.key(), rule);
    } catch (IllegalArgumentException e) {
      LOG.warn("skipping {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
    }
  }

  private void refresh() {
    List<TopicPartition> added = TopicPartitions.assignNew(consumer, topic, CALL_TIMEOUT);
    if (!added.isEmpty()) {
      consumer.seekToBeginning(added);
      assigned = List.copyOf(consumer.assignment());
    }
  }

  private void failWaiting() {
    IllegalStateException e = new IllegalStateException("the alert rule cache stopped");
    targets.forEach(t -> t.waiting().forEach(f -> f.completeExceptionally(e)));
    targets.clear();
    for (CompletableFuture<Void> f; (f = syncRequests.poll()) != null; ) {
      f.completeExceptionally(e);
    }
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
      failWaiting();
    }
  }
}
