package dev.moments.api.alerts;

import dev.moments.topics.AlertRule;
import dev.moments.topics.LoopHealth;
import dev.moments.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's view of the alert rules: the compacted {@code <prefix>.alert-rules} topic, read
 * from the beginning by a background loop (so a restarted server, and every other server
 * instance, sees the same rules), written by {@link #put} and {@link #delete} (acks=all, the call
 * returns once the broker has the record).
 *
 * <p>A write is applied to this view at once, at the offset the broker gave it; the loop applies a
 * record of a rule only when it is at or after the offset last applied to that rule, so a slower
 * loop never brings back a rule this instance has deleted.
 *
 * <p>{@link #inMemory()} keeps the rules in this process only (tests).
 */
public class AlertRules implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AlertRules.class);
  /** How long a write may wait for the broker before it fails. */
  public static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);

  private final Map<String, AlertRule> rules = new HashMap<>();
  private final Map<String, Long> appliedOffset = new HashMap<>();
  private final CountDownLatch loaded = new CountDownLatch(1);
  private final AtomicBoolean closed = new AtomicBoolean();
  private final LoopHealth health = new LoopHealth("alert-rules");
  private final String topic;
  private final KafkaProducer<String, byte[]> producer;
  private final KafkaConsumer<String, byte[]> consumer;
  private final Thread loop;
  private long memoryOffset;

  private AlertRules(String bootstrap, Topics topics) {
    this.topic = topics.alertRules().name();
    if (bootstrap == null) {
      producer = null;
      consumer = null;
      loop = null;
      loaded.countDown();
      return;
    }
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "moments-api-alert-rules");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) WRITE_TIMEOUT.toMillis());
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) WRITE_TIMEOUT.toMillis() - 1000);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) WRITE_TIMEOUT.toMillis());
    producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "moments-api-alert-rules-reader");
    consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
    loop = new Thread(this::run, "alert-rules-reader");
    loop.setDaemon(true);
    loop.start();
  }

  /** The rules of {@code topics.alertRules()} on the cluster at {@code bootstrap}. */
  public static AlertRules kafka(String bootstrap, Topics topics) {
    return new AlertRules(Objects.requireNonNull(bootstrap, "bootstrap"), topics);
  }

  /** Rules kept in this process only (nothing matches them: tests of the HTTP layer). */
  public static AlertRules inMemory() {
    return new AlertRules(null, Topics.defaults());
  }

  /**
   * Waits up to {@code timeout} until the view holds every rule that was on the topic when it
   * started reading.
   *
   * @return true when loaded
   */
  public boolean awaitLoaded(Duration timeout) throws InterruptedException {
    return loaded.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The reader loop's state, for {@code /health}. */
  public LoopHealth.Status health() {
    return health.status();
  }

  /** The rules of {@code owner}, oldest first. */
  public synchronized List<AlertRule> of(String owner) {
    List<AlertRule> out = new ArrayList<>();
    for (AlertRule r : rules.values()) {
      if (r.owner().equals(owner)) {
        out.add(r);
      }
    }
    out.sort(Comparator.comparingLong(AlertRule::createdMs).thenComparing(AlertRule::id));
    return out;
  }

  /** The rule {@code id}, if any. */
  public synchronized Optional<AlertRule> get(String id) {
    return Optional.ofNullable(rules.get(id));
  }

  /** Every rule (for whoever matches or delivers them). */
  public synchronized List<AlertRule> all() {
    return List.copyOf(rules.values());
  }

  /**
   * Writes {@code rule} to the topic and returns once the broker acknowledged it (all in-sync
   * replicas).
   *
   * @throws IllegalStateException when the broker did not take it within {@link #WRITE_TIMEOUT}
   */
  public void put(AlertRule rule) {
    apply(rule.id(), rule, write(rule.id(), rule.toBytes()));
  }

  /** Deletes rule {@code id} (a tombstone on the topic), acknowledged as {@link #put}. */
  public void delete(String id) {
    apply(id, null, write(id, null));
  }

  private long write(String id, byte[] value) {
    if (producer == null) {
      synchronized (this) {
        return memoryOffset++;
      }
    }
    try {
      RecordMetadata md = producer.send(new ProducerRecord<>(topic, id, value))
          .get(WRITE_TIMEOUT.toMillis() + 2000, TimeUnit.MILLISECONDS);
      return md.offset();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while writing alert rule " + id);
    } catch (ExecutionException | TimeoutException | KafkaException e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      throw new Unavailable("could not write alert rule " + id + " to " + topic + " (broker unreachable?): "
          + cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
    }
  }

  /** A write the broker did not acknowledge: the rule is not stored (HTTP 503). */
  public static final class Unavailable extends RuntimeException {
    Unavailable(String message) {
      super(message);
    }
  }

  private synchronized void apply(String id, AlertRule rule, long offset) {
    Long last = appliedOffset.get(id);
    if (last != null && offset < last) {
      return; // an older version than one applied already
    }
    appliedOffset.put(id, offset);
    if (rule == null) {
      rules.remove(id);
    } else {
      rules.put(id, rule);
    }
  }

  private void run() {
    List<TopicPartition> assigned = List.of();
    Map<TopicPartition, Long> endAtStart = null;
    try {
      while (!closed.get()) {
        try {
          if (assigned.isEmpty()) {
            List<org.apache.kafka.common.PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(5));
            if (infos == null || infos.isEmpty()) {
              LoopHealth.sleepWhile(Duration.ofMillis(500), () -> !closed.get());
              continue;
            }
            assigned = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(assigned);
            consumer.seekToBeginning(assigned);
            endAtStart = consumer.endOffsets(assigned, Duration.ofSeconds(5));
          }
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
            if (r.key() == null) {
              continue;
            }
            AlertRule rule = null;
            if (r.value() != null) {
              try {
                rule = AlertRule.fromBytes(r.value());
              } catch (IllegalArgumentException e) {
                log.warn("skipping record {} at offset {} of {}: {}", r.key(), r.offset(), topic, e.getMessage());
                continue;
              }
            }
            apply(r.key(), rule, r.offset());
          }
          if (loaded.getCount() > 0 && endAtStart != null) {
            boolean done = true;
            for (Map.Entry<TopicPartition, Long> e : endAtStart.entrySet()) {
              done &= consumer.position(e.getKey(), Duration.ofSeconds(5)) >= e.getValue();
            }
            if (done) {
              loaded.countDown();
              log.info("alert rules of {} loaded: {} rules", topic, all().size());
            }
          }
          health.ok();
        } catch (WakeupException | InterruptException e) {
          if (!closed.get()) {
            health.stopped(e);
          }
          return;
        } catch (KafkaException e) {
          if (!health.backOff(e, () -> !closed.get())) {
            return;
          }
        }
      }
    } catch (RuntimeException | Error e) {
      health.stopped(e);
    }
  }

  @Override
  public void close() {
    if (closed.getAndSet(true) || loop == null) {
      return;
    }
    consumer.wakeup();
    try {
      loop.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!loop.isAlive()) {
      consumer.close(Duration.ofSeconds(2));
    }
    producer.close(Duration.ofSeconds(5));
  }
}
