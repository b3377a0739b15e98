package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.broker.EmbeddedBroker;
import dev.moments.topics.PartitionSpread;
import dev.moments.topics.TopicAdmin;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PartitionsSpreadCommandTest {
  @TempDir Path tmp;

  private record Out(int rc, String out, String err) {}

  private static Out run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new PartitionsSpreadCommand());
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int rc = cl.execute(args);
    return new Out(rc, out.toString(), err.toString());
  }

  @Test
  void prints_the_issues_four_streams_on_two_of_four_partitions_and_the_load_per_instance() {
    Out o = run("--partitions", "4", "--instances", "1,2,4,8", "s1", "s2", "s3", "s4");
    assertThat(o.rc()).as(o.err()).isZero();
    assertThat(o.out()).contains("4 streams on 4 partitions")
        .containsPattern("(?m)^\\s+0\\s+1\\s+s4$")
        .containsPattern("(?m)^\\s+1\\s+3\\s+s1, s2, s3$")
        .containsPattern("(?m)^\\s+2\\s+0$")
        .contains("per partition: max 3, mean 1.00, max/mean 3.00, empty 2 of 4")
        // instance 0: partitions 0, 2 (s4); instance 1: partitions 1, 3 (s1, s2, s3)
        .containsPattern("(?m)^\\s+2\\s+1 3\\s+3\\s+2\\.0\\s+1\\.50\\s+0$")
        .containsPattern("(?m)^\\s+4\\s+1 3 0 0\\s+3\\s+1\\.0\\s+3\\.00\\s+2$")
        .containsPattern("(?m)^\\s+8\\s+1 3 0 0 0 0 0 0\\s+3\\s+0\\.5\\s+6\\.00\\s+6  \\(more instances than partitions\\)$");
  }

  @Test
  void count_and_pattern_make_the_ids_and_the_default_is_the_topics_default() {
    Out o = run("--count", "32", "--pattern", "door-%d");
    assertThat(o.rc()).as(o.err()).isZero();
    assertThat(o.out()).contains("32 streams on " + TopicAdmin.DEFAULT_PARTITIONS + " partitions")
        .contains("door-1").doesNotContain("door-0").doesNotContain("cam-");
    PartitionSpread s = PartitionSpread.of(PartitionSpread.ids("door-%d", 32), TopicAdmin.DEFAULT_PARTITIONS);
    assertThat(o.out()).contains(String.format(java.util.Locale.ROOT, "empty %d of %d", s.emptyPartitions(),
        TopicAdmin.DEFAULT_PARTITIONS));
    assertThat(run("--help").out()).contains("--pattern", "cam-%d", "--instances", "--count");
  }

  @Test
  void refuses_no_ids_and_bad_numbers_with_one_line_each() {
    assertThat(run().err()).contains("give stream ids, or --count N");
    assertThat(run("--partitions", "0", "a").err()).contains("--partitions must be >= 1, got 0");
    assertThat(run("--instances", "2,0", "a").err()).contains("--instances must be >= 1 each, got 0");
    assertThat(run("--count", "3", "--pattern", "cam").err()).contains("--pattern must contain %d, got 'cam'");
    assertThat(run("--count", "3", "--pattern", "cam-%d-%s").err()).contains("--pattern must have one %d and no other format");
    assertThat(run().rc()).isEqualTo(2);
  }

  /** What KafkaProducer does with a keyed record on a real broker is what the table says. */
  @Test
  void the_partitions_equal_where_kafka_producer_puts_each_key_on_a_real_broker() throws Exception {
    List<String> ids = new ArrayList<>(PartitionSpread.ids("cam-%d", 40));
    ids.addAll(List.of("kitchen-cam", "s1", "s2", "s3", "s4", "caméra-été"));
    Random r = new Random(3);
    for (int i = 0; i < 14; i++) {
      ids.add(new UUID(r.nextLong(), r.nextLong()).toString());
    }
    try (EmbeddedBroker broker = EmbeddedBroker.start(tmp.resolve("kafka"), 0)) {
      for (int n : new int[] {4, 12, 16}) {
        String topic = "spread-" + n;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
          admin.createTopics(List.of(new NewTopic(topic, n, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        Map<String, Integer> sent = new LinkedHashMap<>();
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
            new ByteArraySerializer(), new ByteArraySerializer())) {
          for (String id : ids) {
            sent.put(id, p.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), new byte[1]))
                .get(30, TimeUnit.SECONDS).partition());
          }
        }
        assertThat(PartitionSpread.of(ids, n).partitionOf()).as("%d partitions", n).isEqualTo(sent);
      }
    }
  }
}
