package dev.moments.featurizer.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.ImageEncoder;
import dev.moments.featurizer.service.FeaturizerConfig;
import dev.moments.featurizer.service.FeaturizerService;
import dev.moments.ingest.FfmpegTools;
import dev.moments.ingest.IngestResult;
import dev.moments.ingest.Ingestor;
import dev.moments.ingest.SourceOptions;
import dev.moments.topics.DeadLetter;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 2, acceptance 2: a generated video goes through the real pipeline (FFmpeg decode and
 * PTS sampling, JPEG frames on a real broker, the featurizer service) and the features that come
 * out are checked value by value.
 */
class VideoToFeaturesTest {
  private static final long START = 1_750_000_000_000L;
  private static final int SECONDS = 4;
  private static final double FPS = 6;

  @TempDir Path dir;

  @Test
  void a_video_pushed_through_kafka_comes_out_as_one_feature_per_sampled_frame() throws Exception {
    Path video = dir.resolve("clip.mp4");
    FfmpegTools.run("-f", "lavfi", "-i", "testsrc2=duration=" + SECONDS + ":size=320x240:rate=25",
        "-c:v", "libopenh264", "-threads", "1", "-pix_fmt", "yuv420p",
        video.toString());
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("video2features"));
    TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);

    IngestResult result;
    try (Ingestor ingestor = new Ingestor(bootstrap, topics, 0.9, line -> {})) {
      result = ingestor.ingest("desk-cam", video.toString(),
          SourceOptions.defaults().withFps(FPS).withStartTimeMs(START));
    }
    // 4 s at 6 fps: 24 slots (±1 for where the last frame's PTS falls).
    assertThat(result.framesSent()).isBetween((long) (SECONDS * FPS) - 1, (long) (SECONDS * FPS) + 1);
    assertThat(result.truncated()).isFalse();

    // The frames, then ingest's end-of-stream mark, which the featurizer carries over in order.
    List<ConsumerRecord<String, byte[]>> frames = readAll(bootstrap, topics.frames().name(), (int) result.framesSent() + 1);
    assertThat(frames).hasSize((int) result.framesSent() + 1);
    ConsumerRecord<String, byte[]> mark = frames.remove(frames.size() - 1);
    assertThat(DeadLetter.header(mark.headers(), Topics.HEADER_END_OF_STREAM)).isEqualTo("eof");

    List<ConsumerRecord<String, byte[]>> features = new ArrayList<>();
    try (ImageEncoder encoder = Encoders.loadImage(Encoders.defaultDir());
        FeaturizerService service = new FeaturizerService(
            FeaturizerConfig.defaults(bootstrap, topics).withGroup("g-" + topics.prefix())
                .withBatching(8, Duration.ofMillis(30)), encoder)) {
      service.start();
      features.addAll(readAll(bootstrap, topics.features().name(), frames.size() + 1));
      assertThat(service.failure()).isNull();
      ConsumerRecord<String, byte[]> carried = features.remove(features.size() - 1);
      assertThat(carried.key()).isEqualTo("desk-cam");
      assertThat(carried.value()).isNull();
      assertThat(carried.timestamp()).isEqualTo(mark.timestamp()).isEqualTo(frames.getLast().timestamp());
      assertThat(DeadLetter.header(carried.headers(), Topics.HEADER_END_OF_STREAM)).isEqualTo("eof");

      // The encoder run directly on the very frames that went through Kafka.
      List<BufferedImage> images = new ArrayList<>();
      for (ConsumerRecord<String, byte[]> f : frames) {
        images.add(ImageIO.read(new ByteArrayInputStream(f.value())));
      }
      float[][] direct = encoder.encode(images);

      assertThat(features).hasSize(frames.size());
      long previous = Long.MIN_VALUE;
      for (int i = 0; i < features.size(); i++) {
        ConsumerRecord<String, byte[]> feature = features.get(i);
        ConsumerRecord<String, byte[]> frame = frames.get(i);
        assertThat(feature.key()).isEqualTo("desk-cam");
        // Order and timestamps: the frame's capture time = start time + PTS, strictly increasing.
        assertThat(feature.timestamp()).isEqualTo(frame.timestamp()).isGreaterThan(previous);
        previous = feature.timestamp();
        long pts = Long.parseLong(DeadLetter.header(frame.headers(), Topics.HEADER_PTS_MS));
        assertThat(feature.timestamp()).isEqualTo(START + pts);
        assertThat(DeadLetter.header(feature.headers(), Topics.HEADER_PTS_MS)).isEqualTo(Long.toString(pts));
        // Sampling by PTS at 6 fps: slot i starts at i/6 s (25 fps source: within one 40 ms frame).
        assertThat((double) pts).isCloseTo(i * 1000 / FPS, Offset.offset(41.0));
        FeatureRecord fr = FeatureRecord.fromBytes(feature.value());
        assertThat(fr.dim()).isEqualTo(encoder.dim());
        assertThat(fr.encoderId()).isEqualTo(encoder.id());
        for (int k = 0; k < fr.dim(); k++) {
          assertThat(fr.vector()[k]).as("frame %d component %d", i, k)
              .isCloseTo(direct[i][k], Offset.offset(1e-5f));
        }
      }
    }
  }

  private static List<ConsumerRecord<String, byte[]>> readAll(String bootstrap, String topic, int expected) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, "read-" + topic,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      long until = Patience.deadline();
      while (out.size() < expected && System.nanoTime() < until) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      c.poll(Duration.ofMillis(500)).forEach(out::add); // nothing more: no duplicates
    }
    return out;
  }
}
