package dev.moments.indexer.stream;

import dev.moments.topics.MomentRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;

/**
 * The indexer's one topology, used by {@link IndexerService} and by the tests: features (read as
 * raw bytes, so that no record can fail deserialization) go through the {@link
 * WindowingProcessor}, which keeps each stream's last window in a persistent store and runs the
 * model when a window completes; moments go to the moments topic, rejected features to the
 * dead-letter topic.
 */
public final class IndexerTopology {
  /** Store of the features of each stream's current window, keyed by {@link FeatureKeys}. */
  public static final String FEATURES_STORE = "indexer-features";
  /** Store of each stream's {@link StreamMeta}, keyed by stream id. */
  public static final String META_STORE = "indexer-streams";

  private IndexerTopology() {}

  /** Adds the indexer to {@code builder} and returns the built topology. */
  public static Topology build(StreamsBuilder builder, IndexerConfig cfg, IndexerModel model) {
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(FEATURES_STORE), Serdes.Bytes(), Serdes.ByteArray()));
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(META_STORE), Serdes.String(), Serdes.ByteArray()));
    KStream<byte[], byte[]> features = builder.stream(cfg.topics().features().name(),
        Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("features"));
    KStream<byte[], IndexerOutput> out = features.process(
        () -> new WindowingProcessor(cfg, model), Named.as("windowing"), FEATURES_STORE,
        META_STORE);
    // A retraction is a null value; its window id travels in the record's retract-window header.
    out.filter((k, v) -> v instanceof IndexerOutput.Moment || v instanceof IndexerOutput.Retraction,
            Named.as("moments-only"))
        .mapValues(v -> v instanceof IndexerOutput.Moment m ? m.record() : null,
            Named.as("moment-value"))
        .to(cfg.topics().moments().name(),
            Produced.with(Serdes.ByteArray(), MomentRecord.serde()).withName("moments"));
    out.filter((k, v) -> v instanceof IndexerOutput.Dead, Named.as("dead-only"))
        .mapValues(v -> ((IndexerOutput.Dead) v).value(), Named.as("dead-value"))
        .to(cfg.topics().deadLetter().name(),
            Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("dead-letter"));
    return builder.build();
  }
}
