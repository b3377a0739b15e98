package dev.moments.ingest;

import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes one ingest run's JPEG frames to {@code <prefix>.frames} (DESIGN §3): key = stream id,
 * value = JPEG, timestamp = capture time, headers {@code pts-ms} and {@code content-type:
 * image/jpeg}; and end-of-stream marks ({@link Topics#HEADER_END_OF_STREAM}): same key, null
 * value, the reason as header value, timestamp = the last frame's capture time, sent after the
 * stream's frames through the same producer so that they land after them in the same partition.
 *
 * <p>Frames go through a bounded send buffer: a frame counts from {@link #offer} until the broker
 * acknowledges it, and at most {@link Limits#frames()} frames / {@link Limits#bytes()} bytes are
 * buffered. When it is full, a live source's new frame is dropped and counted ({@link
 * #dropped()}), so that a camera is never held up by a broker that is down; a file's reader
 * waits instead (back-pressure: nothing is lost by waiting) and says so every 10 s. The newest
 * frame is the one dropped: frames handed to Kafka cannot be taken back, and so an outage costs
 * one contiguous gap, from when the buffer filled until the broker is back. Buffered frames wait
 * for the broker as long as it takes (no delivery timeout) and go out in order when it returns.
 *
 * <p>A sender thread hands records to an idempotent Kafka producer ({@code acks=all}, lz4, at
 * most 5 requests in flight) so that the reader never blocks in Kafka (metadata waits, a full
 * producer buffer). {@link #close()} waits for what is buffered only if asked to ({@link
 * #awaitDelivered}); what is still unacknowledged then is failed and counted ({@link #failed()}).
 * One producer serves one ingest run.
 */
public final class FramesProducer implements AutoCloseable {
  private static final byte[] JPEG = "image/jpeg".getBytes(StandardCharsets.US_ASCII);
  private static final long REPORT_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final long RETRY_MS = 500;

  /**
   * How much the send buffer holds: frames handed to {@link #offer} and not yet acknowledged.
   * A single frame larger than {@code bytes} still goes through alone.
   *
   * @param frames at most this many frames (>= 1)
   * @param bytes at most this many JPEG bytes (>= 1)
   */
  public record Limits(int frames, long bytes) {
    /** 60 frames (10 s at the default 6 fps) or 32 MiB, whichever fills first. */
    public static final Limits DEFAULT = new Limits(60, 32L * 1024 * 1024);

    public Limits {
      if (frames < 1 || bytes < 1) {
        throw new IllegalArgumentException("send buffer must hold at least 1 frame and 1 byte, got "
            + frames + " frames, " + bytes + " bytes");
      }
    }
  }

  /** A frame ({@code reason} null) or an end-of-stream mark, and its JPEG size. */
  private record Entry(ProducerRecord<String, byte[]> record, String reason, int bytes) {
    boolean frame() {
      return reason == null;
    }
  }

  private final KafkaProducer<String, byte[]> producer;
  private final String topic;
  private final String streamId;
  private final Limits limits;
  private final Consumer<String> log;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<Entry> queue = new ArrayDeque<>();
  private final Thread sender;

  // guarded by lock
  private int bufferedFrames;
  private long bufferedBytes;
  private int unresolved; // records (frames and marks) offered, neither acknowledged nor failed
  private long acked;
  private String lastMarkAcked = "";
  private long dropped;
  private long failed;
  private Exception failure;
  private boolean closing;
  private long fullSinceNanos;
  private boolean fullReported;
  private long droppedWhileFull;
  private long nextReportNanos;
  private String unavailable; // why the sender cannot hand records to Kafka now, or null

  /**
   * @param streamId the stream this run writes, for messages
   * @param log receives one-line messages about the broker (buffer full, frames dropped, back)
   */
  public FramesProducer(String bootstrap, Topics topics, String streamId, Map<String, Object> overrides,
      Limits limits, Consumer<String> log) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 10);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
    // The send buffer above bounds what is pending; Kafka's own buffer is larger so it never blocks.
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Math.max(64L * 1024 * 1024, 2 * limits.bytes() + 16L * 1024 * 1024));
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
    // Records wait for the broker however long it is down; only close() gives up on them.
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.MAX_VALUE);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2_000);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "moments-ingest-" + streamId);
    p.putAll(overrides);
    this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    this.topic = topics.frames().name();
    this.streamId = streamId;
    this.limits = limits;
    this.log = log;
    this.sender = Thread.ofPlatform().daemon().name("ingest-send-" + streamId).start(this::sendLoop);
  }

  /**
   * Buffers one frame for sending. When the buffer is full: with {@code waitWhenFull} (a file)
   * waits for room, logging every 10 s, until {@code stopped} holds (then the frame is dropped
   * and counted); without it (a live source) drops the frame at once and counts it.
   *
   * @return whether the frame was buffered
   * @throws IllegalStateException after this producer is closed
   */
  public boolean offer(byte[] jpeg, long ptsMs, long captureTimeMs, boolean waitWhenFull, BooleanSupplier stopped) {
    RecordHeaders h = new RecordHeaders();
    h.add(Topics.HEADER_PTS_MS, Long.toString(ptsMs).getBytes(StandardCharsets.US_ASCII));
    h.add(Topics.HEADER_CONTENT_TYPE, JPEG);
    Entry e = new Entry(new ProducerRecord<>(topic, null, captureTimeMs, streamId, jpeg, h), null, jpeg.length);
    lock.lock();
    try {
      checkOpen();
      while (bufferedFrames > 0
          && (bufferedFrames + 1 > limits.frames() || bufferedBytes + jpeg.length > limits.bytes())) {
        long now = System.nanoTime();
        if (fullSinceNanos == 0) {
          fullSinceNanos = now;
          nextReportNanos = now + (waitWhenFull ? REPORT_EVERY_NANOS : 0);
        }
        if (now - nextReportNanos >= 0) {
          nextReportNanos = now + REPORT_EVERY_NANOS;
          fullReported = true;
          logUnlocked(String.format(Locale.ROOT, waitWhenFull
                  ? "ingest %s: waiting for the broker for %.0f s: %d frames (%.2f MB) not yet acknowledged%s"
                  : "ingest %s: send buffer full for %.0f s (%d frames, %.2f MB not yet acknowledged%s): "
                      + "dropping new frames",
              streamId, (now - fullSinceNanos) / 1e9, bufferedFrames, bufferedBytes / 1e6,
              unavailable == null ? "" : "; " + unavailable));
        }
        if (!waitWhenFull || stopped.getAsBoolean()) {
          dropped++;
          droppedWhileFull++;
          return false;
        }
        changed.await(200, TimeUnit.MILLISECONDS);
        checkOpen();
      }
      if (fullSinceNanos != 0 && fullReported) {
        logUnlocked(String.format(Locale.ROOT, "ingest %s: sending again after %.0f s%s", streamId,
            (System.nanoTime() - fullSinceNanos) / 1e9,
            droppedWhileFull == 0 ? "" : "; " + droppedWhileFull + " frames dropped meanwhile (broker unavailable)"));
      }
      fullSinceNanos = 0;
      fullReported = false;
      droppedWhileFull = 0;
      bufferedFrames++;
      bufferedBytes += jpeg.length;
      unresolved++;
      queue.add(e);
      changed.signalAll();
      return true;
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      dropped++;
      return false;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Buffers an end-of-stream mark for the stream after every frame offered so far: null value,
   * header {@link Topics#HEADER_END_OF_STREAM} = {@code reason}. Marks are never dropped (they
   * take no room in the buffer).
   */
  public void endOfStream(String reason, long timestampMs) {
    Entry e = new Entry(Topics.<byte[]>endOfStreamMark(topic, streamId, timestampMs, reason), reason, 0);
    lock.lock();
    try {
      checkOpen();
      unresolved++;
      queue.add(e);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until every record offered so far is acknowledged or failed. Until {@code stopped}
   * holds it waits as long as the broker needs, logging every 10 s; after that at most {@code
   * graceMs} more.
   *
   * @return whether nothing is left unacknowledged
   */
  public boolean awaitDelivered(BooleanSupplier stopped, long graceMs) {
    long start = System.nanoTime();
    long nextReport = start + REPORT_EVERY_NANOS;
    long giveUpAt = 0;
    lock.lock();
    try {
      while (unresolved > 0) {
        long now = System.nanoTime();
        if (giveUpAt == 0 && stopped.getAsBoolean()) {
          giveUpAt = now + TimeUnit.MILLISECONDS.toNanos(graceMs);
        }
        if (giveUpAt != 0 && now - giveUpAt >= 0) {
          return false;
        }
        if (now - nextReport >= 0) {
          nextReport = now + REPORT_EVERY_NANOS;
          logUnlocked(String.format(Locale.ROOT,
              "ingest %s: waiting for the broker for %.0f s: %d records not yet acknowledged%s", streamId,
              (now - start) / 1e9, unresolved, unavailable == null ? "" : "; " + unavailable));
        }
        changed.await(200, TimeUnit.MILLISECONDS);
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return unresolved == 0;
    } finally {
      lock.unlock();
    }
  }

  /** Logs without holding the lock (the log may be slow; Kafka's I/O thread takes the lock). */
  private void logUnlocked(String message) {
    lock.unlock();
    try {
      log.accept(message);
    } finally {
      lock.lock();
    }
  }

  private void sendLoop() {
    while (true) {
      Entry e;
      lock.lock();
      try {
        while (queue.isEmpty() && !closing) {
          changed.awaitUninterruptibly();
        }
        if (closing) {
          return;
        }
        e = queue.peek();
      } finally {
        lock.unlock();
      }
      // Kafka answers a record it did not take (no metadata within max.block.ms, too large) by
      // calling its callback at once, on this thread, inside send(); later answers come from its
      // I/O thread. A record not taken for a retriable reason is offered again.
      Exception[] refused = new Exception[1];
      boolean[] inSend = {true};
      Thread me = Thread.currentThread();
      Exception thrown = null;
      try {
        producer.send(e.record, (md, ex) -> {
          if (ex != null && inSend[0] && Thread.currentThread() == me) {
            refused[0] = ex;
          } else {
            resolved(e, ex);
          }
        });
      } catch (KafkaException | IllegalStateException ex) {
        thrown = ex;
      } finally {
        inSend[0] = false;
      }
      Exception problem = refused[0] != null ? refused[0] : thrown;
      lock.lock();
      try {
        if (problem == null) {
          queue.poll();
          unavailable = null;
          continue;
        }
        if (problem instanceof RetriableException || problem instanceof org.apache.kafka.common.errors.InterruptException) {
          if (!closing) {
            unavailable = "broker unavailable: " + problem.getMessage();
            changed.await(RETRY_MS, TimeUnit.MILLISECONDS);
          }
          continue;
        }
        queue.poll();
      } catch (InterruptedException ie) {
        continue; // closing
      } finally {
        lock.unlock();
      }
      resolved(e, problem);
    }
  }

  /** The producer's answer for one record (on Kafka's I/O thread), or a send that threw. */
  private void resolved(Entry e, Exception ex) {
    lock.lock();
    try {
      unresolved--;
      if (e.frame()) {
        bufferedFrames--;
        bufferedBytes -= e.bytes;
      }
      if (ex == null) {
        if (e.frame()) {
          acked++;
        } else {
          lastMarkAcked = e.reason;
        }
      } else {
        if (e.frame()) {
          failed++;
        }
        if (failure == null && !(ex instanceof RetriableException) && !closing) {
          failure = ex;
        }
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void checkOpen() {
    if (closing) {
      throw new IllegalStateException("frames producer of " + streamId + " is closed");
    }
  }

  /** Frames acknowledged by the broker. */
  public long acknowledged() {
    lock.lock();
    try {
      return acked;
    } finally {
      lock.unlock();
    }
  }

  /** The reason of the last end-of-stream mark the broker acknowledged, or empty. */
  public String lastMarkAcknowledged() {
    lock.lock();
    try {
      return lastMarkAcked;
    } finally {
      lock.unlock();
    }
  }

  /** Frames dropped because the send buffer was full (broker unavailable or too slow). */
  public long dropped() {
    lock.lock();
    try {
      return dropped;
    } finally {
      lock.unlock();
    }
  }

  /** Frames Kafka rejected, or still unacknowledged when the producer was closed. */
  public long failed() {
    lock.lock();
    try {
      return failed;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The first error Kafka answered for a record that retrying cannot fix (e.g. a record too
   * large for the topic), or null.
   */
  public Exception failure() {
    lock.lock();
    try {
      return failure;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops the sender and closes the Kafka producer without waiting: records not acknowledged by
   * now (call {@link #awaitDelivered} first to let them go out) are failed and counted.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      if (closing) {
        return;
      }
      closing = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    sender.interrupt();
    try {
      sender.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // Records handed to Kafka and not acknowledged are failed by a forced close (their callbacks
    // run with an error); those the sender never handed over are failed here.
    producer.close(java.time.Duration.ZERO);
    lock.lock();
    try {
      for (Entry e; (e = queue.poll()) != null; ) {
        unresolved--;
        if (e.frame()) {
          failed++;
          bufferedFrames--;
          bufferedBytes -= e.bytes;
        }
      }
    } finally {
      lock.unlock();
    }
  }
}
