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
 *
 * <p>When the broker is down or slow, a file waits for it (saying so every 10 s) and a live
 * source keeps reading: its frames fill a bounded send buffer ({@link FramesProducer.Limits}),
 * then new frames are dropped and counted until the broker is back; the result says how many
 * frames were sent, dropped and failed (sampled = sent + dropped + failed).
 *
 * <p>Every stream ends with an end-of-stream mark on the frames topic ({@link
 * Topics#HEADER_END_OF_STREAM}, null value, timestamp = the last frame's capture time), after its
 * frames: reason {@code eof} or {@code truncated} at the end of a file, {@code source-lost} when
 * a live source closes or goes silent (frames after the reconnect go on under the same key),
 * {@code stopped} after {@link #stop()}. None is sent for a stretch without any frame sent.
 * After {@link #stop()} an ingest waits at most {@value #STOP_GRACE_MS} ms for the broker to
 * acknowledge what it buffered; what is left then counts as failed.
 */
public final class Ingestor implements AutoCloseable {
  static final long BACKOFF_START_MS = 500;
  static final long BACKOFF_MAX_MS = 30_000;
  /** After {@link #stop()}, how long an ingest still waits for the broker to acknowledge. */
  public static final long STOP_GRACE_MS = 10_000;
  private static final long PROGRESS_EVERY_MS = 10_000;

  private final String bootstrap;
  private final Topics topics;
  private final double jpegQuality;
  private final Consumer<String> log;
  private final Map<String, Object> producerOverrides;
  private final FramesProducer.Limits limits;
  private final CountDownLatch stopped = new CountDownLatch(1);

  /**
   * @param jpegQuality JPEG quality in (0, 1]
   * @param log receives one-line status messages (reconnects, progress, the broker); e.g.
   *     {@code System.err::println}
   */
  public Ingestor(String bootstrap, Topics topics, double jpegQuality, Consumer<String> log) {
    this(bootstrap, topics, jpegQuality, log, Map.of());
  }

  /** Like the short constructor, with Kafka producer properties that override the defaults. */
  public Ingestor(String bootstrap, Topics topics, double jpegQuality, Consumer<String> log,
      Map<String, Object> producerOverrides) {
    this(bootstrap, topics, jpegQuality, log, producerOverrides, FramesProducer.Limits.DEFAULT);
  }

  /** Like the short constructor, with producer properties and the send buffer's size. */
  public Ingestor(String bootstrap, Topics topics, double jpegQuality, Consumer<String> log,
      Map<String, Object> producerOverrides, FramesProducer.Limits limits) {
    new JpegEncoder(jpegQuality).close(); // validates the quality before connecting
    if (bootstrap == null || bootstrap.isBlank()) {
      throw new IllegalArgumentException("Kafka bootstrap servers are empty");
    }
    this.bootstrap = bootstrap;
    this.topics = topics;
    this.jpegQuality = jpegQuality;
    this.log = log;
    this.producerOverrides = Map.copyOf(producerOverrides);
    this.limits = limits;
  }

  /**
   * Ingests {@code source} under {@code streamId} and returns when a file ends or, for a live
   * source, after {@link #stop()}.
   *
   * @throws VideoSourceException when a file is missing, empty, not a video or has no video
   * @throws IllegalStateException when Kafka rejects a file's frames
   */
  public IngestResult ingest(String streamId, String source, SourceOptions options) {
    if (streamId == null || streamId.isBlank()) {
      throw new IllegalArgumentException("stream id is empty");
    }
    long t0 = System.nanoTime();
    Run run = new Run(streamId);
    boolean truncated = false;
    String note = "";
    FramesProducer out;
    try (JpegEncoder jpeg = new JpegEncoder(jpegQuality)) {
      if (!VideoSource.isLive(source)) {
        try (VideoSource s = VideoSource.open(source, options);
            FramesProducer o = new FramesProducer(bootstrap, topics, streamId, producerOverrides, limits, log)) {
          out = o;
          boolean ended = pump(s, jpeg, o, run, t0, true);
          run.add(s);
          truncated = s.truncated();
          note = s.endNote();
          run.mark(o, !ended ? "stopped" : truncated ? "truncated" : "eof");
          finish(o, run);
          if (o.failure() != null) {
            Exception e = o.failure();
            throw new IllegalStateException("writing frames to Kafka topic " + topics.frames().name()
                + " failed: " + e.getMessage(), e);
          }
        }
      } else {
        try (FramesProducer o = new FramesProducer(bootstrap, topics, streamId, producerOverrides, limits, log)) {
          out = o;
          runLive(source, options, jpeg, o, run);
          run.mark(o, "stopped");
          finish(o, run);
        }
      }
    }
    long wallMs = (System.nanoTime() - t0) / 1_000_000;
    // Counted after close(): what was still unacknowledged then has failed.
    return new IngestResult(streamId, source, run.sampled, out.acknowledged(), out.dropped(), out.failed(),
        run.decoded, run.mediaMs, wallMs, truncated, note, run.reconnects, out.lastMarkAcknowledged());
  }

  /** Waits for the broker to acknowledge what this run buffered (bounded once stopped). */
  private void finish(FramesProducer out, Run run) {
    if (!out.awaitDelivered(this::isStopped, STOP_GRACE_MS)) {
      log.accept("ingest " + run.streamId + ": the broker did not acknowledge every record within "
          + STOP_GRACE_MS / 1000 + " s of the stop; the rest counts as failed");
    }
  }

  private void runLive(String source, SourceOptions options, JpegEncoder jpeg, FramesProducer out, Run run) {
    long t0 = System.nanoTime();
    long backoff = BACKOFF_START_MS;
    boolean opened = false;
    while (!isStopped()) {
      VideoSource s;
      try {
        s = VideoSource.open(source, options);
        if (opened) {
          run.reconnects++;
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
      log.accept("ingest " + run.streamId + ": reading " + s.name() + " (" + s.width() + "x" + s.height() + ")");
      try (VideoSource open = s) {
        try {
          pump(open, jpeg, out, run, t0, false);
        } catch (VideoSourceException e) {
          log.accept(e.getMessage());
        }
        run.add(open);
        if (open.sampledFrames() > 0) {
          backoff = BACKOFF_START_MS;
        }
        if (!isStopped()) {
          run.mark(out, "source-lost");
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

  /**
   * Reads, encodes and buffers frames until the source ends or the ingest is stopped.
   *
   * @return whether the source ended (rather than the ingest being stopped)
   */
  private boolean pump(VideoSource s, JpegEncoder jpeg, FramesProducer out, Run run, long t0, boolean file) {
    long nextProgress = System.nanoTime() + PROGRESS_EVERY_MS * 1_000_000;
    Exception reported = null;
    while (!isStopped()) {
      SampledFrame f = s.next();
      if (f == null) {
        return true;
      }
      run.sampled++;
      if (out.offer(jpeg.encode(f.image()), f.ptsMs(), f.captureTimeMs(), file, this::isStopped)) {
        run.sinceMark++;
        run.lastCaptureMs = f.captureTimeMs();
      }
      Exception failure = out.failure();
      if (failure != null && failure != reported) {
        if (file) {
          return false; // ingest() reports it
        }
        reported = failure;
        log.accept("ingest " + run.streamId + ": Kafka rejected a frame: " + failure.getMessage());
      }
      if (System.nanoTime() > nextProgress) {
        nextProgress = System.nanoTime() + PROGRESS_EVERY_MS * 1_000_000;
        log.accept(String.format(Locale.ROOT,
            "ingest %s: %d frames sampled (%d sent, %d dropped), %.1f s of media, %.0f s wall",
            run.streamId, run.sampled, out.acknowledged(), out.dropped(),
            (run.mediaMs + s.mediaDurationMs()) / 1000.0, (System.nanoTime() - t0) / 1e9));
      }
    }
    return false;
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
   * a blocked live read times out), sends the end-of-stream mark and returns its result once the
   * broker acknowledged what was buffered, or after {@value #STOP_GRACE_MS} ms. Safe from any
   * thread, e.g. a shutdown hook.
   */
  public void stop() {
    stopped.countDown();
  }

  public boolean isStopped() {
    return stopped.getCount() == 0 || Thread.currentThread().isInterrupted();
  }

  /** Stops a running {@link #ingest} ({@link #stop()}); each ingest closes its own producer. */
  @Override
  public void close() {
    stop();
  }

  /** What one ingest run has done so far. */
  private static final class Run {
    final String streamId;
    long decoded;
    long sampled;
    long mediaMs;
    int reconnects;
    long sinceMark;
    long lastCaptureMs;

    Run(String streamId) {
      this.streamId = streamId;
    }

    void add(VideoSource s) {
      decoded += s.decodedFrames();
      mediaMs += s.mediaDurationMs();
    }

    /** Ends the stream's frames sent since the last mark with a mark, if there are any. */
    void mark(FramesProducer out, String reason) {
      if (sinceMark > 0) {
        out.endOfStream(reason, lastCaptureMs);
        sinceMark = 0;
      }
    }
  }
}
