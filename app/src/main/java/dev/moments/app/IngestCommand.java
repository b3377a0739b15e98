package dev.moments.app;

import dev.moments.ingest.FramesProducer;
import dev.moments.ingest.IngestResult;
import dev.moments.ingest.Ingestor;
import dev.moments.ingest.SourceOptions;
import dev.moments.ingest.VideoSource;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code moments ingest}: a video file, live URL or webcam into {@code moments.frames}. */
@Command(name = "ingest", mixinStandardHelpOptions = true,
    description = {
      "Decode a video source, sample frames by presentation time and push them as JPEG records "
          + "(key = stream id, timestamp = capture time, header pts-ms) to PREFIX.frames.",
      "Files end with a summary line; live sources (URLs, webcams) run until Ctrl-C and "
          + "reconnect with back-off (0.5 s doubling to 30 s).",
      "While the broker is down a file waits for it; a live source keeps reading, buffers up to "
          + "--buffer-frames / --buffer-mb, then drops new frames and counts them. The summary "
          + "says how many frames were sent, dropped (broker unavailable) and failed.",
      "Each stream ends with an end-of-stream mark on PREFIX.frames (header end-of-stream: eof, "
          + "truncated, source-lost or stopped)."
    },
    footer = {
      "",
      "Exit codes: 0 done; 1 bad input (missing, empty, non-video or audio-only file) or Kafka "
          + "error, one line on stderr; 3 the file was truncated (any container: MP4, MKV, "
          + "MPEG-TS, ...): the frames that could be decoded were sent and the summary says TRUNCATED."
    })
final class IngestCommand implements Callable<Integer> {
  /** Exit code of a truncated file whose decodable frames were sent. */
  static final int EXIT_TRUNCATED = 3;

  @Mixin BrokerOptions broker;

  @Option(names = "--stream", paramLabel = "ID", description = "Stream id, the record key (required).")
  String stream;

  @Parameters(index = "0", paramLabel = "SOURCE",
      description = "A video file, a live URL FFmpeg reads (rtsp://, http(s)://, udp://, srt://, ...) "
          + "or webcam:N for /dev/videoN.")
  String source;

  @Option(names = "--fps", defaultValue = "6",
      description = "Frames sampled per second of presentation time (default: ${DEFAULT-VALUE}).")
  double fps;

  @Option(names = "--max-side", defaultValue = "640", paramLabel = "N",
      description = "Downscale so the longest side is at most N pixels, keeping aspect; 0 keeps "
          + "the decoded size (default: ${DEFAULT-VALUE}).")
  int maxSide;

  @Option(names = "--start-time", paramLabel = "ISO|epochMs",
      description = "Capture time of a file's PTS 0: ISO-8601 (2024-05-01T09:30:00Z, or local "
          + "time without offset) or epoch ms (default: the file's modification time).")
  String startTime;

  @Option(names = "--jpeg-quality", defaultValue = "0.85",
      description = "JPEG quality in (0, 1] (default: ${DEFAULT-VALUE}).")
  double jpegQuality;

  @Option(names = "--speed", defaultValue = "0", paramLabel = "X",
      description = "Files only: 0 = as fast as possible, 1 = real time, 2 = twice real time "
          + "(default: ${DEFAULT-VALUE}).")
  double speed;

  @Option(names = "--read-timeout-ms", defaultValue = "10000",
      description = "Live sources: silence after which the source counts as disconnected and is "
          + "reopened (default: ${DEFAULT-VALUE}).")
  long readTimeoutMs;

  @Option(names = "--buffer-frames", defaultValue = "60", paramLabel = "N",
      description = "Send buffer: at most N frames not yet acknowledged by the broker (default: "
          + "${DEFAULT-VALUE}, 10 s at 6 fps); when full a live source drops new frames, a file waits.")
  int bufferFrames;

  @Option(names = "--buffer-mb", defaultValue = "32", paramLabel = "MB",
      description = "Send buffer: at most MB megabytes of JPEG not yet acknowledged (default: ${DEFAULT-VALUE}).")
  int bufferMb;

  @Override
  public Integer call() {
    if (stream == null || stream.isBlank()) {
      throw new ErrorHandler.UserError("--stream ID is required (or MOMENTS_STREAM)");
    }
    SourceOptions options = new SourceOptions(fps, maxSide, parseStartTime(startTime), speed, readTimeoutMs);
    if (bufferFrames < 1 || bufferMb < 1) {
      throw new IllegalArgumentException("--buffer-frames and --buffer-mb must be >= 1, got "
          + bufferFrames + " and " + bufferMb);
    }
    FramesProducer.Limits limits = new FramesProducer.Limits(bufferFrames, bufferMb * 1024L * 1024);
    if (!VideoSource.isLive(source)) {
      VideoSource.open(source, options).close(); // a bad file fails here, before Kafka is involved
    }
    List<String> created = broker.ensureTopics();
    if (!created.isEmpty()) {
      System.err.println("created topics: " + String.join(", ", created));
    }
    CountDownLatch done = new CountDownLatch(1);
    try (Ingestor ingestor = new Ingestor(broker.bootstrap(), broker.topics(), jpegQuality, System.err::println,
        java.util.Map.of(), limits)) {
      Thread hook = new Thread(() -> {
        ingestor.stop();
        try {
          // A blocked live read gives up after the read timeout; then the end-of-stream mark and
          // the buffered frames get Ingestor.STOP_GRACE_MS to be acknowledged; then the summary.
          done.await(readTimeoutMs + Ingestor.STOP_GRACE_MS + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "ingest-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        IngestResult r = ingestor.ingest(stream, source, options);
        System.out.println(r.summary());
        return r.truncated() ? EXIT_TRUNCATED : 0;
      } finally {
        done.countDown();
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running (Ctrl-C); it waits for 'done' above
        }
      }
    }
  }

  /** ISO-8601 instant/offset date-time, local date-time (system zone), or epoch ms; null = unset. */
  static Long parseStartTime(String s) {
    if (s == null || s.isBlank()) {
      return null;
    }
    String t = s.trim();
    if (t.matches("-?\\d+")) {
      return Long.parseLong(t);
    }
    try {
      return Instant.parse(t).toEpochMilli();
    } catch (DateTimeParseException e) {
      // try the next form
    }
    try {
      return OffsetDateTime.parse(t).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      // try the next form
    }
    try {
      return LocalDateTime.parse(t).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("--start-time must be ISO-8601 (e.g. 2024-05-01T09:30:00Z) "
          + "or epoch milliseconds, got: " + s);
    }
  }
}
