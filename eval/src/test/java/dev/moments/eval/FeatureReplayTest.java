package dev.moments.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.featurizer.store.FeatureManifest;
import dev.moments.featurizer.store.Npy;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import dev.moments.trainer.ego4d.NlqAnnotations;
import dev.moments.trainer.ego4d.NlqAnnotations.LanguageQuery;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeatureReplayTest {
  @TempDir Path dir;

  @Test
  void each_clip_becomes_a_stream_of_its_frames_with_timestamps_from_the_clip_start() throws Exception {
    // video "vid": 20 frames at 2 fps, row t = (t, 0, 0); the clip is video seconds 3..8 = rows 6..15
    Path f = dir.resolve("features");
    Files.createDirectories(f);
    float[][] x = new float[20][];
    for (int t = 0; t < 20; t++) {
      x[t] = new float[] {t, 0, 0};
    }
    Npy.write(FeatureManifest.featureFile(f, "vid"), x);
    new FeatureManifest("enc-a", 2.0, 3, Map.of("vid", new FeatureManifest.Video(20, 10.0))).write(f);
    NlqAnnotations ann = NlqAnnotations.of(List.of(new NlqAnnotations.Clip("vid", "clip-1", 3, 8,
        List.of(new NlqAnnotations.Annotation("a", List.of(new LanguageQuery(1, 2, "q", null)))))));

    FeatureReplay replay = new FeatureReplay(f);
    List<FeatureReplay.Clip> clips = replay.plan(ann, 1_000_000L);
    assertThat(clips).singleElement().satisfies(c -> {
      assertThat(c.streamId()).isEqualTo("clip-1");
      assertThat(c.frames()).isEqualTo(10);
      assertThat(c.clipSeconds(1_002_500L)).isEqualTo(2.5);
    });

    Topics topics = new Topics(KafkaFixture.uniquePrefix("replay"));
    String bootstrap = KafkaFixture.bootstrapServers();
    TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1);
    List<Long> progress = new ArrayList<>();
    assertThat(replay.push(bootstrap, topics, ann, clips, progress::add)).isEqualTo(10);
    assertThat(progress).containsExactly(10L);

    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, topics.prefix() + "-check");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<ConsumerRecord<String, FeatureRecord>> got = new ArrayList<>();
    try (KafkaConsumer<String, FeatureRecord> c = new KafkaConsumer<>(p,
        topics.features().keySerde().deserializer(), topics.features().valueSerde().deserializer())) {
      c.subscribe(List.of(topics.features().name()));
      long deadline = Patience.deadline();
      while (got.size() < 11 && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(got::add);
      }
    }
    assertThat(got).hasSize(11);
    ConsumerRecord<String, FeatureRecord> end = got.get(10);
    assertThat(end.key()).isEqualTo("clip-1");
    assertThat(end.value()).isNull();
    assertThat(Topics.isEndOfStream(end.headers())).isTrue();
    assertThat(end.timestamp()).isEqualTo(1_000_000L + 9 * 500L);
    for (int i = 0; i < 10; i++) {
      ConsumerRecord<String, FeatureRecord> r = got.get(i);
      assertThat(r.key()).isEqualTo("clip-1");
      assertThat(r.timestamp()).isEqualTo(1_000_000L + i * 500L);
      assertThat(r.value().encoderId()).isEqualTo("enc-a");
      assertThat(r.value().vector()).containsExactly(6 + i, 0, 0);
    }
  }
}
