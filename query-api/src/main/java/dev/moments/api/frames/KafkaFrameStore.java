package dev.moments.api.frames;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;

/**
 * Frames read straight from the frames topic. A lookup finds the stream's partition the way
 * Kafka's default partitioner placed it ({@code toPositive(murmur2(key)) % partitions}), asks the
 * broker for the first offset at or after the wanted time ({@code offsetsForTimes}), scans at most
 * {@code maxScan} records around it (half before, half after) for the stream's key, and returns
 * the one with the nearest timestamp. The last {@code cacheSize} answers are cached.
 *
 * <p>Frame counts per stream come from a background consumer that reads the keys and timestamps
 * of the whole topic (values are fetched by the client but never copied) and then follows it.
 *
 * <p>NOTE: a producer that chose partitions itself (not by the key's hash) makes the lookup miss;
 * so does a stream with no frame among the {@code maxScan} records around the time.
 */
public final class KafkaFrameStore implements FrameStore, AutoCloseable {
  private final String topic;
  private final int maxScan;
  private final KafkaConsumer<String, byte[]> lookup;
  private final KafkaConsumer<String, Void> counter;
  private final Map<String, FrameSpan> spans = new ConcurrentHashMap<>();
  private final Map<String, Frame> cache;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread counterThread;
  private volatile boolean countedToEnd;

  /**
   * Connects to the frames topic; {@link #start()} starts counting.
   *
   * @param maxScan most records read per lookup, {@code >= 2}
   * @param cacheSize frames kept in the lookup cache
   */
  public KafkaFrameStore(String bootstrap, String topic, int maxScan, int cacheSize) {
    if (maxScan < 2) {
      throw new IllegalArgumentException("maxScan must be >= 2, got " + maxScan);
    }
    this.topic = Objects.requireNonNull(topic, "topic");
    this.maxScan = maxScan;
    this.lookup = new KafkaConsumer<>(props(bootstrap, "frames-lookup"), new StringDeserializer(), new ByteArrayDeserializer());
    this.counter = new KafkaConsumer<>(props(bootstrap, "frames-counter"), new StringDeserializer(), new Skip());
    this.cache = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Frame> e) {
        return size() > cacheSize;
      }
    });
    this.counterThread = new Thread(this::countLoop, "frames-counter");
    this.counterThread.setDaemon(true);
  }

  /** Starts the background frame counter. */
  public void start() {
    counterThread.start();
  }

  /** True once the counter has read the topic up to the end it saw when it started. */
  public boolean countedToEnd() {
    return countedToEnd;
  }

  /** The partition Kafka's default partitioner gives {@code key} among {@code partitions}. */
  public static int partitionFor(String key, int partitions) {
    return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  @Override
  public Optional<Frame> nearest(String streamId, long timeMs) {
    String cacheKey = streamId + "@" + timeMs;
    Frame cached = cache.get(cacheKey);
    if (cached != null) {
      return Optional.of(cached);
    }
    Optional<Frame> found;
    synchronized (lookup) {
      found = scan(streamId, timeMs);
    }
    found.ifPresent(f -> cache.put(cacheKey, f));
    return found;
  }

  private Optional<Frame> scan(String streamId, long timeMs) {
    List<PartitionInfo> infos = lookup.partitionsFor(topic, Duration.ofSeconds(5));
    if (infos == null || infos.isEmpty()) {
      return Optional.empty();
    }
    TopicPartition tp = new TopicPartition(topic, partitionFor(streamId, infos.size()));
    List<TopicPartition> tps = List.of(tp);
    lookup.assign(tps);
    long begin = lookup.beginningOffsets(tps, Duration.ofSeconds(5)).get(tp);
    long end = lookup.endOffsets(tps, Duration.ofSeconds(5)).get(tp);
    if (end <= begin) {
      return Optional.empty();
    }
    OffsetAndTimestamp at = lookup.offsetsForTimes(Map.of(tp, Math.max(0, timeMs)), Duration.ofSeconds(5)).get(tp);
    long pivot = at == null ? end : at.offset();
    long start = Math.max(begin, pivot - maxScan / 2);
    long stop = Math.min(end, start + maxScan);
    lookup.seek(tp, start);
    ConsumerRecord<String, byte[]> best = null;
    long position = start;
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (position < stop && System.nanoTime() < deadline) {
      ConsumerRecords<String, byte[]> batch = lookup.poll(Duration.ofMillis(200));
      for (ConsumerRecord<String, byte[]> r : batch.records(tp)) {
        if (r.offset() >= stop) {
          position = stop;
          break;
        }
        position = r.offset() + 1;
        if (streamId.equals(r.key()) && r.value() != null
            && (best == null || Math.abs(r.timestamp() - timeMs) < Math.abs(best.timestamp() - timeMs))) {
          best = r;
        }
      }
      if (best != null && lastTimestampPast(batch, tp, timeMs + Math.abs(best.timestamp() - timeMs))) {
        break;
      }
    }
    return best == null ? Optional.empty() : Optional.of(new Frame(streamId, best.timestamp(), best.value()));
  }

  // Once records are past the time by more than the best distance, no later frame can be nearer
  // (timestamps of one partition are close to increasing for live cameras).
  private static boolean lastTimestampPast(ConsumerRecords<String, byte[]> batch, TopicPartition tp, long limit) {
    List<ConsumerRecord<String, byte[]>> rs = batch.records(tp);
    return !rs.isEmpty() && rs.get(rs.size() - 1).timestamp() > limit;
  }

  @Override
  public Map<String, FrameSpan> frameSpans() {
    return Map.copyOf(spans);
  }

  private void countLoop() {
    try {
      List<TopicPartition> assigned = new ArrayList<>();
      Map<TopicPartition, Long> endAtStart = null;
      long nextRefresh = 0;
      while (!closed.get()) {
        if (System.currentTimeMillis() >= nextRefresh) {
          List<PartitionInfo> infos = counter.partitionsFor(topic, Duration.ofSeconds(5));
          nextRefresh = System.currentTimeMillis() + 10_000;
          if (infos != null && infos.size() != assigned.size()) {
            List<TopicPartition> now = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            List<TopicPartition> added = new ArrayList<>(now);
            added.removeAll(assigned);
            counter.assign(now);
            counter.seekToBeginning(added);
            assigned = new ArrayList<>(now);
            if (endAtStart == null) {
              endAtStart = new HashMap<>(counter.endOffsets(now, Duration.ofSeconds(5)));
            }
          }
        }
        if (assigned.isEmpty()) {
          Thread.sleep(500);
          continue;
        }
        ConsumerRecords<String, Void> batch = counter.poll(Duration.ofMillis(500));
        for (ConsumerRecord<String, Void> r : batch) {
          if (r.key() == null) {
            continue;
          }
          long ts = r.timestamp();
          spans.merge(r.key(), new FrameSpan(1, ts, ts),
              (a, b) -> new FrameSpan(a.frames() + 1, Math.min(a.firstMs(), ts), Math.max(a.lastMs(), ts)));
        }
        if (!countedToEnd && endAtStart != null) {
          boolean done = true;
          for (Map.Entry<TopicPartition, Long> e : endAtStart.entrySet()) {
            if (counter.position(e.getKey()) < e.getValue()) {
              done = false;
              break;
            }
          }
          countedToEnd = done;
        }
      }
    } catch (WakeupException e) {
      if (!closed.get()) {
        throw e;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      counter.wakeup();
      try {
        counterThread.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (!counterThread.isAlive()) {
        counter.close(Duration.ofSeconds(2));
      }
      synchronized (lookup) {
        lookup.close(Duration.ofSeconds(2));
      }
    }
  }

  private static Properties props(String bootstrap, String clientSuffix) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "moments-api-" + clientSuffix);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
    return p;
  }

  /** Drops the value bytes: the counter needs keys and timestamps only. */
  private static final class Skip implements Deserializer<Void> {
    @Override
    public Void deserialize(String topic, byte[] data) {
      return null;
    }
  }
}
