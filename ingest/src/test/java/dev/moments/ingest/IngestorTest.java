package dev.moments.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IngestorTest {
  @TempDir Path dir;
  private String bootstrap;
  private Topics topics;

  @BeforeEach
  void topics() {
    bootstrap = KafkaFixture.bootstrapServers();
    topics = new Topics(KafkaFixture.uniquePrefix("ingest"));
    TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1);
  }

  private List<ConsumerRecord<String, byte[]>> readFrames(int atLeast, Duration timeout) {
    Map<String, Object> p = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (var c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(topics.frames().name()));
      long deadline = System.nanoTime() + timeout.toNanos();
      int emptyPolls = 0;
      while (System.nanoTime() < deadline && (out.size() < atLeast || emptyPolls < 2)) {
        var batch = c.poll(Duration.ofMillis(500));
        batch.forEach(out::add);
        emptyPolls = batch.isEmpty() ? emptyPolls + 1 : 0;
      }
    }
    return out;
  }

  private static String header(ConsumerRecord<String, byte[]> r, String name) {
    var h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.US_ASCII);
  }

  private static BufferedImage jpeg(byte[] b) throws IOException {
    return ImageIO.read(new ByteArrayInputStream(b));
  }

  @Test
  void file_frames_land_in_kafka_keyed_by_stream_stamped_start_plus_pts() throws IOException {
    Path video = TestVideos.testsrc(dir, "v.mp4", 4, 30, 320, 240);
    long start = 1_700_000_000_000L;
    IngestResult r;
    try (Ingestor in = new Ingestor(bootstrap, topics, 0.85, m -> {})) {
      r = in.ingest("kitchen", video.toString(),
          SourceOptions.defaults().withFps(6).withMaxSide(160).withStartTimeMs(start));
    }
    assertThat(r.framesSent()).isBetween(23L, 25L);
    assertThat(r.framesDecoded()).isEqualTo(120);
    assertThat(r.truncated()).isFalse();
    assertThat(r.mediaDurationMs()).isBetween(3990L, 4010L);
    assertThat(r.summary()).startsWith("ingest kitchen: sent " + r.framesSent() + " frames (4.0 s of media");

    List<ConsumerRecord<String, byte[]>> recs = readFrames((int) r.framesSent(), Patience.limit());
    assertThat(recs).hasSize((int) r.framesSent());
    long prevPts = -1;
    for (var rec : recs) {
      assertThat(rec.key()).isEqualTo("kitchen");
      assertThat(header(rec, "content-type")).isEqualTo("image/jpeg");
      long pts = Long.parseLong(header(rec, "pts-ms"));
      assertThat(pts).isGreaterThan(prevPts);
      prevPts = pts;
      assertThat(rec.timestamp()).isEqualTo(start + pts);
      BufferedImage img = jpeg(rec.value());
      assertThat(img.getWidth()).isEqualTo(160);
      assertThat(img.getHeight()).isEqualTo(120);
    }
  }

  @Test
  void truncated_file_sends_what_it_decoded_and_reports_it() throws IOException {
    Path video = TestVideos.testsrc(dir, "v.mp4", 4, 30, 160, 120);
    byte[] all = Files.readAllBytes(video);
    Path cut = Files.write(dir.resolve("cut.mp4"), java.util.Arrays.copyOf(all, all.length / 2));
    IngestResult r;
    try (Ingestor in = new Ingestor(bootstrap, topics, 0.85, m -> {})) {
      r = in.ingest("cam", cut.toString(), SourceOptions.defaults().withStartTimeMs(0L));
    }
    assertThat(r.truncated()).isTrue();
    assertThat(r.framesSent()).isBetween(3L, 21L);
    assertThat(r.summary()).contains("TRUNCATED: " + cut).contains("of the declared 4.0 s");
    assertThat(readFrames((int) r.framesSent(), Patience.limit())).hasSize((int) r.framesSent());
  }

  @Test
  void bad_file_fails_before_sending_anything() throws IOException {
    Path text = Files.writeString(dir.resolve("notes.txt"), "not a video\n".repeat(100));
    try (Ingestor in = new Ingestor(bootstrap, topics, 0.85, m -> {})) {
      assertThatThrownBy(() -> in.ingest("cam", text.toString(), SourceOptions.defaults()))
          .isInstanceOf(VideoSourceException.class)
          .hasMessage("not a video: " + text + " (FFmpeg can only read it as text)");
    }
  }

  @Test
  void live_http_stream_is_ingested_with_wall_clock_timestamps_and_reconnects() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String url = "http://127.0.0.1:" + port + "/live.ts";
    List<String> log = new CopyOnWriteArrayList<>();
    long before = System.currentTimeMillis();
    ExecutorService exec = Executors.newSingleThreadExecutor();
    Process ffmpeg = null;
    try (Ingestor in = new Ingestor(bootstrap, topics, 0.85, log::add)) {
      // Ingest starts first: the server is not there yet, so it must retry with back-off.
      Future<IngestResult> run = exec.submit(() ->
          in.ingest("door", url, SourceOptions.defaults().withReadTimeoutMs(2000)));
      Thread.sleep(700);
      ffmpeg = FfmpegTools.command(FfmpegTools.ffmpeg(), List.of("-nostdin", "-v", "error", "-re",
          "-f", "lavfi", "-i", "testsrc2=duration=4:size=160x120:rate=25",
          "-c:v", "mpeg1video", "-q:v", "5", "-threads", "1", "-f", "mpegts", "-listen", "1", url))
          .redirectErrorStream(true).redirectOutput(dir.resolve("ffmpeg.log").toFile()).start();
      assertThat(ffmpeg.waitFor(Patience.limit().toSeconds(), TimeUnit.SECONDS)).as("ffmpeg finished streaming").isTrue();
      assertThat(ffmpeg.exitValue()).as("ffmpeg exit, see %s", dir.resolve("ffmpeg.log")).isZero();
      // The stream has ended; ingest notices, logs and keeps retrying until stopped.
      Patience.await("ingest to notice the end of the live stream", Duration.ofMillis(100),
          () -> log.stream().anyMatch(m -> m.contains("reconnecting in")));
      in.stop();
      IngestResult r = run.get(Patience.limit().toSeconds(), TimeUnit.SECONDS);
      long after = System.currentTimeMillis();

      assertThat(log).anyMatch(m -> m.startsWith("cannot open live source " + url) && m.contains("retrying in"));
      assertThat(log).anyMatch(m -> m.contains("reconnecting in"));
      // 4 s at 6 fps; the very first frames may go to stream probing, none may be invented
      assertThat(r.framesSent()).isBetween(12L, 25L);
      assertThat(r.truncated()).isFalse();
      List<ConsumerRecord<String, byte[]>> recs = readFrames((int) r.framesSent(), Patience.limit());
      assertThat(recs).hasSize((int) r.framesSent());
      long prevTs = 0;
      for (var rec : recs) {
        assertThat(rec.key()).isEqualTo("door");
        assertThat(rec.timestamp()).isBetween(before, after).isGreaterThanOrEqualTo(prevTs);
        prevTs = rec.timestamp();
        assertThat(header(rec, "pts-ms")).matches("\\d+");
        assertThat(jpeg(rec.value()).getWidth()).isEqualTo(160);
      }
      // wall-clock capture: frames of a 4 s real-time stream spread over seconds, not milliseconds
      assertThat(recs.get(recs.size() - 1).timestamp() - recs.get(0).timestamp()).isGreaterThan(1500);
    } finally {
      if (ffmpeg != null) {
        ffmpeg.destroyForcibly();
      }
      exec.shutdownNow();
    }
  }
}
