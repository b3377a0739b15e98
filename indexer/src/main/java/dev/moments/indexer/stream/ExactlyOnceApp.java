package dev.moments.indexer.stream;

import dev.moments.topics.DepartedProducers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import java.util.function.BiConsumer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka Streams app run the way every Moments stream service runs (the indexer, the alert
 * matcher): exactly-once v2, a failed stream thread replaced, and on each rebalance the open
 * transactions of departed (killed) instances aborted ({@link DepartedProducers}), since they
 * would hold back every read_committed reader of their partitions. {@link #close()} leaves the
 * consumer group, so that the next start (or another instance) gets the partitions at once.
 */
public final class ExactlyOnceApp implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ExactlyOnceApp.class);

  private final String applicationId;
  private final KafkaStreams streams;
  private final DepartedProducers fencer;

  /**
   * The properties every such app starts from: application id, bootstrap, state directory,
   * exactly-once v2, byte-array default serdes, the processing exception handler for global state.
   */
  public static Properties properties(String applicationId, String bootstrap, Path stateDir) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toAbsolutePath().toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    // the 5.0 default now; silences Streams' start-up nag about it
    p.put("processing.exception.handler.global.enabled", true);
    p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    return p;
  }

  /**
   * Starts {@code topology}; returns without waiting for it to be RUNNING.
   *
   * @param what the service's name in log lines ("indexer", "alerts")
   * @param onState called after each state change (the new state), after the fencing
   */
  public static ExactlyOnceApp start(String what, String bootstrap, Topology topology, Properties props,
      BiConsumer<KafkaStreams, KafkaStreams.State> onState) {
    return new ExactlyOnceApp(what, bootstrap, topology, props, onState);
  }

  private ExactlyOnceApp(String what, String bootstrap, Topology topology, Properties props,
      BiConsumer<KafkaStreams, KafkaStreams.State> onState) {
    this.applicationId = props.getProperty(StreamsConfig.APPLICATION_ID_CONFIG);
    KafkaStreams s = new KafkaStreams(topology, props);
    DepartedProducers f = new DepartedProducers(bootstrap, applicationId, () -> self(s), what);
    s.setUncaughtExceptionHandler(e -> {
      log.error("{} stream thread failed; replacing it", what, e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    s.setStateListener((now, before) -> {
      log.info("{} {}: {} -> {}", what, applicationId, before, now);
      if (now == KafkaStreams.State.REBALANCING) {
        // tasks may have come from a killed instance: abort its open transaction, which would
        // hold back every read_committed reader of its partitions (and this instance's restore)
        f.request();
      }
      onState.accept(s, now);
    });
    s.start();
    this.streams = s;
    this.fencer = f;
  }

  /** The running app. */
  public KafkaStreams streams() {
    return streams;
  }

  /** The app's state. */
  public KafkaStreams.State state() {
    return streams.state();
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

  /** This instance's process id (the UUID in its client and transactional ids), when it runs. */
  private Optional<String> self(KafkaStreams s) {
    try {
      for (ThreadMetadata t : s.metadataForLocalThreads()) {
        Optional<String> id = DepartedProducers.instance(applicationId, t.consumerClientId());
        if (id.isPresent()) {
          return id;
        }
      }
    } catch (IllegalStateException e) {
      // not running
    }
    return Optional.empty();
  }

  /** Stops the app cleanly (commits, closes stores) and leaves the consumer group. */
  @Override
  public void close() {
    streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
        .withTimeout(Duration.ofSeconds(30)));
    fencer.close();
  }
}
