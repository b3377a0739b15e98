package dev.moments.topics;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.utils.Utils;

/**
 * Where streams land: the partition of each stream id (record key) under Kafka's default
 * partitioner, the load (streams) per partition, and the load per instance when k instances share
 * the partitions by the featurizer's rule (partition p to instance p mod k, {@code
 * InterleavedAssignor}).
 *
 * <p>A keyed record goes to {@code toPositive(murmur2(key)) % partitions}, the Java producer's
 * built-in partitioner for a non-null key (other clients may differ: librdkafka's default is
 * CRC-32; Moments reads a stream on any partition, but the spread below is the Java client's).
 *
 * <p>NOTE: when k divides the partition count, {@code (h % n) % k == h % k}: the load per instance
 * is the same for every such partition count. More partitions do not spread a given set of streams
 * better over k instances; they raise the most instances that can work (n) and let counts of
 * instances that divide n share the partitions evenly.
 */
public final class PartitionSpread {
  private final int partitions;
  private final Map<String, Integer> partitionOf;
  private final int[] load;

  private PartitionSpread(int partitions, Map<String, Integer> partitionOf) {
    this.partitions = partitions;
    this.partitionOf = Collections.unmodifiableMap(partitionOf);
    this.load = new int[partitions];
    partitionOf.values().forEach(p -> load[p]++);
  }

  /**
   * The spread of {@code streamIds} (distinct ids; a repeated id counts once) over {@code
   * partitions} partitions.
   */
  public static PartitionSpread of(List<String> streamIds, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
    }
    Map<String, Integer> of = new LinkedHashMap<>();
    for (String id : streamIds) {
      of.put(Objects.requireNonNull(id, "stream id"), partition(id, partitions));
    }
    return new PartitionSpread(partitions, of);
  }

  /** The partition the Java producer's default partitioner gives the key {@code streamId} (UTF-8). */
  public static int partition(String streamId, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
    }
    return Utils.toPositive(Utils.murmur2(streamId.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  /** {@code count} ids from a {@code String.format} pattern with one {@code %d}, from 1: cam-%d -> cam-1.. */
  public static List<String> ids(String pattern, int count) {
    List<String> out = new ArrayList<>(count);
    for (int i = 1; i <= count; i++) {
      out.add(String.format(java.util.Locale.ROOT, pattern, i));
    }
    return out;
  }

  public int partitions() {
    return partitions;
  }

  /** Stream id -> partition, in the order given. */
  public Map<String, Integer> partitionOf() {
    return partitionOf;
  }

  public int streams() {
    return partitionOf.size();
  }

  /** Streams on each partition, indexed by partition. */
  public int[] perPartition() {
    return load.clone();
  }

  /** Partitions without a stream. */
  public int emptyPartitions() {
    int n = 0;
    for (int l : load) {
      if (l == 0) {
        n++;
      }
    }
    return n;
  }

  /**
   * Streams on each of {@code instances} instances when partition p goes to instance p mod
   * instances; more instances than partitions leave the extra ones with nothing.
   */
  public int[] perInstance(int instances) {
    if (instances < 1) {
      throw new IllegalArgumentException("instances must be >= 1, got " + instances);
    }
    int[] out = new int[instances];
    for (int p = 0; p < partitions; p++) {
      out[p % instances] += load[p];
    }
    return out;
  }

  /** The largest of {@code loads} over their mean: 1.0 is a perfect spread; 0 when all are 0. */
  public static double maxOverMean(int[] loads) {
    long sum = 0;
    int max = 0;
    for (int l : loads) {
      sum += l;
      max = Math.max(max, l);
    }
    return sum == 0 ? 0 : max / ((double) sum / loads.length);
  }

  /** The largest of {@code loads}. */
  public static int max(int[] loads) {
    int max = 0;
    for (int l : loads) {
      max = Math.max(max, l);
    }
    return max;
  }
}
