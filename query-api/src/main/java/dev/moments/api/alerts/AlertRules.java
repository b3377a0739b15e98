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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The server's view of the alert rules: the compacted {@code <prefix>.alert-rules} topic, read
 * from the beginning by an {@link AlertRuleCache} (so a restarted server, and every other server
 * instance, sees the same rules; the same view serves the HTTP routes and the webhook delivery),
 * written by {@link #put} and {@link #delete} (acks=all, the call returns once the broker has the
 * record and the view has read up to it: a caller reads its own write).
 *
 * <p>{@link #inMemory()} keeps the rules in this process only (tests).
 */
public class AlertRules implements AutoCloseable {
  /** How long a write may wait for the broker before it fails. */
  public static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);

  private final Map<String, AlertRule> memory = new HashMap<>();
  private final String topic;
  private final KafkaProducer<String, byte[]> producer;
  private final AlertRuleCache cache;
  private final AtomicBoolean closed = new AtomicBoolean();

  private AlertRules(String bootstrap, Topics topics) {
    this.topic = topics.alertRules().name();
    if (bootstrap == null) {
      producer = null;
      cache = null;
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
    cache = new AlertRuleCache(bootstrap, topic).start();
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
   * Waits up to {@code timeout} until the view holds every rule that was on the topic when this
   * was called.
   *
   * @return true when loaded
   */
  public boolean awaitLoaded(Duration timeout) throws InterruptedException {
    if (cache == null) {
      return true;
    }
    try {
      sync().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException("the alert rules cannot be read: " + e.getCause().getMessage(), e);
    }
  }

  /**
   * Completes once the view has read everything the topic holds now (at once in memory; fails when
   * the view stops first).
   */
  public CompletableFuture<Void> sync() {
    return cache == null ? CompletableFuture.completedFuture(null) : cache.sync();
  }

  /** The reader loop's state, for {@code /health}. */
  public LoopHealth.Status health() {
    return cache == null ? new LoopHealth("alert-rules").status() : cache.health();
  }

  /** The rules of {@code owner}, oldest first. */
  public List<AlertRule> of(String owner) {
    List<AlertRule> out = new ArrayList<>();
    for (AlertRule r : all()) {
      if (r.owner().equals(owner)) {
        out.add(r);
      }
    }
    out.sort(Comparator.comparingLong(AlertRule::createdMs).thenComparing(AlertRule::id));
    return out;
  }

  /** The rule {@code id}, if any. */
  public Optional<AlertRule> get(String id) {
    if (cache != null) {
      return cache.get(id);
    }
    synchronized (memory) {
      return Optional.ofNullable(memory.get(id));
    }
  }

  /** Every rule (for whoever matches or delivers them). */
  public List<AlertRule> all() {
    if (cache != null) {
      return cache.all();
    }
    synchronized (memory) {
      return List.copyOf(memory.values());
    }
  }

  /**
   * Writes {@code rule} to the topic and returns once the broker acknowledged it (all in-sync
   * replicas) and this view has read it.
   *
   * @throws Unavailable when the broker did not take it within {@link #WRITE_TIMEOUT}
   */
  public void put(AlertRule rule) {
    write(rule.id(), rule);
  }

  /** Deletes rule {@code id} (a tombstone on the topic), acknowledged as {@link #put}. */
  public void delete(String id) {
    write(id, null);
  }

  private void write(String id, AlertRule rule) {
    if (producer == null) {
      synchronized (memory) {
        if (rule == null) {
          memory.remove(id);
        } else {
          memory.put(id, rule);
        }
      }
      return;
    }
    try {
      producer.send(new ProducerRecord<>(topic, id, rule == null ? null : rule.toBytes()))
          .get(WRITE_TIMEOUT.toMillis() + 2000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while writing alert rule " + id);
    } catch (ExecutionException | TimeoutException | KafkaException e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      throw new Unavailable("could not write alert rule " + id + " to " + topic + " (broker unreachable?): "
          + cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
    }
    // Stored; wait (bounded) until this view has read it, so the caller's next GET shows it.
    try {
      cache.sync().get(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // stored all the same: the view shows it once its loop reads that far
    }
  }

  /** A write the broker did not acknowledge: the rule is not stored (HTTP 503). */
  public static final class Unavailable extends RuntimeException {
    Unavailable(String message) {
      super(message);
    }
  }

  @Override
  public void close() {
    if (closed.getAndSet(true) || producer == null) {
      return;
    }
    cache.close();
    producer.close(Duration.ofSeconds(5));
  }
}
