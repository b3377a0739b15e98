package dev.moments.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.topics.TopicAdmin;
import dev.moments.topics.TopicAdmin.Difference;
import dev.moments.topics.Topics;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, point 1: a topic that exists with other settings than a service asks for is used as
 * it is, but every difference (partitions, retention.ms, retention.bytes, max.message.bytes) is
 * reported with the command that changes it; once changed, nothing is reported.
 */
class TopicDifferencesTest {
  @Test
  void an_existing_topic_with_other_settings_is_reported_with_asked_actual_and_the_fix() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("differences"));
    String frames = topics.frames().name();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      // Made by hand (or by an older version): 2 partitions, 7 days by time, 1 MB records.
      admin.createTopics(List.of(new NewTopic(frames, 2, (short) 1)
          .configs(Map.of("retention.ms", "604800000", "retention.bytes", "1000000",
              "max.message.bytes", "1048588")))).all()
          .get(30, TimeUnit.SECONDS);

      TopicAdmin.Result first = TopicAdmin.ensure(bootstrap, topics, 4, (short) 1);

      assertThat(first.created()).containsExactlyInAnyOrderElementsOf(
          topics.names().stream().filter(n -> !n.equals(frames)).toList());
      assertThat(first.differences()).extracting(Difference::topic, Difference::setting,
          Difference::asked, Difference::actual).containsExactlyInAnyOrder(
              org.assertj.core.groups.Tuple.tuple(frames, "partitions", "4", "2"),
              org.assertj.core.groups.Tuple.tuple(frames, "retention.ms", "-1", "604800000"),
              org.assertj.core.groups.Tuple.tuple(frames, "retention.bytes",
                  Long.toString(TopicAdmin.STREAM_RETENTION_BYTES), "1000000"),
              org.assertj.core.groups.Tuple.tuple(frames, "max.message.bytes",
                  Integer.toString(TopicAdmin.MAX_FRAME_BYTES), "1048588"));
      Difference partitions = first.differences().stream()
          .filter(d -> d.setting().equals("partitions")).findFirst().orElseThrow();
      assertThat(partitions.message()).isEqualTo("topic " + frames + " exists with partitions=2 but 4 was asked; "
          + "the existing topic is used as it is. More instances than 2 per consumer group stay idle. To add "
          + "partitions keeping every stream's windows (kafka-topics.sh --alter would leave the indexer's window "
          + "state behind): stop the cameras, let featurize and index catch up, stop them, then run: moments "
          + "partitions add --bootstrap " + bootstrap + " --topic-prefix " + topics.prefix() + " --to 4");
      assertThat(first.differences()).filteredOn(d -> d.setting().equals("retention.ms")).singleElement()
          .extracting(Difference::fix).isEqualTo("To change it: kafka-configs.sh --bootstrap-server " + bootstrap
              + " --alter --entity-type topics --entity-name " + frames + " --add-config retention.ms=-1");

      // The same topics asked with fewer partitions: more is harmless, still said.
      assertThat(TopicAdmin.ensure(bootstrap, topics, 1, (short) 1).differences())
          .filteredOn(d -> d.setting().equals("partitions"))
          .extracting(Difference::topic, Difference::asked, Difference::actual)
          .containsExactlyInAnyOrderElementsOf(topics.names().stream()
              .map(n -> org.assertj.core.groups.Tuple.tuple(n, "1", n.equals(frames) ? "2" : "4")).toList());

      // What the fixes do, through the Admin API: then nothing differs.
      admin.createPartitions(Map.of(frames, NewPartitions.increaseTo(4))).all().get(30, TimeUnit.SECONDS);
      ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, frames);
      admin.incrementalAlterConfigs(Map.of(r, List.of(
          new AlterConfigOp(new ConfigEntry("retention.ms", "-1"), AlterConfigOp.OpType.SET),
          new AlterConfigOp(new ConfigEntry("retention.bytes", Long.toString(TopicAdmin.STREAM_RETENTION_BYTES)),
              AlterConfigOp.OpType.SET),
          new AlterConfigOp(new ConfigEntry("max.message.bytes", Integer.toString(TopicAdmin.MAX_FRAME_BYTES)),
              AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
      TopicAdmin.Result fixed = TopicAdmin.ensure(bootstrap, topics, 4, (short) 1);
      assertThat(fixed.created()).isEmpty();
      assertThat(fixed.differences()).isEmpty();
    }
  }
}
