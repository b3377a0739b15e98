package dev.moments.featurizer.service;

import dev.moments.topics.Topics;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link FeaturizerService}.
 *
 * @param bootstrap Kafka bootstrap servers
 * @param topics the topic names (frames in, features and dead letters out)
 * @param groupId the consumer group; instances with the same group share the frames partitions
 * @param maxBatch the most frames encoded in one batch (across streams)
 * @param maxWait how long the first frame of a partial batch waits for more
 * @param partitions partitions of topics created when missing
 * @param replication replication factor of topics created when missing
 * @param logEvery how often throughput is logged
 */
public record FeaturizerConfig(
    String bootstrap,
    Topics topics,
    String groupId,
    int maxBatch,
    Duration maxWait,
    int partitions,
    short replication,
    Duration logEvery) {
  public static final String DEFAULT_GROUP = "moments-featurizer";

  public FeaturizerConfig {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(topics, "topics");
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(maxWait, "maxWait");
    Objects.requireNonNull(logEvery, "logEvery");
    if (bootstrap.isBlank()) {
      throw new IllegalArgumentException("bootstrap servers must not be blank");
    }
    if (groupId.isBlank()) {
      throw new IllegalArgumentException("consumer group must not be blank");
    }
    if (maxBatch < 1) {
      throw new IllegalArgumentException("max batch must be >= 1, got " + maxBatch);
    }
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("max wait must be >= 0, got " + maxWait);
    }
    if (partitions < 1 || replication < 1) {
      throw new IllegalArgumentException("partitions and replication must be >= 1");
    }
  }

  /** The defaults: group {@code moments-featurizer}, batches of 32, 50 ms wait, 4 partitions. */
  public static FeaturizerConfig defaults(String bootstrap, Topics topics) {
    return new FeaturizerConfig(bootstrap, topics, DEFAULT_GROUP, 32, Duration.ofMillis(50), 4, (short) 1,
        Duration.ofSeconds(10));
  }

  public FeaturizerConfig withGroup(String group) {
    return new FeaturizerConfig(bootstrap, topics, group, maxBatch, maxWait, partitions, replication, logEvery);
  }

  public FeaturizerConfig withBatching(int batch, Duration wait) {
    return new FeaturizerConfig(bootstrap, topics, groupId, batch, wait, partitions, replication, logEvery);
  }

  public FeaturizerConfig withTopicLayout(int parts, short repl) {
    return new FeaturizerConfig(bootstrap, topics, groupId, maxBatch, maxWait, parts, repl, logEvery);
  }
}
