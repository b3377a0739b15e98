package dev.moments.topics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/** Partitions of a topic read by a consumer that assigns them itself (no consumer group). */
public final class TopicPartitions {
  private TopicPartitions() {}

  /**
   * Looks {@code topic} up and, when it has partitions {@code consumer} does not have yet (the topic
   * appeared or grew), assigns it every partition of the topic; the consumer reads this topic only.
   *
   * @return the partitions just added (the caller seeks them), empty when none
   */
  public static List<TopicPartition> assignNew(Consumer<?, ?> consumer, String topic, Duration timeout) {
    List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
    Set<TopicPartition> have = consumer.assignment();
    if (infos == null || infos.size() <= have.size()) {
      return List.of();
    }
    List<TopicPartition> now = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    List<TopicPartition> added = new ArrayList<>(now);
    added.removeAll(have);
    consumer.assign(now);
    return added;
  }
}
