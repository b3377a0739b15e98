package dev.moments.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.moments.broker.EmbeddedBroker;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
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

  /** Every record of the frames topic (frames and end-of-stream marks), once at least {@code atLeast} came. */
  private List<ConsumerRecord<String, byte[]>> readFrames(int atLeast, Duration timeout) {
    return readAll(bootstrap, topics, atLeast, timeout);
  }

  /**
   * The frames topic from its beginning: waits (up to {@code timeout}) for at least {@code
   * atLeast} records, then reads on to the topic's end at that moment, so extras show too.
   */
  private static List<ConsumerRecord<String, byte[]>> readAll(String bootstrap, Topics topics, int atLeast,
      Duration timeout) {
    Map<String, Object> p = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (var c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = c.partitionsFor(topics.frames().name(), timeout).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
        if (out.size() >= atLeast) {
          Map<TopicPartition, Long> end = c.endOffsets(parts);
          if (parts.stream().allMatch(tp -> c.position(tp) >= end.get(tp))) {
            break;
          }
        }
      }
    }
    return out;
  }

  private static List<ConsumerRecord<String, byte[]>> frames(List<ConsumerRecord<String, byte[]>> recs) {
    return recs.stream().filter(r -> !Topics.isEndOfStream(r.headers())).toList();
  }

  /**
   * Checks that the stream's records end with exactly the given end-of-stream marks, each after
   * the frames before it: null value, the reason as header, the previous frame's capture time.
   */
  private static void assertMarks(List<ConsumerRecord<String, byte[]>> recs, String key, String... reasons) {
    List<String> seen = new ArrayList<>();
    ConsumerRecord<String, byte[]> previous = null;
    for (var rec : recs) {
      assertThat(rec.key()).isEqualTo(key);
      if (Topics.isEndOfStream(rec.headers())) {
        assertThat(rec.value()).as("mark value").isNull();
        assertThat(previous).as("a frame before the mark").isNotNull();
        assertThat(Topics.isEndOfStream(previous.headers())).as("two marks in a row").isFalse();
        assertThat(rec.timestamp()).as("mark timestamp = last frame's capture time").isEqualTo(previous.timestamp());
        seen.add(header(rec, Topics.HEADER_END_OF_STREAM));
      }
      previous = rec;
    }
    assertThat(seen).containsExactly(reasons);
    assertThat(Topics.isEndOfStream(recs.getLast().headers())).as("the last record is a mark").isTrue();
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
    assertThat(r.framesSent()).isEqualTo(24);
    assertThat(r.framesSampled()).isEqualTo(24);
    assertThat(r.framesDropped()).isZero();
    assertThat(r.framesFailed()).isZero();
    assertThat(r.framesDecoded()).isEqualTo(120);
    assertThat(r.truncated()).isFalse();
    assertThat(r.mediaDurationMs()).isEqualTo(4000);
    assertThat(r.endOfStream()).isEqualTo("eof");
    assertThat(r.summary()).startsWith("ingest kitchen: sent 24 frames (4.0 s of media")
        .endsWith("; 24 sampled: 24 sent, 0 dropped (broker unavailable), 0 failed; end of stream: eof");

    List<ConsumerRecord<String, byte[]>> all = readFrames(25, Patience.limit());
    assertThat(all).hasSize(25);
    assertMarks(all, "kitchen", "eof");
    List<ConsumerRecord<String, byte[]>> recs = frames(all);
    assertThat(recs).hasSize(24);
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
    assertThat(r.endOfStream()).isEqualTo("truncated");
    assertThat(r.summary()).contains("TRUNCATED: " + cut).contains("of the declared 4.0 s");
    List<ConsumerRecord<String, byte[]>> recs = readFrames((int) r.framesSent() + 1, Patience.limit());
    assertThat(frames(recs)).hasSize((int) r.framesSent());
    assertMarks(recs, "cam", "truncated");
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
      assertThat(r.framesSampled()).isEqualTo(r.framesSent());
      assertThat(r.truncated()).isFalse();
      // the stream ended (source-lost); no frame came after it, so the stop adds no mark
      assertThat(r.endOfStream()).isEqualTo("source-lost");
      List<ConsumerRecord<String, byte[]>> all = readFrames((int) r.framesSent() + 1, Patience.limit());
      assertMarks(all, "door", "source-lost");
      List<ConsumerRecord<String, byte[]>> recs = frames(all);
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

  /** {@code ffmpeg} serving an endless 25 fps MPEG-TS test stream at {@code url} in real time, to one client. */
  private Process liveServer(String url) throws IOException {
    return FfmpegTools.command(FfmpegTools.ffmpeg(), List.of("-nostdin", "-v", "error", "-re",
        "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
        "-c:v", "mpeg1video", "-q:v", "5", "-threads", "1", "-f", "mpegts", "-listen", "1", url))
        .redirectErrorStream(true).redirectOutput(dir.resolve("ffmpeg-live.log").toFile()).start();
  }

  /** The records in the frames topic now (none while the broker does not answer). */
  private static List<ConsumerRecord<String, byte[]>> readNow(String servers, Topics topics) {
    try {
      return readAll(servers, topics, 0, Duration.ofSeconds(2));
    } catch (org.apache.kafka.common.KafkaException e) {
      return List.of();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void a_live_source_keeps_reading_while_the_broker_is_down_counts_the_frames_it_drops_and_resumes()
      throws Exception {
    // A broker of its own: this test stops it and starts it again on the same port and data.
    Path data = dir.resolve("broker");
    EmbeddedBroker broker = EmbeddedBroker.start(data, 0);
    int kafkaPort = broker.port();
    String servers = broker.bootstrapServers();
    Topics own = new Topics("down");
    TopicAdmin.ensureTopics(servers, own, 1, (short) 1);
    String url = "http://127.0.0.1:" + freePort() + "/live.ts";
    List<String> log = new CopyOnWriteArrayList<>();
    ExecutorService exec = Executors.newSingleThreadExecutor();
    Process ffmpeg = liveServer(url);
    // 6 frames (1 s at 6 fps) of send buffer: the outage below lasts longer than that.
    try (Ingestor in = new Ingestor(servers, own, 0.85, log::add, Map.of(), new FramesProducer.Limits(6, 1 << 20))) {
      Future<IngestResult> run = exec.submit(() ->
          in.ingest("porch", url, SourceOptions.defaults().withReadTimeoutMs(10_000)));
      Patience.await("the first frames in Kafka", Duration.ofMillis(200),
          () -> readNow(servers, own).size() >= 6);

      broker.close();
      Patience.await("ingest to fill its send buffer and drop frames", Duration.ofMillis(100),
          () -> log.stream().anyMatch(m -> m.startsWith("ingest porch: send buffer full for ")
              && m.endsWith("dropping new frames")));
      assertThat(run).as("ingest goes on while the broker is down").isNotDone();

      broker = EmbeddedBroker.start(data, "localhost", kafkaPort, Map.of());
      long restarted = System.currentTimeMillis();
      Patience.await("frames sent again", Duration.ofMillis(100),
          () -> log.stream().anyMatch(m -> m.startsWith("ingest porch: sending again after ")));
      Patience.await("a frame captured after the restart in Kafka", Duration.ofMillis(200),
          () -> frames(readNow(servers, own)).stream()
              .anyMatch(r -> r.timestamp() > restarted));
      in.stop();
      IngestResult r = run.get(Patience.limit().toSeconds(), TimeUnit.SECONDS);

      assertThat(log).anyMatch(m -> m.matches("ingest porch: sending again after \\d+ s; [1-9]\\d* frames dropped "
          + "meanwhile \\(broker unavailable\\)"));
      assertThat(r.framesDropped()).isPositive();
      assertThat(r.framesFailed()).as("frames failed; ingest said: %s", log).isZero();
      assertThat(r.framesSent() + r.framesDropped()).isEqualTo(r.framesSampled());
      assertThat(r.endOfStream()).isEqualTo("stopped");
      assertThat(r.summary()).contains(String.format("; %d sampled: %d sent, %d dropped (broker unavailable), 0 failed; "
          + "end of stream: stopped", r.framesSampled(), r.framesSent(), r.framesDropped()));

      // Kafka holds exactly the frames counted as sent, in capture order, then the stop's mark.
      List<ConsumerRecord<String, byte[]>> all = readAll(servers, own, (int) r.framesSent() + 1, Patience.limit());
      assertMarks(all, "porch", "stopped");
      List<ConsumerRecord<String, byte[]>> recs = frames(all);
      assertThat(recs).hasSize((int) r.framesSent());
      for (int i = 1; i < recs.size(); i++) {
        assertThat(recs.get(i).timestamp()).isGreaterThan(recs.get(i - 1).timestamp());
      }
      assertThat(recs.getLast().timestamp()).isGreaterThan(restarted);
    } finally {
      ffmpeg.destroyForcibly();
      exec.shutdownNow();
      broker.close();
    }
  }

  @Test
  void a_file_waits_for_a_broker_that_is_down_and_sends_every_frame_once_it_is_back() throws Exception {
    Path data = dir.resolve("broker-file");
    EmbeddedBroker broker = EmbeddedBroker.start(data, 0);
    int kafkaPort = broker.port();
    String servers = broker.bootstrapServers();
    Topics own = new Topics("wait");
    TopicAdmin.ensureTopics(servers, own, 1, (short) 1);
    broker.close();
    Path video = TestVideos.testsrc(dir, "w.mp4", 4, 30, 160, 120);
    List<String> log = new CopyOnWriteArrayList<>();
    ExecutorService exec = Executors.newSingleThreadExecutor();
    try (Ingestor in = new Ingestor(servers, own, 0.85, log::add, Map.of(), new FramesProducer.Limits(6, 1 << 20))) {
      Future<IngestResult> run = exec.submit(() ->
          in.ingest("shed", video.toString(), SourceOptions.defaults().withFps(6).withStartTimeMs(0L)));
      Patience.await("ingest to say that it waits for the broker", Duration.ofMillis(200),
          () -> log.stream().anyMatch(m -> m.startsWith("ingest shed: waiting for the broker for ")));
      // the buffer (6 frames) is full and says so
      assertThat(log).anyMatch(m -> m.matches(
          "ingest shed: waiting for the broker for \\d+ s: 6 frames \\(0\\.\\d\\d MB\\) not yet acknowledged.*"));
      assertThat(run).as("a file waits, it does not drop").isNotDone();

      broker = EmbeddedBroker.start(data, "localhost", kafkaPort, Map.of());
      IngestResult r = run.get(Patience.limit().toSeconds(), TimeUnit.SECONDS);
      assertThat(r.framesSampled()).isEqualTo(24);
      assertThat(r.framesSent()).isEqualTo(24);
      assertThat(r.framesDropped()).isZero();
      assertThat(r.framesFailed()).isZero();
      assertThat(r.endOfStream()).isEqualTo("eof");
      List<ConsumerRecord<String, byte[]>> all = readAll(servers, own, 25, Patience.limit());
      assertThat(all).hasSize(25);
      assertMarks(all, "shed", "eof");
      assertThat(frames(all)).extracting(ConsumerRecord::timestamp)
          .containsExactlyElementsOf(java.util.stream.LongStream.range(0, 24).map(i -> Math.round(i * 1000 / 6.0))
              .boxed().toList());
    } finally {
      exec.shutdownNow();
      broker.close();
    }
  }
}
