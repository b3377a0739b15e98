package dev.moments.api.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.topics.AlertRule;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * The rules store on the real broker: a write is on the compacted topic when it returns, a
 * deletion is a tombstone, and a new store (a restarted server, or a second instance) sees the
 * same rules.
 */
class AlertRulesKafkaTest {
  static AlertRule rule(String id, String owner) {
    return new AlertRule(id, owner, "keys " + id, List.of("cam"), 0.3f, 60_000, null, "ab",
        new float[] {0.6f, 0.8f}, "enc", 1000);
  }

  @Test
  void writes_are_on_the_topic_when_they_return_and_a_new_store_sees_the_same_rules() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("rules"));
    TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
    try (AlertRules a = AlertRules.kafka(bootstrap, topics)) {
      assertThat(a.awaitLoaded(Patience.limit())).isTrue();
      a.put(rule("r1", "sha256:aa"));
      a.put(rule("r2", "sha256:bb"));
      a.delete("r1");
      assertThat(a.all()).containsExactly(rule("r2", "sha256:bb")); // read your writes at once
      // on the topic already, in order: r1, r2, then r1's tombstone
      List<String> onTopic = new ArrayList<>();
      for (ConsumerRecord<String, byte[]> r : read(bootstrap, topics)) {
        onTopic.add(r.key() + (r.value() == null ? "=null" : "=" + AlertRule.fromBytes(r.value()).owner()));
      }
      assertThat(onTopic).containsExactlyInAnyOrder("r1=sha256:aa", "r2=sha256:bb", "r1=null");
      assertThat(onTopic.indexOf("r1=null")).isGreaterThan(onTopic.indexOf("r1=sha256:aa"));
      // the reader loop caught up with its own writes and did not bring r1 back
      Patience.await("the store's reader at its own writes", Duration.ofMillis(100),
          () -> a.health().state() == dev.moments.topics.LoopHealth.State.OK);

      try (AlertRules restarted = AlertRules.kafka(bootstrap, topics)) {
        assertThat(restarted.awaitLoaded(Patience.limit())).isTrue();
        assertThat(restarted.all()).containsExactly(rule("r2", "sha256:bb"));
        assertThat(restarted.of("sha256:bb")).containsExactly(rule("r2", "sha256:bb"));
        assertThat(restarted.of("sha256:aa")).isEmpty();
        restarted.put(rule("r3", "sha256:aa"));
      }
      // a second instance's write reaches the first one's view
      Patience.await("r3 in the first store", Duration.ofMillis(100), () -> a.get("r3").isPresent());
      assertThat(a.all()).containsExactlyInAnyOrder(rule("r2", "sha256:bb"), rule("r3", "sha256:aa"));
    }
  }

  private static List<ConsumerRecord<String, byte[]>> read(String bootstrap, Topics topics) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = c.partitionsFor(topics.alertRules().name()).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      var end = c.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    out.sort(java.util.Comparator.comparingLong(ConsumerRecord::offset));
    return out;
  }
}
