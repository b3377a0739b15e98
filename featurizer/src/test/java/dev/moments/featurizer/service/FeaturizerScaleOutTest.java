package dev.moments.featurizer.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.ImageEncoder;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupSubscription;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, point 2: every featurizer instance works. Four frames partitions, frames on partitions
 * 0 and 1 only (as the four streams hashed), a second instance started next to a running
 * one: each instance must featurize one of the busy partitions.
 */
class FeaturizerScaleOutTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final int PER_PARTITION = 20;
  private static ImageEncoder encoder;

  @BeforeAll
  static void load() {
    encoder = Encoders.loadImage(Encoders.defaultDir());
  }

  @AfterAll
  static void close() {
    encoder.close();
  }

  @Test
  void a_second_instance_takes_one_of_the_two_busy_partitions_and_both_featurize() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("featurizer-scale"));
    TopicAdmin.ensureTopics(bootstrap, topics, 4, (short) 1);
    FeaturizerConfig config = FeaturizerConfig.defaults(bootstrap, topics)
        .withGroup("g-" + topics.prefix())
        .withBatching(4, Duration.ofMillis(20));
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (FeaturizerService first = new FeaturizerService(config, encoder);
        FeaturizerService second = new FeaturizerService(config, encoder)) {
      first.start();
      Patience.await("the first instance to own all 4 partitions", Duration.ofMillis(50),
          () -> first.partitionLags().size() == 4);
      second.start();
      Patience.await("2 partitions each", Duration.ofMillis(50),
          () -> first.partitionLags().size() == 2 && second.partitionLags().size() == 2);
      Set<Integer> firstOwns = partitions(first);
      Set<Integer> secondOwns = partitions(second);
      System.out.printf("featurizers own %s and %s%n", firstOwns, secondOwns);

      Properties pp = new Properties();
      pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(pp, new StringSerializer(), new ByteArraySerializer())) {
        for (int f = 0; f < PER_PARTITION; f++) {
          for (int partition = 0; partition < 2; partition++) {
            p.send(new ProducerRecord<>(topics.frames().name(), partition, T0 + 500L * f, "busy-" + partition,
                FeaturizerServiceTest.jpeg(partition, f)));
          }
        }
        p.flush();
      }
      Patience.await("every frame featurized", Duration.ofMillis(100),
          () -> first.stats().frames() + second.stats().frames() == 2 * PER_PARTITION);
      // each instance's owned partitions, all caught up
      Patience.await("lag 0 on every owned partition", Duration.ofMillis(100),
          () -> caughtUp(first) && caughtUp(second));
      assertThat(partitions(first)).isEqualTo(firstOwns);
      assertThat(partitions(second)).isEqualTo(secondOwns);
      try (KafkaConsumer<String, byte[]> c = reader(bootstrap)) {
        c.subscribe(List.of(topics.features().name()));
        long until = Patience.deadline();
        while (out.size() < 2 * PER_PARTITION && System.nanoTime() < until) {
          c.poll(Duration.ofMillis(200)).forEach(out::add);
        }
        c.poll(Duration.ofMillis(300)).forEach(out::add);
      }
      first.close();
      second.close();
      long a = first.stats().frames();
      long b = second.stats().frames();
      System.out.printf("frames featurized per instance: %d and %d%n", a, b);
      assertThat(a).as("frames of the first instance").isPositive();
      assertThat(b).as("frames of the second instance").isPositive();
      assertThat(a + b).isEqualTo(2 * PER_PARTITION);
      assertThat(a).isEqualTo(PER_PARTITION);
      assertThat(first.failure()).isNull();
      assertThat(second.failure()).isNull();
    }
    assertThat(out).hasSize(2 * PER_PARTITION);
    assertThat(out.stream().collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting())))
        .isEqualTo(Map.of("busy-0", (long) PER_PARTITION, "busy-1", (long) PER_PARTITION));
  }

  /**
   * A zombie is fenced, not killed: when another instance aborts this one's transaction (it had
   * been dropped from the group), it goes on with a new producer, and no frame is lost or doubled.
   */
  @Test
  void a_featurizer_whose_producer_another_fenced_goes_on_without_losing_or_doubling_a_frame() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("featurizer-fenced"));
    TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1);
    FeaturizerConfig config = FeaturizerConfig.defaults(bootstrap, topics)
        .withGroup("g-" + topics.prefix())
        .withBatching(4, Duration.ofMillis(20))
        .withTopicLayout(1, (short) 1);
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (FeaturizerService service = new FeaturizerService(config, encoder);
        KafkaProducer<String, byte[]> p = new KafkaProducer<>(pp, new StringSerializer(), new ByteArraySerializer());
        KafkaConsumer<String, byte[]> c = reader(bootstrap);
        Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      service.start();
      c.subscribe(List.of(topics.features().name()));
      for (int round = 0; round < 2; round++) {
        for (int f = 0; f < 10; f++) {
          p.send(new ProducerRecord<>(topics.frames().name(), null, T0 + 500L * (round * 10 + f), "cam",
              FeaturizerServiceTest.jpeg(0, round * 10 + f)));
        }
        p.flush();
        int want = 10 * (round + 1);
        long until = Patience.deadline();
        while (out.size() < want && System.nanoTime() < until && service.failure() == null) {
          c.poll(Duration.ofMillis(100)).forEach(out::add);
        }
        assertThat(service.failure()).isNull();
        assertThat(out).hasSize(want);
        if (round == 0) {
          // what DepartedProducers does to a dropped instance: bump its producer's epoch
          List<String> ids = admin.listTransactions().all().get(30, TimeUnit.SECONDS).stream()
              .map(TransactionListing::transactionalId).filter(id -> id.startsWith(config.groupId() + "-")).toList();
          assertThat(ids).hasSize(1);
          admin.fenceProducers(ids).all().get(30, TimeUnit.SECONDS);
        }
      }
      c.poll(Duration.ofMillis(500)).forEach(out::add);
      service.close();
      assertThat(service.failure()).isNull();
      assertThat(service.stats().frames()).isEqualTo(20);
    }
    assertThat(out).extracting(ConsumerRecord::timestamp)
        .containsExactlyElementsOf(java.util.stream.LongStream.range(0, 20).map(i -> T0 + 500L * i).boxed().toList());
  }

  /**
   * Why not the sticky assignor: a member joining one that owns partitions 0..3 gets 2 and 3
   * (the sticky one keeps the owner's first partitions), the interleaved one deals 0 and 1 apart.
   */
  @Test
  void joining_a_member_that_owns_everything_the_interleaved_assignor_splits_neighbours_the_sticky_one_does_not() {
    String t = "frames";
    List<PartitionInfo> infos = new ArrayList<>();
    List<TopicPartition> all = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      infos.add(new PartitionInfo(t, i, null, null, null));
      all.add(new TopicPartition(t, i));
    }
    Cluster cluster = new Cluster("c", List.of(), infos, Set.of(), Set.of());
    // "b-old" owns everything; "a-new" (sorted first) joins.
    Map<String, Subscription> subs = Map.of(
        "b-old", new Subscription(List.of(t), null, all, 1, Optional.empty()),
        "a-new", new Subscription(List.of(t), null, List.of(), -1, Optional.empty()));

    var sticky = new CooperativeStickyAssignor().assign(cluster, new GroupSubscription(subs)).groupAssignment();
    assertThat(sticky.get("b-old").partitions()).extracting(TopicPartition::partition).containsExactly(0, 1);

    ConsumerPartitionAssignor interleaved = new InterleavedAssignor();
    var round1 = interleaved.assign(cluster, new GroupSubscription(subs)).groupAssignment();
    // 0 and 2 go to "a-new": first revoked from "b-old", given in the follow-up round
    assertThat(round1.get("b-old").partitions()).extracting(TopicPartition::partition).containsExactly(1, 3);
    assertThat(round1.get("a-new").partitions()).isEmpty();
    var round2 = interleaved.assign(cluster, new GroupSubscription(Map.of(
        "b-old", new Subscription(List.of(t), null, round1.get("b-old").partitions(), 2, Optional.empty()),
        "a-new", new Subscription(List.of(t), null, List.of(), 2, Optional.empty())))).groupAssignment();
    assertThat(round2.get("b-old").partitions()).extracting(TopicPartition::partition).containsExactly(1, 3);
    assertThat(round2.get("a-new").partitions()).extracting(TopicPartition::partition).containsExactly(0, 2);
  }

  private static Set<Integer> partitions(FeaturizerService s) {
    return s.partitionLags().keySet().stream().map(TopicPartition::partition).collect(Collectors.toSet());
  }

  private static boolean caughtUp(FeaturizerService s) {
    Map<TopicPartition, OptionalLong> lags = s.partitionLags();
    return lags.size() == 2 && lags.values().stream().allMatch(l -> l.isPresent() && l.getAsLong() == 0);
  }

  private static KafkaConsumer<String, byte[]> reader(String bootstrap) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + System.nanoTime());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return new KafkaConsumer<>(p, new StringDeserializer(),
        new org.apache.kafka.common.serialization.ByteArrayDeserializer());
  }
}
