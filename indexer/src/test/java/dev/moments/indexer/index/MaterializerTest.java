package dev.moments.indexer.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The materializer against the real broker: upserts, skips bad records, resumes from commits. */
class MaterializerTest {
  @TempDir Path dir;

  private static MomentRecord moment(String id, String stream, long start, float... v) {
    return new MomentRecord(id, stream, start, start + 1000, v, 0.5f, stream + "/w", "m");
  }

  private static KafkaProducer<String, byte[]> producer(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
  }

  private static void send(String bootstrap, Topics topics, List<byte[]> values) {
    try (var producer = producer(bootstrap)) {
      for (byte[] v : values) {
        producer.send(new ProducerRecord<>(topics.moments().name(), "s", v));
      }
      producer.flush();
    }
  }

  private static void await(BooleanSupplier done) throws InterruptedException {
    Patience.await("the materializer to catch up", Duration.ofMillis(50), done);
  }

  @Test
  void moments_are_upserted_bad_records_skipped_and_a_restart_resumes_at_the_stored_offsets()
      throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("materializer"));
    TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1);
    MaterializerConfig cfg = new MaterializerConfig(2, Duration.ofMillis(200), Duration.ofMillis(50));
    send(bootstrap, topics, List.of(
        moment("a", "s", 0, 1, 0).toBytes(),
        "garbage".getBytes(StandardCharsets.UTF_8),
        moment("b", "s", 5000, 0, 1).toBytes(),
        moment("a", "s", 9000, 1, 1).toBytes())); // replaces a
    try (MomentIndex index = MomentIndex.open(dir);
        Materializer m = new Materializer(bootstrap, topics, index, cfg)) {
      m.start();
      await(m::caughtUp);
      assertThat(m.consumed()).isEqualTo(4);
      assertThat(m.skipped()).isEqualTo(1);
      assertThat(index.size()).isEqualTo(2);
      assertThat(index.search(SearchRequest.of(new float[] {1, 0}, 5)))
          .extracting(MomentHit::momentId, MomentHit::startMs)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("a", 9000L),
              org.assertj.core.groups.Tuple.tuple("b", 5000L));
      m.close();
      assertThat(index.commitData())
          .containsEntry("offset." + topics.moments().name() + ".0", "4");
    }
    send(bootstrap, topics, List.of(moment("c", "s", 20000, 1, 0).toBytes()));
    try (MomentIndex index = MomentIndex.open(dir);
        Materializer m = new Materializer(bootstrap, topics, index, cfg)) {
      m.start();
      await(() -> m.caughtUp() && m.consumed() >= 1);
      assertThat(m.consumed()).isEqualTo(1); // only the new record, from the stored offset 4
      assertThat(index.size()).isEqualTo(3);
      assertThat(index.streams()).containsExactly(new StreamStats("s", 5000, 21000, 3));
    }
  }

  @Test
  void a_retraction_deletes_its_windows_moments_and_a_later_upsert_of_that_window_stands()
      throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("retract"));
    TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1);
    MaterializerConfig cfg = new MaterializerConfig(2, Duration.ofMillis(200), Duration.ofMillis(50));
    MomentRecord a0 = new MomentRecord("s/1/0", "s", 0, 1000, new float[] {1, 0}, 0.5f, "s/1", "m");
    MomentRecord a1 = new MomentRecord("s/1/1", "s", 0, 1000, new float[] {0, 1}, 0.5f, "s/1", "m");
    MomentRecord b0 = new MomentRecord("s/2/0", "s", 0, 1000, new float[] {1, 1}, 0.5f, "s/2", "m");
    MomentRecord a0Again =
        new MomentRecord("s/1/0", "s", 5000, 8000, new float[] {1, 0}, 0.7f, "s/1", "m");
    try (var producer = producer(bootstrap)) {
      String t = topics.moments().name();
      producer.send(new ProducerRecord<>(t, "s", a0.toBytes()));
      producer.send(new ProducerRecord<>(t, "s", a1.toBytes()));
      producer.send(new ProducerRecord<>(t, "s", b0.toBytes()));
      var retract = new ProducerRecord<String, byte[]>(t, null, "s", null);
      retract.headers().add(Topics.HEADER_RETRACT_WINDOW, "s/1".getBytes(StandardCharsets.UTF_8));
      producer.send(retract);
      producer.send(new ProducerRecord<>(t, "s", (byte[]) null)); // no header: not a moment
      producer.flush();
    }
    try (MomentIndex index = MomentIndex.open(dir);
        Materializer m = new Materializer(bootstrap, topics, index, cfg)) {
      m.start();
      await(() -> m.caughtUp() && m.consumed() == 5);
      assertThat(m.retracted()).isEqualTo(1);
      assertThat(m.skipped()).isEqualTo(1);
      assertThat(index.size()).isEqualTo(1);
      assertThat(index.search(SearchRequest.of(new float[] {1, 0}, 5)))
          .extracting(MomentHit::momentId).containsExactly("s/2/0");
      send(bootstrap, topics, List.of(a0Again.toBytes()));
      await(() -> m.caughtUp() && m.consumed() == 6);
      assertThat(index.size()).isEqualTo(2);
      assertThat(index.search(SearchRequest.of(new float[] {1, 0}, 5)))
          .extracting(MomentHit::momentId, MomentHit::endMs)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("s/1/0", 8000L),
              org.assertj.core.groups.Tuple.tuple("s/2/0", 1000L));
    }
  }

  private static ProducerRecord<String, byte[]> banded(String t, MomentRecord m, String from, String until) {
    ProducerRecord<String, byte[]> r = new ProducerRecord<>(t, "s", m.toBytes());
    if (from != null) {
      r.headers().add(Topics.HEADER_BAND_FROM_MS, from.getBytes(StandardCharsets.US_ASCII));
    }
    if (until != null) {
      r.headers().add(Topics.HEADER_BAND_UNTIL_MS, until.getBytes(StandardCharsets.US_ASCII));
    }
    return r;
  }

  /**
   * Band headers from a plain producer: a moment centred before its window's band is not stored, a
   * later window's first moment drops the earlier window's moment past that one's band, and a
   * record with only one band header or a non-numeric one is skipped as bad.
   */
  @Test
  void band_headers_keep_each_stretch_from_the_windows_nearest_it_and_bad_ones_are_skipped() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("band"));
    TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1);
    MaterializerConfig cfg = new MaterializerConfig(2, Duration.ofMillis(200), Duration.ofMillis(50));
    MomentRecord w1a = new MomentRecord("s/1/0", "s", 0, 2_000, new float[] {1, 0}, 0.5f, "s/1", "m");
    MomentRecord w1b = new MomentRecord("s/1/1", "s", 20_000, 24_000, new float[] {0, 1}, 0.5f, "s/1", "m");
    MomentRecord w2a = new MomentRecord("s/2/0", "s", 0, 4_000, new float[] {1, 1}, 0.5f, "s/2", "m");
    MomentRecord w2b = new MomentRecord("s/2/1", "s", 21_000, 25_000, new float[] {1, -1}, 0.5f, "s/2", "m");
    try (var producer = producer(bootstrap)) {
      String t = topics.moments().name();
      producer.send(banded(t, w1a, "0", "10000"));      // centred at 1 s: in its band
      producer.send(banded(t, w1b, "0", "10000"));      // centred at 22 s: past its band, kept for now
      producer.send(banded(t, w2a, "10000", "20000"));  // centred at 2 s: before its band, not stored
      producer.send(banded(t, w2b, "10000", "20000"));  // stands for 22 s now: s/1/1 goes
      producer.send(banded(t, w1a, "0", null));
      producer.send(banded(t, w1a, "zero", "10000"));
      producer.flush();
    }
    try (MomentIndex index = MomentIndex.open(dir);
        Materializer m = new Materializer(bootstrap, topics, index, cfg)) {
      m.start();
      await(() -> m.caughtUp() && m.consumed() == 6);
      assertThat(m.skipped()).isEqualTo(2);
      assertThat(index.offCentre()).isEqualTo(1);
      assertThat(index.search(SearchRequest.of(new float[] {1, 0}, 5))).extracting(MomentHit::momentId)
          .containsExactlyInAnyOrder("s/1/0", "s/2/1");
    }
  }
}
