package dev.moments.indexer.index;

import dev.moments.model.rank.CentredMoments;
import dev.moments.topics.DeadLetter;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.LoopHealth;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link MomentIndex} equal to the content of the moments topic: a background thread
 * consumes every partition (assigned manually, read-committed), upserts each moment, and commits
 * the index every {@link MaterializerConfig#commitEveryRecords()} records or {@link
 * MaterializerConfig#commitInterval()} together with the next offset of every partition in the
 * commit's user data. On start it seeks to those stored offsets (the beginning when none), so
 * after any crash the index is exactly the topic's content once caught up. No consumer group is
 * used and no offsets are committed to Kafka.
 *
 * <p>A retraction (a null value with the {@code retract-window} header, see {@link
 * Topics#HEADER_RETRACT_WINDOW}) deletes that window's moments. A record that is not a valid
 * moment (or whose embedding the index rejects) is skipped,
 * counted in {@link #skipped()} and logged with its partition and offset.
 *
 * <p>It also consumes every partition of the features topic (when it exists at start) into the
 * index's {@link FrameEvidenceStore}: each frame's feature goes into its stream's second, an
 * end-of-stream mark (null value, {@link Topics#HEADER_END_OF_STREAM}) finishes the stream's open
 * second. The evidence state is flushed right before each commit, so one commit holds the
 * moments, the evidence (partly filled seconds included) and the offsets of both topics. A feature
 * record with no key, a null value without the mark, an undecodable value, a wrong dimension or a
 * late capture time is skipped, counted ({@link #badFrames()}, {@link #lateFrames()}) and logged
 * (the indexer dead-letters the undecodable ones; this reader does not copy them again).
 *
 * <p>The loop survives broker outages: a Kafka error in an iteration is retried with back-off
 * (100 ms doubling to 5 s) and shown by {@link #health()} as degraded; every 5 s the lag is taken
 * from the broker, so an outage shows even while polls just come back empty. Any other error
 * stops the loop ({@link #failure()}, health stopped).
 *
 * <p>NOTE: partitions are looked up once, when the topic first exists; partitions added later
 * are picked up only after a restart.
 */
public final class Materializer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Materializer.class);
  static final String OFFSET_KEY_PREFIX = "offset.";
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
  // How often the lag is taken from the broker rather than from the client's last fetch.
  private static final Duration PROBE_INTERVAL = Duration.ofSeconds(5);

  private final String bootstrap;
  private final Topics topics;
  private final MomentIndex index;
  private final MaterializerConfig cfg;
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicLong lag = new AtomicLong(-1);
  private final AtomicLong consumed = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private final AtomicLong retracted = new AtomicLong();
  private final Map<Integer, Long> searchable = new java.util.concurrent.ConcurrentHashMap<>();
  private final AtomicLong frames = new AtomicLong();
  private final AtomicLong lateFrames = new AtomicLong();
  private final AtomicLong badFrames = new AtomicLong();
  private volatile boolean commitOnClose = true;
  private volatile KafkaConsumer<byte[], byte[]> consumer;
  private volatile Throwable failure;
  private final LoopHealth health = new LoopHealth("materializer");
  private Thread thread;

  public Materializer(String bootstrap, Topics topics, MomentIndex index, MaterializerConfig cfg) {
    this.bootstrap = Objects.requireNonNull(bootstrap, "bootstrap");
    this.topics = Objects.requireNonNull(topics, "topics");
    this.index = Objects.requireNonNull(index, "index");
    this.cfg = Objects.requireNonNull(cfg, "cfg");
  }

  /** Starts the background consumer thread; returns at once. */
  public synchronized void start() {
    if (thread != null) {
      throw new IllegalStateException("materializer already started");
    }
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "moments-materializer-" + topics.prefix());
    consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    running.set(true);
    thread = new Thread(this::run, "moments-materializer");
    thread.setDaemon(true);
    thread.start();
  }

  /** Feature records of the features topic consumed so far by this instance (any outcome). */
  public long framesConsumed() {
    return frames.get();
  }

  /** Frames dropped because their second was already finished (or before the stream's origin). */
  public long lateFrames() {
    return lateFrames.get();
  }

  /** Feature records that were not frames of a known dimension nor end-of-stream marks. */
  public long badFrames() {
    return badFrames.get();
  }

  /** Records of the moments and features topics not yet in the index, or -1 before the first poll. */
  public long lag() {
    return lag.get();
  }

  /**
   * The offset up to which the records of partition {@code partition} of the moments topic are in
   * the index and visible to searches (the next offset to read; 0 before any), whatever the index
   * kept of them.
   */
  public long searchablePosition(int partition) {
    return searchable.getOrDefault(partition, 0L);
  }

  /** True when every record of the topic (up to its last committed transaction) is indexed. */
  public boolean caughtUp() {
    return lag.get() == 0;
  }

  /** Window retractions applied so far by this instance. */
  public long retracted() {
    return retracted.get();
  }

  /** Moment records consumed so far by this instance (skipped ones included). */
  public long consumed() {
    return consumed.get();
  }

  /** Records that were not valid moments and were skipped. */
  public long skipped() {
    return skipped.get();
  }

  /** The error that stopped the consumer thread, or null while healthy. */
  public Throwable failure() {
    return failure;
  }

  /** The consumer loop's state: ok, degraded while the broker fails it (retrying), or stopped. */
  public LoopHealth.Status health() {
    return health.status();
  }

  /** Stops like a killed process would: no final commit (what was not committed is replayed). */
  void halt() {
    commitOnClose = false;
    close();
  }

  /** Stops consuming, commits what was indexed with its offsets, and closes the consumer. */
  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      t = thread;
    }
    if (t == null) {
      return;
    }
    running.set(false);
    KafkaConsumer<byte[], byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    try {
      t.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    KafkaConsumer<byte[], byte[]> c = consumer;
    Map<TopicPartition, Long> next = new HashMap<>();
    Map<TopicPartition, Long> committed = new HashMap<>();
    long sinceCommit = 0;
    long lastCommitNanos = System.nanoTime();
    long nextProbeNanos = System.nanoTime();
    try {
      List<TopicPartition> parts = awaitPartitions(c);
      if (parts == null) {
        return;
      }
      parts = new ArrayList<>(parts);
      parts.addAll(featurePartitions(c));
      c.assign(parts);
      Map<String, String> data = index.commitData();
      for (TopicPartition tp : parts) {
        String stored = data.get(offsetKey(tp));
        if (stored != null) {
          long off = Long.parseLong(stored);
          c.seek(tp, off);
          committed.put(tp, off);
        } else {
          c.seekToBeginning(List.of(tp));
        }
      }
      log.info("materializing {} and {} from stored offsets {}", topics.moments().name(),
          topics.features().name(), committed);
      String featuresTopic = topics.features().name();
      while (running.get()) {
        // A Kafka error (broker down, leader moving) is retried with back-off. The consumer's
        // position only moves past records this loop has handed to the index, so a retry neither
        // skips nor repeats any.
        ConsumerRecords<byte[], byte[]> recs;
        try {
          recs = c.poll(cfg.pollTimeout());
        } catch (WakeupException | InterruptException e) {
          throw e;
        } catch (KafkaException e) {
          if (!health.backOff(e, running::get)) {
            break;
          }
          continue;
        }
        // Counted once the batch is searchable (after the refresh below), so that a reader who
        // sees a count also finds what it counts in the index.
        long batchRetracted = 0;
        long batchSkipped = 0;
        long batchMoments = 0;
        for (ConsumerRecord<byte[], byte[]> r : recs) {
          sinceCommit++;
          if (r.topic().equals(featuresTopic)) {
            frame(r);
            continue;
          }
          batchMoments++;
          try {
            String retract = DeadLetter.header(r.headers(), Topics.HEADER_RETRACT_WINDOW);
            if (r.value() == null && retract != null) {
              index.deleteWindow(retract);
              batchRetracted++;
            } else {
              index.upsert(MomentRecord.fromBytes(r.value()), band(r));
            }
          } catch (IllegalArgumentException bad) {
            batchSkipped++;
            log.warn("skipping bad moment record {}-{} at offset {}: {}",
                r.topic(), r.partition(), r.offset(), bad.getMessage());
          }
        }
        if (!recs.isEmpty()) {
          index.refresh();
          retracted.addAndGet(batchRetracted);
          skipped.addAndGet(batchSkipped);
          consumed.addAndGet(batchMoments);
        }
        try {
          // The position is the next offset to read; it also moves past transaction markers.
          for (TopicPartition tp : parts) {
            next.put(tp, c.position(tp, CALL_TIMEOUT));
          }
          next.forEach((tp, pos) -> {
            if (!tp.topic().equals(featuresTopic)) {
              searchable.put(tp.partition(), pos);
            }
          });
          boolean moved = !next.equals(committed);
          boolean due = System.nanoTime() - lastCommitNanos >= cfg.commitInterval().toNanos();
          if (moved && (sinceCommit >= cfg.commitEveryRecords() || due)) {
            commit(next);
            committed = new HashMap<>(next);
            sinceCommit = 0;
            lastCommitNanos = System.nanoTime();
          }
          boolean probe = System.nanoTime() - nextProbeNanos >= 0;
          lag.set(currentLag(c, parts, probe));
          if (probe) {
            nextProbeNanos = System.nanoTime() + PROBE_INTERVAL.toNanos();
          }
          health.ok();
        } catch (WakeupException | InterruptException e) {
          throw e;
        } catch (KafkaException e) {
          if (!health.backOff(e, running::get)) {
            break;
          }
        }
      }
      if (commitOnClose && !next.isEmpty() && !next.equals(committed)) {
        commit(next);
      }
    } catch (WakeupException e) {
      if (running.get()) {
        failure = e;
        health.stopped(e);
      } else if (commitOnClose && !next.isEmpty() && !next.equals(committed)) {
        commit(next);
      }
    } catch (RuntimeException | Error e) {
      failure = e;
      health.stopped(e);
    } finally {
      c.close(Duration.ofSeconds(5));
    }
  }

  private void commit(Map<TopicPartition, Long> next) {
    index.evidence().flush();
    index.commit(offsetData(next));
  }

  private void frame(ConsumerRecord<byte[], byte[]> r) {
    frames.incrementAndGet();
    if (r.key() == null) {
      badFrame(r, "no key (stream id)");
      return;
    }
    String stream = new String(r.key(), StandardCharsets.UTF_8);
    if (Topics.isEndOfStream(r.headers())) {
      index.evidence().endOfStream(stream);
      return;
    }
    FeatureRecord f;
    try {
      f = FeatureRecord.fromBytes(r.value());
    } catch (IllegalArgumentException bad) {
      badFrame(r, bad.getMessage());
      return;
    }
    switch (index.evidence().accept(stream, r.timestamp(), f.vector())) {
      case ACCEPTED -> { }
      case LATE -> {
        lateFrames.incrementAndGet();
        log.debug("late frame of {} at {} ({}-{} offset {}): its second is finished", stream,
            r.timestamp(), r.topic(), r.partition(), r.offset());
      }
      case WRONG_DIMENSION -> badFrame(r, "stream " + stream + " has " + f.dim()
          + "-dimensional features here and another dimension before");
    }
  }

  private void badFrame(ConsumerRecord<byte[], byte[]> r, String why) {
    badFrames.incrementAndGet();
    log.warn("skipping feature record {}-{} at offset {}: {}", r.topic(), r.partition(), r.offset(), why);
  }

  // The features topic's partitions if it exists now (looked up once; none when it does not).
  private List<TopicPartition> featurePartitions(KafkaConsumer<byte[], byte[]> c) {
    String topic = topics.features().name();
    List<PartitionInfo> infos = null;
    while (running.get()) {
      try {
        infos = c.partitionsFor(topic, CALL_TIMEOUT);
        health.ok();
        break;
      } catch (WakeupException | InterruptException e) {
        throw e;
      } catch (KafkaException e) {
        if (!health.backOff(e, running::get)) {
          break;
        }
      }
    }
    List<TopicPartition> parts = new ArrayList<>();
    if (infos == null || infos.isEmpty()) {
      log.warn("{} does not exist: no frame evidence is kept until a restart after it is created", topic);
      return parts;
    }
    for (PartitionInfo pi : infos) {
      parts.add(new TopicPartition(topic, pi.partition()));
    }
    return parts;
  }

  // The topic's partitions once it exists; null when closed first. Broker errors are retried.
  private List<TopicPartition> awaitPartitions(KafkaConsumer<byte[], byte[]> c) {
    String topic = topics.moments().name();
    while (running.get()) {
      List<PartitionInfo> infos;
      try {
        infos = c.partitionsFor(topic, CALL_TIMEOUT);
      } catch (WakeupException | InterruptException e) {
        throw e;
      } catch (KafkaException e) {
        if (!health.backOff(e, running::get)) {
          return null;
        }
        continue;
      }
      health.ok();
      if (infos != null && !infos.isEmpty()) {
        List<TopicPartition> parts = new ArrayList<>();
        for (PartitionInfo pi : infos) {
          parts.add(new TopicPartition(topic, pi.partition()));
        }
        return parts;
      }
      if (!LoopHealth.sleepWhile(Duration.ofMillis(500), running::get)) {
        return null;
      }
    }
    return null;
  }

  // Records not yet indexed. The client's lag from its last fetch costs nothing but goes stale
  // while the broker is away; a probe asks the broker for the end offsets (and fails if it cannot).
  private static long currentLag(KafkaConsumer<byte[], byte[]> c, Collection<TopicPartition> parts, boolean probe) {
    long total = 0;
    List<TopicPartition> unknown = new ArrayList<>();
    for (TopicPartition tp : parts) {
      OptionalLong l = probe ? OptionalLong.empty() : c.currentLag(tp);
      if (l.isPresent()) {
        total += l.getAsLong();
      } else {
        unknown.add(tp);
      }
    }
    if (!unknown.isEmpty()) {
      Map<TopicPartition, Long> ends = c.endOffsets(unknown, CALL_TIMEOUT);
      for (TopicPartition tp : unknown) {
        total += Math.max(0, ends.getOrDefault(tp, 0L) - c.position(tp, CALL_TIMEOUT));
      }
    }
    return total;
  }

  static String offsetKey(TopicPartition tp) {
    return OFFSET_KEY_PREFIX + tp.topic() + "." + tp.partition();
  }

  private static Map<String, String> offsetData(Map<TopicPartition, Long> next) {
    Map<String, String> m = new HashMap<>();
    next.forEach((tp, off) -> m.put(offsetKey(tp), Long.toString(off)));
    return m;
  }

  /**
   * The moment's window band from the record's headers ({@link Topics#HEADER_BAND_FROM_MS}), or
   * {@code null} when it has none.
   *
   * @throws IllegalArgumentException when only one is present or one is not a decimal ms count
   */
  static CentredMoments.Band band(ConsumerRecord<byte[], byte[]> r) {
    String from = DeadLetter.header(r.headers(), Topics.HEADER_BAND_FROM_MS);
    String until = DeadLetter.header(r.headers(), Topics.HEADER_BAND_UNTIL_MS);
    if (from == null && until == null) {
      return null;
    }
    if (from == null || until == null) {
      throw new IllegalArgumentException("has only one of the headers " + Topics.HEADER_BAND_FROM_MS + " and "
          + Topics.HEADER_BAND_UNTIL_MS);
    }
    try {
      return new CentredMoments.Band(Long.parseLong(from.trim()), Long.parseLong(until.trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("band headers are not ms counts: " + Topics.HEADER_BAND_FROM_MS + "="
          + from + ", " + Topics.HEADER_BAND_UNTIL_MS + "=" + until);
    }
  }
}
