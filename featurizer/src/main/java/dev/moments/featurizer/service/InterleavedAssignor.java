package dev.moments.featurizer.service;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.TopicPartition;

/**
 * Deals each topic's partitions out to the group's members like cards: partition {@code k} goes
 * to member {@code k mod n} of the {@code n} members subscribed to the topic, sorted by member id,
 * whatever they owned before. Neighbouring partitions therefore always land on different
 * instances, however the instances joined.
 *
 * <p>Why not Kafka's {@code CooperativeStickyAssignor}: it balances partition counts, but keeps
 * what a member owns. When a second featurizer joins one that owns partitions 0..3, the first
 * keeps 0 and 1 and hands over 2 and 3 (measured on its {@code assign}); with few streams on
 * few partitions (the 4 streams hashed to partitions 0 and 1) the second instance idles
 * forever. Neither assignor knows the load; dealing out neighbours spreads the usual case of a
 * few busy low partitions, and the featurizer keeps no state that stickiness would save (a
 * moved partition costs one flushed batch). Why not the KIP-848 consumer protocol: its session
 * timeout is a broker setting of at least {@code group.consumer.min.session.timeout.ms} (45 s by
 * default), so failover within seconds would need every broker re-configured.
 *
 * <p>Cooperative: a partition that moves is first taken from its owner only (which revokes it,
 * committing its buffered batch, and rejoins at once), and given to its new member in that
 * follow-up rebalance; partitions that stay keep flowing meanwhile. When two members claim a
 * partition (one from a lost generation), the newer generation is its owner.
 */
public final class InterleavedAssignor implements ConsumerPartitionAssignor {
  /** The assignor's name in the group protocol. */
  public static final String NAME = "moments-interleaved";

  @Override
  public GroupAssignment assign(Cluster metadata, GroupSubscription groupSubscription) {
    Map<String, Subscription> subs = groupSubscription.groupSubscription();
    Map<String, List<TopicPartition>> out = new TreeMap<>();
    subs.keySet().forEach(m -> out.put(m, new ArrayList<>()));
    Map<TopicPartition, String> owner = new HashMap<>();
    Map<TopicPartition, Integer> ownerGeneration = new HashMap<>();
    for (Map.Entry<String, Subscription> e : subs.entrySet()) {
      int generation = e.getValue().generationId().orElse(-1);
      for (TopicPartition tp : e.getValue().ownedPartitions()) {
        Integer g = ownerGeneration.get(tp);
        if (g == null || generation > g) {
          owner.put(tp, e.getKey());
          ownerGeneration.put(tp, generation);
        }
      }
    }
    TreeSet<String> topics = new TreeSet<>();
    subs.values().forEach(s -> topics.addAll(s.topics()));
    for (String topic : topics) {
      List<String> members = subs.entrySet().stream()
          .filter(e -> e.getValue().topics().contains(topic)).map(Map.Entry::getKey).sorted().toList();
      Integer partitions = metadata.partitionCountForTopic(topic);
      if (partitions == null || members.isEmpty()) {
        continue;
      }
      for (int k = 0; k < partitions; k++) {
        TopicPartition tp = new TopicPartition(topic, k);
        String target = members.get(k % members.size());
        String current = owner.get(tp);
        if (current == null || current.equals(target)) {
          out.get(target).add(tp);
        }
        // else: held back this round; its owner revokes it and rejoins, and the next round
        // gives it to the target (a partition must never have two owners at once)
      }
    }
    Map<String, Assignment> assignments = new HashMap<>();
    out.forEach((m, tps) -> assignments.put(m, new Assignment(tps)));
    return new GroupAssignment(assignments);
  }

  @Override
  public List<RebalanceProtocol> supportedProtocols() {
    return List.of(RebalanceProtocol.COOPERATIVE, RebalanceProtocol.EAGER);
  }

  @Override
  public String name() {
    return NAME;
  }
}
