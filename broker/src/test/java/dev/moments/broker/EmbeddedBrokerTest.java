package dev.moments.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedBrokerTest {
  @TempDir Path dir;

  @Test
  void records_survive_a_broker_restart_on_the_same_data_directory() throws Exception {
    Topics topics = new Topics("restart");
    try (EmbeddedBroker broker = EmbeddedBroker.start(dir, 0)) {
      List<String> created = TopicAdmin.ensureTopics(broker.bootstrapServers(), topics, 2, (short) 1);
      assertThat(created).containsExactlyInAnyOrderElementsOf(topics.names());
      try (var p = new KafkaProducer<String, String>(Map.of(
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
          ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
        for (int i = 0; i < 10; i++) {
          p.send(new ProducerRecord<>(topics.frames().name(), "cam-1", "frame-" + i)).get();
        }
      }
    }
    try (EmbeddedBroker broker = EmbeddedBroker.start(dir, 0)) {
      assertThat(TopicAdmin.ensureTopics(broker.bootstrapServers(), topics, 2, (short) 1)).isEmpty();
      List<String> values = new ArrayList<>();
      try (var c = new KafkaConsumer<String, String>(Map.of(
          ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
          ConsumerConfig.GROUP_ID_CONFIG, "restart-test",
          ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
          new StringDeserializer(), new StringDeserializer())) {
        c.subscribe(List.of(topics.frames().name()));
        long deadline = Patience.deadline();
        while (values.size() < 10 && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
            values.add(r.value());
          }
        }
      }
      assertThat(values).containsExactly(
          "frame-0", "frame-1", "frame-2", "frame-3", "frame-4",
          "frame-5", "frame-6", "frame-7", "frame-8", "frame-9");
    }
  }

  @Test
  void the_shared_fixture_gives_a_working_broker() {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("fixture"));
    assertThat(TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1))
        .containsExactlyInAnyOrderElementsOf(topics.names());
  }
}
