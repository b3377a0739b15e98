package dev.moments.indexer.stream;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The indexer as a running Kafka Streams application (exactly-once v2) over {@link
 * IndexerTopology}. Usable in-process: {@link #start()} returns once the app is started, {@link
 * #close()} shuts it down cleanly. A failing stream thread is logged and replaced.
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
  private KafkaStreams streams;

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
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, cfg.applicationId());
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toAbsolutePath().toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    // the 5.0 default now (no global stores here); silences Streams' start-up nag about it
    p.put("processing.exception.handler.global.enabled", true);
    p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    // Model inference over a long window can take seconds; keep transactions alive through it.
    p.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), 60_000);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), 8 * 1024 * 1024);
    p.putAll(overrides);
    return p;
  }

  /** Builds the topology and starts the app; returns without waiting for it to be RUNNING. */
  public synchronized void start() {
    if (streams != null) {
      throw new IllegalStateException("indexer already started");
    }
    StreamsBuilder builder = new StreamsBuilder();
    KafkaStreams s = new KafkaStreams(IndexerTopology.build(builder, cfg, model), properties());
    s.setUncaughtExceptionHandler(e -> {
      log.error("indexer stream thread failed; replacing it", e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    s.start();
    streams = s;
    log.info("indexer {} started: window {} hop {} idle flush {} lateness {} model {}",
        cfg.applicationId(), cfg.window(), cfg.hop(), cfg.idleFlush(), cfg.lateness(),
        model.modelId());
  }

  /** The app's state, or null before {@link #start()}. */
  public synchronized KafkaStreams.State state() {
    return streams == null ? null : streams.state();
  }

  /** Blocks until the app is RUNNING or the timeout passes; true when running. */
  public boolean awaitRunning(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (state() == KafkaStreams.State.RUNNING) {
        return true;
      }
      Thread.sleep(50);
    }
    return state() == KafkaStreams.State.RUNNING;
  }

  /**
   * Stops the app cleanly (commits, closes stores) and leaves the consumer group, so that the
   * next start (or another instance) gets the partitions at once instead of waiting out this
   * member's session timeout in a rebalance.
   */
  @Override
  public synchronized void close() {
    if (streams != null) {
      streams.close(org.apache.kafka.streams.CloseOptions
          .groupMembershipOperation(org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
          .withTimeout(Duration.ofSeconds(30)));
      streams = null;
    }
  }
}
