package dev.moments.featurizer.service;

import dev.moments.topics.TopicAdmin;
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
 * @param sessionTimeout how long the group waits for a silent (killed) instance before its
 *     partitions go to the others: the consumer's {@code session.timeout.ms}; the broker accepts
 *     {@code group.min.session.timeout.ms} (6 s by default) and more
 * @param heartbeatInterval how often an instance tells the group it lives ({@code
 *     heartbeat.interval.ms}, from a background thread, so a long batch does not count); a third
 *     of the session timeout or less
 */
public record FeaturizerConfig(
    String bootstrap,
    Topics topics,
    String groupId,
    int maxBatch,
    Duration maxWait,
    int partitions,
    short replication,
    Duration logEvery,
    Duration sessionTimeout,
    Duration heartbeatInterval) {
  public static final String DEFAULT_GROUP = "moments-featurizer";
  /**
   * 6 s: the broker's default {@code group.min.session.timeout.ms}, the shortest it accepts. A
   * killed instance's partitions move after this (Kafka's 45 s default made failover take 45 s).
   */
  public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(6);
  /** 1.5 s: four heartbeats per session timeout, so one lost heartbeat never ends a session. */
  public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofMillis(1500);

  public FeaturizerConfig {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(topics, "topics");
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(maxWait, "maxWait");
    Objects.requireNonNull(logEvery, "logEvery");
    Objects.requireNonNull(sessionTimeout, "sessionTimeout");
    Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
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
    if (heartbeatInterval.toMillis() < 1 || heartbeatInterval.compareTo(sessionTimeout) >= 0) {
      throw new IllegalArgumentException("heartbeat interval must be at least 1 ms and shorter than the session "
          + "timeout (" + sessionTimeout.toMillis() + " ms), got " + heartbeatInterval.toMillis() + " ms");
    }
  }

  /** Settings with the default session timeout and heartbeat interval. */
  public FeaturizerConfig(String bootstrap, Topics topics, String groupId, int maxBatch, Duration maxWait,
      int partitions, short replication, Duration logEvery) {
    this(bootstrap, topics, groupId, maxBatch, maxWait, partitions, replication, logEvery,
        DEFAULT_SESSION_TIMEOUT, DEFAULT_HEARTBEAT_INTERVAL);
  }

  /**
   * The defaults: group {@code moments-featurizer}, batches of 32, 50 ms wait, {@link
   * TopicAdmin#DEFAULT_PARTITIONS} partitions, a 6 s session timeout with 1.5 s heartbeats.
   */
  public static FeaturizerConfig defaults(String bootstrap, Topics topics) {
    return new FeaturizerConfig(bootstrap, topics, DEFAULT_GROUP, 32, Duration.ofMillis(50),
        TopicAdmin.DEFAULT_PARTITIONS, (short) 1,
        Duration.ofSeconds(10));
  }

  public FeaturizerConfig withGroup(String group) {
    return new FeaturizerConfig(bootstrap, topics, group, maxBatch, maxWait, partitions, replication, logEvery,
        sessionTimeout, heartbeatInterval);
  }

  public FeaturizerConfig withBatching(int batch, Duration wait) {
    return new FeaturizerConfig(bootstrap, topics, groupId, batch, wait, partitions, replication, logEvery,
        sessionTimeout, heartbeatInterval);
  }

  public FeaturizerConfig withTopicLayout(int parts, short repl) {
    return new FeaturizerConfig(bootstrap, topics, groupId, maxBatch, maxWait, parts, repl, logEvery,
        sessionTimeout, heartbeatInterval);
  }

  /** The group's failure detection: session timeout and heartbeat interval. */
  public FeaturizerConfig withFailover(Duration session, Duration heartbeat) {
    return new FeaturizerConfig(bootstrap, topics, groupId, maxBatch, maxWait, partitions, replication, logEvery,
        session, heartbeat);
  }
}
