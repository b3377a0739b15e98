package dev.moments.indexer.alerts;

import dev.moments.topics.AlertRecord;
import dev.moments.topics.AlertRule;
import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.LongSupplier;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The alert matcher's topology: {@code <prefix>.alert-rules} (compacted) fills a global store of
 * the rules on every instance (read from the beginning at start-up, before any moment is
 * matched); {@code <prefix>.features} and {@code <prefix>.moments} (key stream id, read as bytes
 * so that no record fails deserialization; one source, so partition p of both goes to one task)
 * go through the {@link AlertMatcher}, which keeps each stream's recent frame evidence and
 * moments, the streams due for evaluation and the last alert per (rule, stream) in persistent
 * stores (changelogged; the stream id is the key of both inputs, so this state lives with the
 * stream's partition); alerts go to {@code <prefix>.alerts}, key stream id.
 *
 * <p>A rule applies from the first ranking after the rule reached the matcher: a rule made while
 * the matcher lags also sees the lagging windows; the matcher never goes back to windows it has
 * already ranked (a restart resumes at its committed offsets and state).
 */
public final class AlertsTopology {
  /** Global store: rule id -> the rule's JSON (only records that decode as rules). */
  public static final String RULES_STORE = "alerts-rules";
  /** The last alert of each (rule, stream): key {@link AlertSuppression#key}, value its bytes. */
  public static final String FIRED_STORE = "alerts-fired";
  /** Each stream's recent per-second frame evidence ({@link AlertEvidence}). */
  public static final String EVIDENCE_STORE = "alerts-evidence";
  /** The moments still in each stream's horizon: key stream NUL moment id, value the record. */
  public static final String MOMENTS_STORE = "alerts-moments";
  /** Streams with moments not yet evaluated: key stream id, value the newest window id. */
  public static final String DUE_STORE = "alerts-due";

  private AlertsTopology() {}

  /** Adds the matcher to {@code builder} and returns the built topology. */
  public static Topology build(StreamsBuilder builder, Topics topics, AlertsStats stats, LongSupplier clock) {
    return build(builder, topics, AlertsConfig.DEFAULTS, stats, clock);
  }

  /** Adds the matcher, ranking as {@code config} says, to {@code builder}; returns the topology. */
  public static Topology build(StreamsBuilder builder, Topics topics, AlertsConfig config, AlertsStats stats,
      LongSupplier clock) {
    builder.addGlobalStore(
        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(RULES_STORE), Serdes.String(),
            Serdes.ByteArray()).withLoggingDisabled(),
        topics.alertRules().name(),
        Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("alert-rules"),
        () -> new RuleLoader(stats));
    for (String store : List.of(FIRED_STORE, EVIDENCE_STORE, MOMENTS_STORE, DUE_STORE)) {
      builder.addStateStore(Stores.keyValueStoreBuilder(
          Stores.persistentKeyValueStore(store), Serdes.String(), Serdes.ByteArray()));
    }
    builder.stream(List.of(topics.features().name(), topics.moments().name()),
            Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("features-and-moments"))
        .process(() -> new AlertMatcher(topics, config, stats, clock), Named.as("match"), FIRED_STORE,
            EVIDENCE_STORE, MOMENTS_STORE, DUE_STORE)
        .to(topics.alerts().name(), Produced.with(Serdes.String(), AlertRecord.serde()).withName("alerts"));
    return builder.build();
  }

  /** Keeps the global rules store equal to the compacted topic: a rule upserts, null deletes. */
  static final class RuleLoader implements Processor<byte[], byte[], Void, Void> {
    private static final Logger log = LoggerFactory.getLogger(RuleLoader.class);
    private final AlertsStats stats;
    private KeyValueStore<String, byte[]> store;

    RuleLoader(AlertsStats stats) {
      this.stats = stats;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      store = context.getStateStore(RULES_STORE);
    }

    @Override
    public void process(Record<byte[], byte[]> r) {
      if (r.key() == null) {
        stats.badRules.incrementAndGet();
        log.warn("skipping a record of the rules topic without a key");
        return;
      }
      String id = new String(r.key(), StandardCharsets.UTF_8);
      if (r.value() == null) {
        store.delete(id);
        log.info("alert rule {} deleted", id);
        return;
      }
      try {
        AlertRule rule = AlertRule.fromBytes(r.value());
        if (!rule.id().equals(id)) {
          throw new IllegalArgumentException("its id " + rule.id() + " is not its key");
        }
        store.put(id, r.value());
        log.info("alert rule {}: '{}' minScore {} cooldown {} ms streams {}", id, rule.q(),
            rule.minScore(), rule.cooldownMs(), rule.streams().isEmpty() ? "all" : rule.streams());
      } catch (IllegalArgumentException e) {
        stats.badRules.incrementAndGet();
        store.delete(id); // a broken version of a rule is no rule: stop matching the old one
        log.warn("skipping record {} of the rules topic: {}", id, e.getMessage());
      }
    }
  }
}
