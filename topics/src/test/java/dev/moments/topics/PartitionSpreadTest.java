package dev.moments.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.Test;

class PartitionSpreadTest {
  @Test
  void partition_equals_the_java_producers_built_in_partitioner_for_keyed_records() {
    List<String> ids = new ArrayList<>(PartitionSpread.ids("cam-%d", 200));
    ids.addAll(List.of("kitchen-cam", "door", "garage", "s1", "s2", "s3", "s4", "", "caméra-été"));
    java.util.Random r = new java.util.Random(7);
    for (int i = 0; i < 200; i++) {
      ids.add(new UUID(r.nextLong(), r.nextLong()).toString());
    }
    for (int n : new int[] {1, 2, 3, 4, 8, 12, 16, 32, 100}) {
      for (String id : ids) {
        assertThat(PartitionSpread.partition(id, n)).as("%s on %d", id, n)
            .isEqualTo(BuiltInPartitioner.partitionForKey(id.getBytes(StandardCharsets.UTF_8), n));
      }
    }
  }

  @Test
  void the_issues_four_streams_on_four_partitions_land_on_two() {
    // issue 13: s1, s2 and s3 hash to partition 1, s4 to partition 0; 2 and 3 stay empty
    PartitionSpread s = PartitionSpread.of(List.of("s1", "s2", "s3", "s4"), 4);
    assertThat(s.partitionOf()).containsEntry("s1", 1).containsEntry("s2", 1).containsEntry("s3", 1)
        .containsEntry("s4", 0);
    assertThat(s.perPartition()).containsExactly(1, 3, 0, 0);
    assertThat(s.emptyPartitions()).isEqualTo(2);
    // instance 0 gets partitions 0 and 2, instance 1 partitions 1 and 3
    assertThat(s.perInstance(2)).containsExactly(1, 3);
    assertThat(PartitionSpread.maxOverMean(s.perInstance(2))).isEqualTo(1.5);
    assertThat(s.perInstance(4)).containsExactly(1, 3, 0, 0);
    assertThat(s.perInstance(8)).containsExactly(1, 3, 0, 0, 0, 0, 0, 0);
  }

  @Test
  void load_per_instance_is_the_same_for_every_partition_count_the_instance_count_divides() {
    PartitionSpread on4 = PartitionSpread.of(PartitionSpread.ids("cam-%d", 128), 4);
    for (int n : new int[] {8, 12, 16, 32}) {
      PartitionSpread s = PartitionSpread.of(PartitionSpread.ids("cam-%d", 128), n);
      assertThat(s.perInstance(2)).as("%d partitions", n).containsExactly(on4.perInstance(2));
      assertThat(s.perInstance(4)).as("%d partitions", n).containsExactly(on4.perInstance(4));
      assertThat(java.util.Arrays.stream(s.perPartition()).sum()).isEqualTo(128);
    }
  }

  @Test
  void repeated_ids_count_once_and_bad_counts_are_refused() {
    assertThat(PartitionSpread.of(List.of("a", "a", "b"), 3).streams()).isEqualTo(2);
    assertThat(PartitionSpread.ids("cam-%d", 3)).containsExactly("cam-1", "cam-2", "cam-3");
    assertThat(PartitionSpread.maxOverMean(new int[] {0, 0})).isZero();
    assertThatThrownBy(() -> PartitionSpread.of(List.of("a"), 0)).hasMessageContaining("partitions must be >= 1, got 0");
    assertThatThrownBy(() -> PartitionSpread.of(List.of("a"), 2).perInstance(0))
        .hasMessageContaining("instances must be >= 1, got 0");
  }
}
