package dev.moments.indexer.alerts;

import dev.moments.indexer.stream.ExactlyOnceApp;
import dev.moments.topics.DepartedProducers;
import dev.moments.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The alert matcher ({@link AlertsTopology}) as a running Kafka Streams application,
 * exactly-once v2: the fired-state updates, the alerts and the moments offsets of a task commit
 * in one transaction, so a crash anywhere neither loses nor doubles an alert. Instances with the
 * same application id ({@code <prefix>-alerts} by default) share the moments partitions; every
 * instance holds all rules. A failing stream thread is logged and replaced; a killed instance's
 * open transaction is aborted by the next one ({@link DepartedProducers}).
 */
public final class AlertsService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AlertsService.class);

  private final String bootstrap;
  private final Topics topics;
  private final String applicationId;
  private final Path stateDir;
  private final Properties overrides;
  private final AlertsConfig config;
  private final AlertsStats stats = new AlertsStats();
  private volatile ExactlyOnceApp app;

  /** The default application id of {@code topics}: {@code <prefix>-alerts}. */
  public static String defaultApplicationId(Topics topics) {
    return topics.prefix() + "-alerts";
  }

  public AlertsService(String bootstrap, Topics topics, Path stateDir) {
    this(bootstrap, topics, defaultApplicationId(topics), stateDir, new Properties());
  }

  /**
   * A matcher whose Kafka Streams properties are those of {@link #properties()} with {@code
   * overrides} on top (e.g. shorter session and transaction timeouts in tests).
   */
  public AlertsService(String bootstrap, Topics topics, String applicationId, Path stateDir,
      Properties overrides) {
    this(bootstrap, topics, applicationId, stateDir, overrides, AlertsConfig.DEFAULTS);
  }

  /** As above, ranking as {@code config} says. */
  public AlertsService(String bootstrap, Topics topics, String applicationId, Path stateDir,
      Properties overrides, AlertsConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.bootstrap = Objects.requireNonNull(bootstrap, "bootstrap");
    this.topics = Objects.requireNonNull(topics, "topics");
    this.applicationId = Objects.requireNonNull(applicationId, "applicationId");
    if (applicationId.isBlank()) {
      throw new IllegalArgumentException("application id must not be blank");
    }
    this.stateDir = Objects.requireNonNull(stateDir, "stateDir");
    this.overrides = (Properties) Objects.requireNonNull(overrides, "overrides").clone();
  }

  /** The Kafka Streams properties the service runs with. */
  public Properties properties() {
    Properties p = ExactlyOnceApp.properties(applicationId, bootstrap, stateDir);
    // a killed instance's partitions move after 6 s (the broker's minimum), not Kafka's 45 s
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1500);
    // an alert should leave soon after its moment: commit (and so make alerts visible to
    // read_committed readers) every 100 ms, the exactly-once default
    p.putAll(overrides);
    return p;
  }

  /** Builds the topology and starts the app; returns without waiting for it to be RUNNING. */
  public synchronized void start() {
    if (app != null) {
      throw new IllegalStateException("alerts service already started");
    }
    app = ExactlyOnceApp.start("alerts", bootstrap,
        AlertsTopology.build(new StreamsBuilder(), topics, config, stats, System::currentTimeMillis), properties(),
        (s, now) -> { });
    log.info("alerts {} started: {} + {} x {} -> {} ({} ranker, {} s horizon)", applicationId,
        topics.features().name(), topics.moments().name(), topics.alertRules().name(), topics.alerts().name(),
        config.ranker(), config.horizonSec());
  }

  /** The matcher's counters. */
  public AlertsStats stats() {
    return stats;
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

  /** Stops the app cleanly (commits, closes stores) and leaves the group. */
  @Override
  public synchronized void close() {
    if (app != null) {
      app.close();
      app = null;
    }
  }
}
