package dev.moments.app.demo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moments.indexer.index.Materializer;
import dev.moments.topics.MomentRecord;
import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Watches one stream while it is ingested at a real-time pace: when each of its windows becomes
 * searchable, and when the served search first answers each watched question right.
 *
 * <p><b>Capture time</b> of stream time {@code ts}: the wall-clock instant the ingest had paced
 * up to it, {@code wall0 + (ts - streamStartMs) / speed}, with {@code wall0} taken just before the
 * ingest starts (decoding begins a little later, so the latencies below are, if anything, a little
 * too long).
 *
 * <p><b>Window latency</b>: for each window of the stream's moments (read from {@code
 * moments.moments}, read_committed, as the query API's materializer reads it), the time from the
 * capture of the window's last frame ({@code end - 1 frame}, {@code end = window id start + W}) to
 * the first poll (every {@value #POLL_MS} ms) at which the query API's materializer has put every
 * record of the topic up to the window's last moment into the index and made it searchable (what
 * the index keeps of them: each stretch from the windows nearest it). A retracted (provisional)
 * window is counted like any other.
 *
 * <p><b>Answer latency</b> of a watched question: the time from the capture of its true end to
 * the first {@code GET /api/search} (k = 1, restricted to the stream) whose answer overlaps the
 * truth.
 */
public final class LiveProbe implements AutoCloseable {
  /** How often the index and the answers are checked. */
  static final long POLL_MS = 200;

  /** A question watched while the stream is live, with its true range in seconds from the stream's start. */
  public record Watch(String question, double startSec, double endSec) {}

  /**
   * The first right answer to {@code watch}: its range (seconds from the stream's start), the wall
   * time since the ingest started, the stream seconds captured by then, whether frames were still
   * being produced, and the answer latency (seconds after the truth's end was captured).
   */
  public record Seen(Watch watch, double startSec, double endSec, double atSec, double capturedSec,
      boolean live, double latencySec) {}

  /** One window and when it became searchable. */
  public record Window(long startMs, long endMs, int moments, double latencySec) {}

  private final DemoRunner demo;
  private final Materializer materializer;
  private final String streamId;
  private final long streamStartMs;
  private final double speed;
  private final long windowMs;
  private final long frameMs;
  private final List<Watch> watches;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final HttpClient http = HttpClient.newHttpClient();
  private final long wall0;

  /** Window id -> {start ms, partition, offset of its last moment, its own moments}. */
  private final Map<String, long[]> pending = new LinkedHashMap<>();
  private final List<Window> windows = new ArrayList<>();
  private final Map<Watch, Seen> seen = new LinkedHashMap<>();
  private volatile boolean ingestDone;
  private volatile boolean stop;
  private long lastAnswerPoll;
  private final Thread thread;
  private volatile RuntimeException failure;

  LiveProbe(DemoRunner demo, Materializer materializer, String bootstrap, String momentsTopic, String streamId,
      long streamStartMs, double speed, Duration window, double fps, List<Watch> watches) {
    this.demo = demo;
    this.materializer = materializer;
    this.streamId = streamId;
    this.streamStartMs = streamStartMs;
    this.speed = speed;
    this.windowMs = window.toMillis();
    this.frameMs = Math.round(1000 / fps);
    this.watches = List.copyOf(watches);
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "moments-demo-live-probe");
    consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> parts = consumer.partitionsFor(momentsTopic).stream()
        .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
    consumer.assign(parts);
    consumer.seekToEnd(parts);
    parts.forEach(consumer::position); // fix the start before the stream's first frame is sent
    wall0 = System.nanoTime();
    thread = new Thread(this::run, "demo-live-probe-" + streamId);
    thread.setDaemon(true);
    thread.start();
  }

  /** The wall-clock instant (System.nanoTime) at which stream time {@code ts} was captured. */
  private long captureNanos(long ts) {
    return wall0 + Math.round((ts - streamStartMs) / speed * 1e6);
  }

  private void run() {
    try {
      while (!stop) {
        poll();
        Thread.sleep(POLL_MS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      failure = e;
    }
  }

  private void poll() {
    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
      if (r.value() == null) {
        continue; // a retraction: see the class comment
      }
      MomentRecord m = MomentRecord.fromBytes(r.value());
      if (!m.streamId().equals(streamId)) {
        continue;
      }
      long start = Long.parseLong(m.windowId().substring(m.windowId().lastIndexOf('/') + 1));
      synchronized (pending) {
        long[] w = pending.computeIfAbsent(m.windowId(), k -> new long[] {start, r.partition(), 0, 0});
        w[2] = r.offset();
        w[3]++;
      }
    }
    long now = System.nanoTime();
    synchronized (pending) {
      for (var it = pending.entrySet().iterator(); it.hasNext(); ) {
        long[] w = it.next().getValue();
        if (materializer.searchablePosition((int) w[1]) > w[2]) {
          long end = w[0] + windowMs;
          synchronized (windows) {
            windows.add(new Window(w[0], end, (int) w[3], (now - captureNanos(end - frameMs)) / 1e9));
          }
          it.remove();
        }
      }
    }
    if (seen.size() < watches.size() && now - lastAnswerPoll >= 500_000_000L) {
      lastAnswerPoll = now;
      for (Watch q : watches) {
        if (!seen.containsKey(q)) {
          answer(q);
        }
      }
    }
  }

  private void answer(Watch q) {
    JsonNode top;
    try {
      top = demo.search(http, q.question(), 1, streamId).path("results").path(0);
    } catch (IOException e) {
      return; // asked again at the next poll
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop = true;
      return;
    }
    if (top.isMissingNode()) {
      return;
    }
    double s = (top.path("startMs").asLong() - streamStartMs) / 1000.0;
    double e = (top.path("endMs").asLong() - streamStartMs) / 1000.0;
    if (s < q.endSec() && e > q.startSec()) {
      long now = System.nanoTime();
      double at = (now - wall0) / 1e9;
      long truthEnd = streamStartMs + Math.round(q.endSec() * 1000);
      synchronized (seen) {
        seen.put(q, new Seen(q, s, e, at, at * speed, !ingestDone, (now - captureNanos(truthEnd)) / 1e9));
      }
    }
  }

  /** Says that the ingest has sent its last frame (answers after this are not live). */
  void ingestDone() {
    ingestDone = true;
  }

  /**
   * Waits until a window reaching {@code lastMs} (the stream's last frame) is searchable and every
   * window received is, or {@code limit} passes; stops the probe.
   */
  void finish(long lastMs, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline && failure == null) {
      boolean last;
      synchronized (windows) {
        last = windows.stream().anyMatch(w -> w.endMs() >= lastMs);
      }
      if (last && pendingEmpty()) {
        break;
      }
      Thread.sleep(POLL_MS);
    }
    stop = true;
    thread.join(10_000);
    if (failure != null) {
      throw new IllegalStateException("live probe of " + streamId + " failed: " + failure.getMessage(), failure);
    }
  }

  private boolean pendingEmpty() {
    synchronized (pending) {
      return pending.isEmpty();
    }
  }

  /** The windows that became searchable, in that order. */
  List<Window> windows() {
    synchronized (windows) {
      return List.copyOf(windows);
    }
  }

  /** The first right answer of each watched question that had one. */
  List<Seen> seen() {
    synchronized (seen) {
      return Collections.unmodifiableList(new ArrayList<>(seen.values()));
    }
  }

  @Override
  public void close() {
    stop = true;
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    consumer.close(Duration.ofSeconds(2));
  }
}
