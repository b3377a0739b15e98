package dev.moments.ingest;

import dev.moments.topics.Topics;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Pushes a video source into {@code <prefix>.frames}: decodes and samples it ({@link
 * VideoSource}), encodes JPEG and produces one record per sampled frame ({@link FramesProducer}).
 * This is the library entry point behind {@code moments ingest}, usable in-process (the demo runs
 * it in the same JVM as the broker).
 *
 * <p>A file is read once; {@link #ingest} returns when it ends, with {@link
 * IngestResult#truncated()} set if it ended early. A live source (URL or webcam) is read until
 * {@link #stop()}: when it fails to open, closes or goes silent it is reopened after a back-off
 * that doubles from 0.5 s up to 30 s (reset once frames flow again). The topics must exist (see
 * {@code TopicAdmin.ensureTopics}).
 */
public final class Ingestor implements AutoCloseable {
  static final long BACKOFF_START_MS = 500;
  static final long BACKOFF_MAX_MS = 30_000;
  private static final long PROGRESS_EVERY_MS = 10_000;

  private final FramesProducer producer;
  private final double jpegQuality;
  private final Consumer<String> log;
  private final CountDownLatch stopped = new CountDownLatch(1);

  /**
   * @param jpegQuality JPEG quality in (0, 1]
   * @param log receives one-line status messages (reconnects, progress); e.g. {@code
   *     System.err::println}
   */
  public Ingestor(String bootstrap, Topics topics, double jpegQuality, Consumer<String> log) {
    this(bootstrap, topics, jpegQuality, log, Map.of());
  }

  /** Like the short constructor, with Kafka producer properties that override the defaults. */
  public Ingestor(String bootstrap, Topics topics, double jpegQuality, Consumer<String> log,
      Map<String, Object> producerOverrides) {
    new JpegEncoder(jpegQuality).close(); // validates the quality before connecting
    this.jpegQuality = jpegQuality;
    this.log = log;
    this.producer = new FramesProducer(bootstrap, topics, producerOverrides);
  }

  /**
   * Ingests {@code source} under {@code streamId} and returns when a file ends or, for a live
   * source, after {@link #stop()}.
   *
   * @throws VideoSourceException when a file is missing, empty, not a video or has no video
   * @throws IllegalStateException when Kafka rejects frames
   */
  public IngestResult ingest(String streamId, String source, SourceOptions options) {
    if (streamId == null || streamId.isBlank()) {
      throw new IllegalArgumentException("stream id is empty");
    }
    long t0 = System.nanoTime();
    long sentBefore = producer.acknowledged();
    Totals totals = new Totals();
    try (JpegEncoder jpeg = new JpegEncoder(jpegQuality)) {
      if (!VideoSource.isLive(source)) {
        try (VideoSource s = VideoSource.open(source, options)) {
          pump(streamId, s, jpeg, totals, t0);
          totals.add(s);
          producer.flush();
          return result(streamId, source, totals, t0, sentBefore, s.truncated(), s.endNote());
        }
      }
      runLive(streamId, source, options, jpeg, totals);
    }
    producer.flush();
    return result(streamId, source, totals, t0, sentBefore, false, "");
  }

  private void runLive(String streamId, String source, SourceOptions options, JpegEncoder jpeg,
      Totals totals) {
    long t0 = System.nanoTime();
    long backoff = BACKOFF_START_MS;
    boolean opened = false;
    while (!isStopped()) {
      VideoSource s;
      try {
        s = VideoSource.open(source, options);
        if (opened) {
          totals.reconnects++;
        }
        opened = true;
      } catch (VideoSourceException e) {
        log.accept(e.getMessage() + "; retrying in " + seconds(backoff));
        if (sleep(backoff)) {
          break;
        }
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        continue;
      }
      log.accept("ingest " + streamId + ": reading " + s.name() + " (" + s.width() + "x" + s.height() + ")");
      try (VideoSource open = s) {
        try {
          pump(streamId, open, jpeg, totals, t0);
        } catch (VideoSourceException e) {
          log.accept(e.getMessage());
        }
        totals.add(open);
        if (open.sampledFrames() > 0) {
          backoff = BACKOFF_START_MS;
        }
        if (!isStopped()) {
          String note = open.endNote().isEmpty() ? "stream ended" : open.endNote();
          log.accept(source + ": " + note + "; reconnecting in " + seconds(backoff));
        }
      }
      if (isStopped() || sleep(backoff)) {
        break;
      }
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  }

  private void pump(String streamId, VideoSource s, JpegEncoder jpeg, Totals totals, long t0) {
    long nextProgress = System.nanoTime() + PROGRESS_EVERY_MS * 1_000_000;
    SampledFrame f;
    while (!isStopped() && (f = s.next()) != null) {
      producer.send(streamId, jpeg.encode(f.image()), f.ptsMs(), f.captureTimeMs());
      if (System.nanoTime() > nextProgress) {
        nextProgress = System.nanoTime() + PROGRESS_EVERY_MS * 1_000_000;
        log.accept(String.format(Locale.ROOT, "ingest %s: %d frames sampled, %.1f s of media, %.0f s wall",
            streamId, totals.sampled + s.sampledFrames(), (totals.mediaMs + s.mediaDurationMs()) / 1000.0,
            (System.nanoTime() - t0) / 1e9));
      }
    }
  }

  private IngestResult result(String streamId, String source, Totals t, long t0, long sentBefore,
      boolean truncated, String note) {
    long wallMs = (System.nanoTime() - t0) / 1_000_000;
    return new IngestResult(streamId, source, producer.acknowledged() - sentBefore, t.decoded,
        t.mediaMs, wallMs, truncated, note, t.reconnects);
  }

  /** Sleeps up to {@code ms}; returns true if stopped meanwhile. */
  private boolean sleep(long ms) {
    try {
      return stopped.await(ms, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }

  private static String seconds(long ms) {
    return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
  }

  /**
   * Asks a running {@link #ingest} to finish: it stops reading after the current frame (or when
   * a blocked live read times out) and returns its result once the frames sent are acknowledged.
   * Safe from any thread, e.g. a shutdown hook.
   */
  public void stop() {
    stopped.countDown();
  }

  public boolean isStopped() {
    return stopped.getCount() == 0 || Thread.currentThread().isInterrupted();
  }

  @Override
  public void close() {
    producer.close();
  }

  private static final class Totals {
    long decoded;
    long sampled;
    long mediaMs;
    int reconnects;

    void add(VideoSource s) {
      decoded += s.decodedFrames();
      sampled += s.sampledFrames();
      mediaMs += s.mediaDurationMs();
    }
  }
}
