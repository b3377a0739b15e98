package dev.moments.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records stamped long ago (an archive, a replayed dataset, a test's fixed clock, a camera with a
 * wrong clock) survive the broker's retention checks: Moments topics keep records by size, never
 * by comparing capture timestamps with today's clock. A control topic made the old way (7 days by
 * time) proves that retention checks really ran and would have deleted such records.
 */
class TopicRetentionTest {
  /** 2023-11-14, far more than any time-based retention before today. */
  static final long LONG_AGO = 1_700_000_000_000L;

  @TempDir Path dir;

  @Test
  void records_captured_long_ago_outlive_the_brokers_retention_checks() throws Exception {
    Map<String, String> quickChecks = Map.of(
        "log.initial.task.delay.ms", "0", "log.retention.check.interval.ms", "300");
    Topics topics = new Topics("archive");
    String control = "control-7-days";
    try (EmbeddedBroker broker = EmbeddedBroker.start(dir, "localhost", 0, quickChecks);
        Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
      TopicAdmin.ensureTopics(broker.bootstrapServers(), topics, 1, (short) 1);
      admin.createTopics(List.of(new NewTopic(control, 1, (short) 1)
          .configs(Map.of("retention.ms", Long.toString(Duration.ofDays(7).toMillis()))))).all().get();
      List<String> all = new ArrayList<>(topics.names());
      all.add(control);
      try (var p = new KafkaProducer<String, String>(Map.of(
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
          ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
        for (String topic : all) {
          for (int i = 0; i < 5; i++) {
            p.send(new ProducerRecord<>(topic, 0, LONG_AGO + 1000L * i, "cam", "record-" + i)).get();
          }
        }
      }
      // The control topic's records go at a retention check: wait for one to have run.
      Patience.await("a retention check to delete the control topic's old records",
          Duration.ofMillis(100), () -> logStart(admin, control) == 5);

      for (String topic : topics.names()) {
        assertThat(logStart(admin, topic)).as("first offset of %s", topic).isZero();
        assertThat(end(admin, topic)).as("end offset of %s", topic).isEqualTo(5);
      }
    }
  }

  private static long logStart(Admin admin, String topic) {
    return offset(admin, topic, OffsetSpec.earliest());
  }

  private static long end(Admin admin, String topic) {
    return offset(admin, topic, OffsetSpec.latest());
  }

  private static long offset(Admin admin, String topic, OffsetSpec spec) {
    TopicPartition tp = new TopicPartition(topic, 0);
    Map<TopicPartition, OffsetSpec> q = new HashMap<>();
    q.put(tp, spec);
    try {
      return admin.listOffsets(q).partitionResult(tp).get().offset();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
