package dev.moments.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.topics.DepartedProducers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The open transaction of an instance that is no member of its group any more (killed) is
 * aborted at once, so read_committed readers go on; live members' transactions, other groups'
 * and a group read without the caller in it are left alone.
 */
class DepartedProducersTest {
  @Test
  void only_the_departed_instances_open_transaction_is_aborted() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    String prefix = KafkaFixture.uniquePrefix("departed");
    String topic = prefix + ".out";
    String group = prefix + "-group";
    String live = UUID.randomUUID().toString();
    String dead = UUID.randomUUID().toString();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
      try (KafkaConsumer<String, String> member = consumer(bootstrap, group, group + "-" + live + "-consumer");
          KafkaProducer<String, String> liveProducer = producer(bootstrap, group + "-" + live);
          KafkaProducer<String, String> deadProducer = producer(bootstrap, group + "-" + dead);
          KafkaProducer<String, String> otherGroup = producer(bootstrap, group + "x-" + UUID.randomUUID());
          KafkaConsumer<String, String> reader = consumer(bootstrap, prefix + "-reader", prefix + "-reader")) {
        member.subscribe(List.of(topic));
        Patience.await("the live member to join", Duration.ofMillis(10), () -> {
          member.poll(Duration.ofMillis(50));
          return !member.assignment().isEmpty();
        });
        // "dead" opens a transaction first and never ends it (as if killed); then the others
        deadProducer.beginTransaction();
        deadProducer.send(new ProducerRecord<>(topic, "dead", "uncommitted")).get();
        otherGroup.beginTransaction();
        otherGroup.send(new ProducerRecord<>(topic, "other", "uncommitted")).get();
        liveProducer.beginTransaction();
        liveProducer.send(new ProducerRecord<>(topic, "live", "open")).get();

        // the caller must be a member itself, else it cannot tell departed from renamed
        assertThat(DepartedProducers.fence(admin, group, UUID.randomUUID().toString())).isEmpty();
        assertThat(DepartedProducers.fence(admin, group, live)).containsExactly(group + "-" + dead);

        // the live member's transaction is untouched: it commits
        liveProducer.commitTransaction();
        otherGroup.abortTransaction();
        reader.subscribe(List.of(topic));
        List<String> read = new ArrayList<>();
        Patience.await("the live member's record past the aborted one", Duration.ofMillis(10), () -> {
          for (ConsumerRecord<String, String> r : reader.poll(Duration.ofMillis(50))) {
            read.add(r.key() + "=" + r.value());
          }
          return !read.isEmpty();
        });
        assertThat(read).containsExactly("live=open");
        assertThat(DepartedProducers.fence(admin, group, live)).isEmpty();
      }
    }
  }

  @Test
  void instance_ids_are_read_from_client_ids_of_the_group_only() {
    String id = "0125600b-4429-49eb-bb43-b047291a9dd8";
    assertThat(DepartedProducers.instance("app", "app-" + id + "-StreamThread-1-consumer")).hasValue(id);
    assertThat(DepartedProducers.instance("app", "app-" + id + "-consumer")).hasValue(id);
    assertThat(DepartedProducers.instance("app", "app2-" + id + "-consumer")).isEmpty();
    assertThat(DepartedProducers.instance("app", "app-custom-client")).isEmpty();
  }

  private static KafkaProducer<String, String> producer(String bootstrap, String transactionalId) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    producer.initTransactions();
    return producer;
  }

  private static KafkaConsumer<String, String> consumer(String bootstrap, String group, String clientId) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
  }
}
