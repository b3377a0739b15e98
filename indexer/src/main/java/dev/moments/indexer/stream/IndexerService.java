package dev.moments.indexer.stream;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The indexer as a running Kafka Streams application (exactly-once v2) over {@link
 * IndexerTopology}. Usable in-process: {@link #start()} returns once the app is started, {@link
 * #close()} shuts it down cleanly. A failing stream thread is logged and replaced.
 *
 * <p>Scale-out: instances with the same application id share the features partitions (Kafka
 * Streams' own task assignor). A killed instance's partitions move after the {@link
 * IndexerConfig#sessionTimeout() session timeout} (6 s by default); a closed one leaves the group
 * at once. Every state change, and the features partitions this instance owns once it runs, is
 * logged at INFO; {@link #partitionLags()} tells them with their lag.
 *
 * <p>NOTE: local state under the state directory is never wiped by this class; under
 * exactly-once Kafka Streams itself restores a store from its changelog when the local copy
 * might be dirty (e.g. after a crash).
 */
public final class IndexerService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IndexerService.class);

  private final String bootstrap;
  private final IndexerConfig cfg;
  private final IndexerModel model;
  private final Path stateDir;
  private final Properties overrides;
  private volatile ExactlyOnceApp app;
  /**
   * The owned partitions last logged (guarded by itself, not by this: the state listener runs on
   * stream threads that close() waits for while holding this).
   */
  private final Object ownershipLock = new Object();
  private Set<Integer> loggedOwned = Set.of();

  public IndexerService(String bootstrap, IndexerConfig cfg, IndexerModel model, Path stateDir) {
    this(bootstrap, cfg, model, stateDir, new Properties());
  }

  /**
   * An indexer whose Kafka Streams properties are the defaults of {@link #properties()} with
   * {@code overrides} applied on top (e.g. shorter session and transaction timeouts in tests).
   */
  public IndexerService(String bootstrap, IndexerConfig cfg, IndexerModel model, Path stateDir,
      Properties overrides) {
    this.bootstrap = Objects.requireNonNull(bootstrap, "bootstrap");
    this.cfg = Objects.requireNonNull(cfg, "cfg");
    this.model = Objects.requireNonNull(model, "model");
    this.stateDir = Objects.requireNonNull(stateDir, "stateDir");
    this.overrides = (Properties) Objects.requireNonNull(overrides, "overrides").clone();
  }

  /** The Kafka Streams properties the service runs with. */
  public Properties properties() {
    Properties p = ExactlyOnceApp.properties(cfg.applicationId(), bootstrap, stateDir);
    // Model inference over a long window can take seconds; keep transactions alive through it.
    p.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), 60_000);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), 8 * 1024 * 1024);
    // Failover: a killed instance's tasks move after the session timeout (Kafka's default 45 s).
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), (int) cfg.sessionTimeout().toMillis());
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG),
        (int) cfg.heartbeatInterval().toMillis());
    p.putAll(overrides);
    return p;
  }

  /** Builds the topology and starts the app; returns without waiting for it to be RUNNING. */
  public synchronized void start() {
    if (app != null) {
      throw new IllegalStateException("indexer already started");
    }
    app = ExactlyOnceApp.start("indexer", bootstrap, IndexerTopology.build(new StreamsBuilder(), cfg, model),
        properties(), (s, now) -> {
          if (now == KafkaStreams.State.RUNNING || now == KafkaStreams.State.NOT_RUNNING
              || now == KafkaStreams.State.ERROR) {
            logOwnership(s);
          }
        });
    log.info("indexer {} started: window {} hop {} idle flush {} lateness {} model {}",
        cfg.applicationId(), cfg.window(), cfg.hop(), cfg.idleFlush(), cfg.lateness(),
        model.modelId());
  }

  /**
   * The features partitions this instance processes (its active tasks), in order, each with its
   * lag (records behind the end of the partition, read_committed) from the consumer's {@code
   * records-lag} metric; empty when not known yet. Empty before {@link #start()}, while the app
   * neither runs nor rebalances, and after {@link #close()}.
   */
  public Map<TopicPartition, OptionalLong> partitionLags() {
    ExactlyOnceApp a = app;
    if (a == null) {
      return Map.of();
    }
    KafkaStreams s = a.streams();
    Set<TopicPartition> owned = owned(s);
    if (owned.isEmpty()) {
      return Map.of();
    }
    // consumer metric tags name the topic with '.' replaced by '_'
    Map<String, Double> lagByName = new HashMap<>();
    for (Map.Entry<MetricName, ? extends Metric> e : s.metrics().entrySet()) {
      MetricName n = e.getKey();
      if (n.name().equals("records-lag") && n.group().equals("consumer-fetch-manager-metrics")
          && n.tags().containsKey("topic") && n.tags().containsKey("partition")) {
        Object v = e.getValue().metricValue();
        if (v instanceof Double d && !d.isNaN()) {
          lagByName.put(n.tags().get("topic") + "-" + n.tags().get("partition"), d);
        }
      }
    }
    Map<TopicPartition, OptionalLong> out = new LinkedHashMap<>();
    for (TopicPartition tp : owned) {
      Double lag = lagByName.get(tp.topic().replace('.', '_') + "-" + tp.partition());
      out.put(tp, lag == null ? OptionalLong.empty() : OptionalLong.of(Math.round(lag)));
    }
    return Collections.unmodifiableMap(out);
  }

  /** The features partitions of the active tasks of {@code s}; empty when it does not run. */
  private Set<TopicPartition> owned(KafkaStreams s) {
    Set<TopicPartition> owned = new TreeSet<>(
        Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
    try {
      for (ThreadMetadata t : s.metadataForLocalThreads()) {
        for (TaskMetadata task : t.activeTasks()) {
          for (TopicPartition tp : task.topicPartitions()) {
            if (tp.topic().equals(cfg.topics().features().name())) {
              owned.add(tp);
            }
          }
        }
      }
    } catch (IllegalStateException e) {
      return Set.of(); // not running (created, shutting down, failed)
    }
    return owned;
  }

  /** Logs the owned partitions when they changed since the last time. */
  private void logOwnership(KafkaStreams s) {
    Set<Integer> now = owned(s).stream().map(TopicPartition::partition)
        .collect(Collectors.toCollection(TreeSet::new));
    synchronized (ownershipLock) {
      if (!now.equals(loggedOwned)) {
        log.info("indexer {}: owns {} of {} now (was {})", cfg.applicationId(),
            now.isEmpty() ? "no partition" : "partitions " + now, cfg.topics().features().name(),
            loggedOwned.isEmpty() ? "none" : loggedOwned);
        loggedOwned = now;
      }
    }
  }

  /** The app's state, or null before {@link #start()}. */
  public KafkaStreams.State state() {
    ExactlyOnceApp a = app;
    return a == null ? null : a.state();
  }

  /** Blocks until the app is RUNNING or the timeout passes; true when running (false before start). */
  public boolean awaitRunning(Duration timeout) throws InterruptedException {
    ExactlyOnceApp a = app;
    return a != null && a.awaitRunning(timeout);
  }

  /**
   * Stops the app cleanly (commits, closes stores) and leaves the consumer group, so that the
   * next start (or another instance) gets the partitions at once instead of waiting out this
   * member's session timeout in a rebalance.
   */
  @Override
  public synchronized void close() {
    if (app != null) {
      app.close();
      app = null;
    }
  }
}
