package dev.moments.api.frames;

import dev.moments.topics.LoopHealth;
import dev.moments.topics.TopicPartitions;
import dev.moments.topics.Topics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Frames read straight from the frames topic, wherever their producer put them (DESIGN §8: any
 * partitioner, any timestamps).
 *
 * <p>A background consumer (the "frames-counter" loop) reads every partition of the topic from the
 * beginning and then follows it, and keeps, per stream, its frames' capture times → (partition,
 * offset) in memory ({@link StreamFrames}: 16 bytes per frame, about 16 MB per million frames in
 * time order, at most twice that when frames arrive far out of order). The JPEG bytes it reads
 * are never copied out of the client's fetch buffers. End-of-stream marks ({@link
 * Topics#HEADER_END_OF_STREAM}), records without a key and records with an empty value are not
 * frames and are skipped. Frames deleted by the topic's retention leave the index within {@value
 * #REFRESH_MS} ms of the broker deleting them.
 *
 * <p>A lookup answers from that index: a stream the index does not hold is "not found" at once,
 * without asking Kafka; otherwise the frame nearest in time is fetched by (partition, offset)
 * with one of {@value #LOOKUP_CONSUMERS} lookup consumers (never the counter's), and kept in an
 * LRU cache bounded in bytes. Until the counter has read the topic up to where it ended at start,
 * a lookup waits for it at most {@value #CATCH_UP_WAIT_MS} ms and then answers from what is
 * indexed so far. After that, frames written after the counter's position (normally less than a
 * second behind) are not waited for: a lookup past a stream's newest indexed frame answers that
 * frame, and a stream whose first frame is not indexed yet is not found.
 *
 * <p>The counter survives broker outages: every failed iteration is retried with back-off and
 * reported by {@link #health()}.
 */
public final class KafkaFrameStore implements FrameStore, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KafkaFrameStore.class);

  /** Lookup consumers: at most this many frames are fetched from Kafka at once. */
  static final int LOOKUP_CONSUMERS = 3;

  /** How long a lookup waits for the counter's first pass over the topic. */
  static final long CATCH_UP_WAIT_MS = 2000;

  /** How often the counter re-reads the partitions and the first and end offsets. */
  static final long REFRESH_MS = 5000;

  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);

  private final String topic;
  private final KafkaConsumer<String, Integer> counter;
  private final BlockingQueue<KafkaConsumer<String, byte[]>> lookups;
  private final List<KafkaConsumer<String, byte[]>> allLookups = new ArrayList<>();
  private final Map<String, StreamFrames> index = new ConcurrentHashMap<>();
  private final FrameCache cache;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong fetches = new AtomicLong();
  private final CountDownLatch countedToEnd = new CountDownLatch(1);
  private final LoopHealth health = new LoopHealth("frames-counter");
  private final Thread counterThread;

  // The counter thread's own state.
  private List<TopicPartition> assigned = List.of();
  private Map<TopicPartition, Long> endAtStart;
  private Map<Integer, Long> firstOffsets = Map.of();
  private long nextRefresh;

  /**
   * Connects to the frames topic; {@link #start()} starts counting.
   *
   * @param cacheBytes bytes of JPEG kept in the lookup cache, {@code >= 0}
   */
  public KafkaFrameStore(String bootstrap, String topic, long cacheBytes) {
    this.topic = Objects.requireNonNull(topic, "topic");
    this.cache = new FrameCache(cacheBytes);
    Properties cp = props(bootstrap, "frames-counter");
    cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    this.counter = new KafkaConsumer<>(cp, new StringDeserializer(), new ValueSize());
    this.lookups = new ArrayBlockingQueue<>(LOOKUP_CONSUMERS);
    try {
      for (int i = 0; i < LOOKUP_CONSUMERS; i++) {
        Properties lp = props(bootstrap, "frames-lookup-" + i);
        // One record batch per fetch (the broker always returns at least one, whatever its size):
        // a lookup wants one frame, not the megabyte of frames after it.
        lp.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "1");
        lp.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, "1");
        lp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1");
        lp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(lp, new StringDeserializer(), new ByteArrayDeserializer());
        allLookups.add(c);
        lookups.add(c);
      }
    } catch (RuntimeException e) {
      allLookups.forEach(c -> c.close(Duration.ZERO));
      counter.close(Duration.ZERO);
      throw e;
    }
    this.counterThread = new Thread(this::countLoop, "frames-counter");
    this.counterThread.setDaemon(true);
  }

  /** Starts the background frame counter. */
  public void start() {
    counterThread.start();
  }

  /** True once the counter has read the topic up to the end it saw when it started. */
  public boolean countedToEnd() {
    return countedToEnd.getCount() == 0;
  }

  /** The counter loop's state, for {@code /health}. */
  public LoopHealth.Status health() {
    return health.status();
  }

  /** Frames fetched from Kafka by lookups so far (cache hits and unknown streams fetch nothing). */
  public long fetches() {
    return fetches.get();
  }

  /** Frames in the index now. */
  public long indexedFrames() {
    long n = 0;
    for (StreamFrames f : index.values()) {
      n += f.size();
    }
    return n;
  }

  @Override
  public Optional<Frame> nearest(String streamId, long timeMs) {
    if (!countedToEnd()) {
      try {
        countedToEnd.await(CATCH_UP_WAIT_MS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    StreamFrames frames = index.get(streamId);
    StreamFrames.Hit hit = frames == null ? null : frames.nearest(timeMs);
    if (hit == null) {
      return Optional.empty();
    }
    byte[] jpeg = cache.get(hit.loc());
    if (jpeg == null) {
      jpeg = fetch(streamId, hit);
      if (jpeg == null) {
        return Optional.empty();
      }
      cache.put(hit.loc(), jpeg);
    }
    return Optional.of(new Frame(streamId, hit.timeMs(), jpeg));
  }

  // The value at the hit's partition and offset; null when retention deleted it meanwhile.
  private byte[] fetch(String streamId, StreamFrames.Hit hit) {
    TopicPartition tp = new TopicPartition(topic, hit.partition());
    KafkaConsumer<String, byte[]> c;
    try {
      c = lookups.poll(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unavailable("interrupted while waiting for a frame lookup consumer", e);
    }
    if (c == null) {
      throw new Unavailable("all " + LOOKUP_CONSUMERS + " frame lookup consumers stayed busy for "
          + CALL_TIMEOUT.toMillis() + " ms (is the broker slow?)", null);
    }
    try {
      if (closed.get()) {
        throw new Unavailable("the frame store is closed", null);
      }
      fetches.incrementAndGet();
      c.assign(List.of(tp));
      c.seek(tp, hit.offset());
      long deadline = System.nanoTime() + CALL_TIMEOUT.toNanos();
      while (System.nanoTime() < deadline) {
        ConsumerRecords<String, byte[]> batch = c.poll(Duration.ofMillis(100));
        for (ConsumerRecord<String, byte[]> r : batch.records(tp)) {
          if (r.offset() != hit.offset() || !streamId.equals(r.key())) {
            // Compaction or a re-created topic: the index no longer matches; treat as gone.
            log.warn("frame of {} at {}-{} is gone (found key {} at offset {})", streamId, tp, hit.offset(),
                r.key(), r.offset());
            return null;
          }
          return r.value();
        }
      }
      throw new Unavailable("frame of stream '" + streamId + "' at " + tp + " offset " + hit.offset()
          + " not read within " + CALL_TIMEOUT.toMillis() + " ms (broker unreachable?)", null);
    } catch (OffsetOutOfRangeException e) {
      return null; // deleted by retention since the counter last pruned
    } catch (KafkaException e) {
      throw new Unavailable("frame of stream '" + streamId + "' cannot be read now: " + e.getMessage(), e);
    } finally {
      lookups.add(c);
    }
  }

  @Override
  public Map<String, FrameSpan> frameSpans() {
    Map<String, FrameSpan> out = new HashMap<>();
    index.forEach((stream, frames) -> {
      FrameSpan s = frames.span();
      if (s != null) {
        out.put(stream, s);
      }
    });
    return out;
  }

  private void countLoop() {
    health.run(() -> !closed.get(), this::countOnce);
  }

  private void countOnce() {
    if (System.currentTimeMillis() >= nextRefresh) {
      refresh();
      nextRefresh = System.currentTimeMillis() + REFRESH_MS;
    }
    if (assigned.isEmpty()) {
      // No topic yet: look again at the next refresh.
      LoopHealth.sleepWhile(Duration.ofMillis(500), () -> !closed.get());
      return;
    }
    ConsumerRecords<String, Integer> batch = counter.poll(Duration.ofMillis(500));
    for (ConsumerRecord<String, Integer> r : batch) {
      Integer size = r.value();
      if (r.key() == null || size == null || size == 0 || Topics.isEndOfStream(r.headers())) {
        continue;
      }
      index.computeIfAbsent(r.key(), k -> new StreamFrames()).add(r.timestamp(), StreamFrames.loc(r.partition(), r.offset()));
    }
    if (!countedToEnd() && endAtStart != null) {
      for (Map.Entry<TopicPartition, Long> e : endAtStart.entrySet()) {
        if (counter.position(e.getKey(), CALL_TIMEOUT) < e.getValue()) {
          return;
        }
      }
      countedToEnd.countDown();
      log.info("frames index of {} caught up: {} frames of {} streams", topic, indexedFrames(), index.size());
    }
  }

  // Partitions (added ones are read from the beginning), end offsets (the first time: where the
  // first pass ends) and first offsets (frames below them were deleted by retention).
  private void refresh() {
    List<TopicPartition> added = TopicPartitions.assignNew(counter, topic, CALL_TIMEOUT);
    if (!added.isEmpty()) {
      counter.seekToBeginning(added);
      assigned = List.copyOf(counter.assignment());
    }
    if (assigned.isEmpty()) {
      return;
    }
    // Both calls ask the broker (no cache): a refresh that works shows the broker answers.
    Map<TopicPartition, Long> ends = counter.endOffsets(assigned, CALL_TIMEOUT);
    if (endAtStart == null) {
      endAtStart = new HashMap<>(ends);
    }
    Map<Integer, Long> firsts = new HashMap<>();
    counter.beginningOffsets(assigned, CALL_TIMEOUT).forEach((tp, off) -> firsts.put(tp.partition(), off));
    if (!firsts.equals(firstOffsets)) {
      long dropped = 0;
      for (Iterator<StreamFrames> it = index.values().iterator(); it.hasNext(); ) {
        StreamFrames f = it.next();
        dropped += f.retainFrom(firsts);
      }
      // Empty streams stay as keys with no span until the next frame: frameSpans() skips them.
      if (dropped > 0) {
        log.info("dropped {} frames of {} that retention deleted", dropped, topic);
      }
      firstOffsets = firsts;
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      counter.wakeup();
      try {
        counterThread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (!counterThread.isAlive()) {
        counter.close(Duration.ofSeconds(2));
      }
      for (int i = 0; i < allLookups.size(); i++) {
        KafkaConsumer<String, byte[]> c;
        try {
          c = lookups.poll(CALL_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        if (c != null) {
          c.close(Duration.ofSeconds(2));
        }
      }
    }
  }

  private static Properties props(String bootstrap, String clientSuffix) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "moments-api-" + clientSuffix);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
    return p;
  }

  /**
   * The value's size in bytes (null for a null value), read from the client's buffer without
   * copying it: the counter needs keys, timestamps and headers only.
   */
  private static final class ValueSize implements Deserializer<Integer> {
    @Override
    public Integer deserialize(String topic, byte[] data) {
      return data == null ? null : data.length;
    }

    @Override
    public Integer deserialize(String topic, Headers headers, ByteBuffer data) {
      return data == null ? null : data.remaining();
    }
  }

  /** JPEGs by packed location, least recently used first out, at most {@code maxBytes} in all. */
  static final class FrameCache {
    private final long maxBytes;
    private final LinkedHashMap<Long, byte[]> map = new LinkedHashMap<>(64, 0.75f, true);
    private long bytes;

    FrameCache(long maxBytes) {
      if (maxBytes < 0) {
        throw new IllegalArgumentException("cache bytes must be >= 0, got " + maxBytes);
      }
      this.maxBytes = maxBytes;
    }

    synchronized byte[] get(long loc) {
      return map.get(loc);
    }

    synchronized void put(long loc, byte[] jpeg) {
      if (jpeg.length > maxBytes || map.containsKey(loc)) {
        return;
      }
      map.put(loc, jpeg);
      bytes += jpeg.length;
      for (Iterator<byte[]> it = map.values().iterator(); bytes > maxBytes && it.hasNext(); ) {
        bytes -= it.next().length;
        it.remove();
      }
    }

    synchronized long bytes() {
      return bytes;
    }
  }
}
