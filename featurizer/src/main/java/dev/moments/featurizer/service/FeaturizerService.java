package dev.moments.featurizer.service;

import dev.moments.featurizer.encoder.ImageEncoder;
import dev.moments.topics.DeadLetter;
import dev.moments.topics.DepartedProducers;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The frames-to-features stream processor: consumes {@code <prefix>.frames} (JPEG values) in a
 * consumer group, decodes the images, encodes them in batches across streams (at most
 * {@code maxBatch} frames, the first frame waiting at most {@code maxWait}), and writes one
 * {@link FeatureRecord} per frame to {@code <prefix>.features} with the frame's key (stream id),
 * record timestamp and {@code pts-ms} header. An end-of-stream mark ({@link Topics#HEADER_END_OF_STREAM})
 * is no frame: it is carried into {@code <prefix>.features} in order (same key, timestamp and
 * header, {@code pts-ms} when present, null value).
 *
 * <p>Exactly once: every batch is one Kafka transaction holding its feature records, its
 * dead-letter records and the consumer offsets after it ({@code sendOffsetsToTransaction}), so
 * offsets are committed only together with the features they stand for. Records are produced in
 * consumption order by one (idempotent, transactional) producer, so each stream keeps its order.
 * A frame that is empty, has no (or an empty) key, or does not decode as an image goes to the
 * dead-letter topic with the reason (a {@link DeadLetter#of capped copy}), and the pipeline goes on.
 *
 * <p>One record never blocks the others: when the broker rejects one record's output for good
 * ({@link #rejectsRecord record too large, invalid record or timestamp}: a dead-letter topic
 * with a small {@code max.message.bytes}, a stream id too long for the features topic), the
 * transaction is aborted and the batch written again with that record downgraded: a feature or
 * mark becomes a capped dead letter, a capped dead letter becomes a {@link DeadLetter#headersOnly
 * headers-only} one, and when even that is rejected the record is skipped with an ERROR log that
 * names its topic, partition and offset ({@link Stats#deadLettersLost()}). Any other failure
 * (broker unreachable, timeouts, a rebalance) aborts the batch, which is consumed again after a
 * back-off (200 ms doubling to 10 s, each attempt logged with its count): nothing is lost.
 *
 * <p>Scale-out: instances of one group share the frames partitions through the {@link
 * InterleavedAssignor} (neighbouring partitions on different instances, cooperative rebalancing).
 * A killed instance's partitions move after the {@link FeaturizerConfig#sessionTimeout() session
 * timeout} (6 s by default), and the instance that gets them aborts the killed one's open
 * transaction at once ({@link DepartedProducers}; readers of the features would otherwise wait for
 * it to time out; an instance whose transaction was so aborted, because the group had dropped it,
 * goes on with a new producer); a closed one leaves the group at once. Every assignment change is
 * logged at INFO with the partitions this instance owns; {@link #partitionLags()} tells them with
 * their lag.
 *
 * <p>Runs on its own thread between {@link #start()} and {@link #close()}; usable in-process (the
 * demo) or as {@code moments featurize}.
 */
public final class FeaturizerService implements AutoCloseable {
  static final String STAGE = "featurizer";
  private static final Logger LOG = LoggerFactory.getLogger(FeaturizerService.class);
  private static final long FIRST_BACKOFF_MS = 200;
  private static final long MAX_BACKOFF_MS = 10_000;
  private static final Comparator<TopicPartition> PARTITION_ORDER =
      Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

  /** What a record's output is: as planned, or downgraded after the broker rejected it. */
  private static final int AS_PLANNED = 0;
  private static final int DEAD_LETTER = 1;
  private static final int HEADERS_ONLY = 2;
  private static final int LOST = 3;

  static {
    // Decode in memory; the default disk cache only adds temp files.
    ImageIO.setUseCache(false);
  }

  private final FeaturizerConfig config;
  private final ImageEncoder encoder;
  private final AtomicLong frames = new AtomicLong();
  private final AtomicLong features = new AtomicLong();
  private final AtomicLong deadLetters = new AtomicLong();
  private final AtomicLong marks = new AtomicLong();
  private final AtomicLong deadLettersLost = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final CountDownLatch assigned = new CountDownLatch(1);
  private final CountDownLatch stopping = new CountDownLatch(1);
  private final List<ConsumerRecord<byte[], byte[]>> buffer = new ArrayList<>();
  /** Records whose output the broker rejected, until their batch commits (few: only bad ones). */
  private final Map<RecordId, Downgrade> downgrades = new HashMap<>();
  private int failedAttempts;
  /** System.nanoTime() before which an aborted batch is not polled again; 0: none. */
  private long retryAt;
  private volatile boolean running;
  /** The partitions this instance owns (consumer thread only). */
  private final Set<TopicPartition> owned = new TreeSet<>(PARTITION_ORDER);
  /** Owned partitions and their lag, as of the last poll or rebalance (read by any thread). */
  private volatile Map<TopicPartition, OptionalLong> lags = Map.of();
  private Thread thread;
  private KafkaConsumer<byte[], byte[]> consumer;
  private KafkaProducer<byte[], byte[]> producer;
  /** Whether {@code producer} has been initialized for transactions (consumer thread only). */
  private boolean producerReady = true;
  /** Names this instance in its consumer's client id and its producer's transactional id. */
  private final String instance = UUID.randomUUID().toString();
  private DepartedProducers fencer;

  /**
   * Counters since start. Every record consumed ({@code frames}, end-of-stream marks included)
   * became exactly one of the others once its batch committed: {@code frames = features +
   * deadLetters + marks + deadLettersLost}.
   *
   * @param frames records consumed from the frames topic and committed
   * @param features feature records written
   * @param deadLetters dead letters written (capped copies and headers-only ones)
   * @param batches transactions committed
   * @param marks end-of-stream marks carried into the features topic
   * @param deadLettersLost records skipped because not even a headers-only dead letter was accepted
   */
  public record Stats(long frames, long features, long deadLetters, long batches, long marks,
      long deadLettersLost) {}

  public FeaturizerService(FeaturizerConfig config, ImageEncoder encoder) {
    this.config = config;
    this.encoder = encoder;
  }

  /**
   * Creates the topics when missing, connects, and starts consuming on a new thread.
   *
   * @throws IllegalStateException when already started or Kafka cannot be reached
   */
  public synchronized void start() {
    if (thread != null) {
      throw new IllegalStateException("featurizer already started");
    }
    Topics topics = config.topics();
    TopicAdmin.ensureTopics(config.bootstrap(), topics, config.partitions(), config.replication());
    consumer = new KafkaConsumer<>(consumerProps(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    producer = new KafkaProducer<>(producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
    try {
      producer.initTransactions();
    } catch (KafkaException e) {
      producer.close(Duration.ZERO);
      consumer.close();
      throw new IllegalStateException("cannot start a Kafka transaction at " + config.bootstrap() + ": " + e.getMessage(), e);
    }
    fencer = new DepartedProducers(config.bootstrap(), config.groupId(), () -> Optional.of(instance), "featurizer");
    running = true;
    thread = new Thread(this::run, "featurizer-" + config.groupId());
    thread.setDaemon(false);
    thread.start();
  }

  /** Waits until this instance has been given its partitions (tests, the demo). */
  public boolean awaitAssignment(Duration timeout) throws InterruptedException {
    return assigned.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public Stats stats() {
    return new Stats(frames.get(), features.get(), deadLetters.get(), batches.get(), marks.get(),
        deadLettersLost.get());
  }

  /**
   * The frames partitions this instance owns, in order, each with its lag (records behind the
   * end of the partition, read_committed) as of the last poll; empty when the lag is not known
   * yet. Empty before the first assignment and after close.
   */
  public Map<TopicPartition, OptionalLong> partitionLags() {
    return lags;
  }

  /** The error that stopped the processing thread, or null while it runs (or ended cleanly). */
  public Throwable failure() {
    return failure.get();
  }

  /** Whether the processing thread is running. */
  public boolean isRunning() {
    Thread t = thread;
    return t != null && t.isAlive();
  }

  /** Blocks until the processing thread ends (after {@link #close()} or a failure). */
  public void awaitTermination() throws InterruptedException {
    Thread t = thread;
    if (t != null) {
      t.join();
    }
  }

  /** Stops consuming (the batch in flight is finished and committed), then closes the clients. */
  @Override
  public synchronized void close() {
    running = false;
    stopping.countDown();
    if (thread == null || !thread.isAlive()) {
      return;
    }
    consumer.wakeup();
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Properties consumerProps() {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrap());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(config.maxBatch(), 64));
    // Frames are large: bound what one poll may hold.
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, config.groupId() + "-" + instance + "-consumer");
    p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, InterleavedAssignor.class.getName());
    p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) config.sessionTimeout().toMillis());
    p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) config.heartbeatInterval().toMillis());
    return p;
  }

  private Properties producerProps() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrap());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.groupId() + "-" + instance);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 9 * 1024 * 1024);
    return p;
  }

  private void run() {
    long lastLog = System.nanoTime();
    long lastFrames = 0;
    long deadline = Long.MAX_VALUE;
    try {
      consumer.subscribe(List.of(config.topics().frames().name()), new Rebalance());
      while (running) {
        if (retryAt != 0) {
          // back-off after an aborted batch (rewound: the next poll returns it again)
          long pause = retryAt - System.nanoTime();
          retryAt = 0;
          if (pause > 0 && stopping.await(pause, TimeUnit.NANOSECONDS)) {
            break;
          }
        }
        long now = System.nanoTime();
        Duration timeout = buffer.isEmpty()
            ? Duration.ofMillis(500)
            : Duration.ofNanos(Math.max(0, deadline - now));
        ConsumerRecords<byte[], byte[]> polled;
        try {
          polled = consumer.poll(timeout);
        } catch (WakeupException e) {
          break;
        }
        publishLags();
        for (ConsumerRecord<byte[], byte[]> r : polled) {
          if (buffer.isEmpty()) {
            deadline = System.nanoTime() + config.maxWait().toNanos();
          }
          buffer.add(r);
        }
        while (buffer.size() >= config.maxBatch()) {
          List<ConsumerRecord<byte[], byte[]>> chunk = new ArrayList<>(buffer.subList(0, config.maxBatch()));
          buffer.subList(0, config.maxBatch()).clear();
          process(chunk);
          deadline = System.nanoTime() + config.maxWait().toNanos();
        }
        if (!buffer.isEmpty() && System.nanoTime() >= deadline) {
          flush();
        }
        if (System.nanoTime() - lastLog >= config.logEvery().toNanos()) {
          long f = frames.get();
          double secs = (System.nanoTime() - lastLog) / 1e9;
          if (f != lastFrames) {
            // progress while frames flow; an idle featurizer stays quiet
            LOG.info("featurizer {}: {} frames/s, totals: {} frames, {} features, {} dead letters, {} end-of-stream marks, {} lost",
                config.groupId(), String.format("%.1f", (f - lastFrames) / secs), f, features.get(), deadLetters.get(),
                marks.get(), deadLettersLost.get());
          }
          lastFrames = f;
          lastLog = System.nanoTime();
        }
      }
      flush();
    } catch (WakeupException e) {
      // close() while committing: the uncommitted batch is consumed again after a restart.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      if (!running && causedBy(e, Stopped.class)) {
        // close() during a retried commit: the batch is uncommitted and consumed again after a restart
        LOG.info("featurizer {} stopped with a batch uncommitted: {}", config.groupId(), e.toString());
      } else {
        failure.set(e);
        LOG.error("featurizer {} stopped: {}", config.groupId(), e.toString(), e);
      }
    } finally {
      running = false;
      try {
        producer.close(Duration.ofSeconds(10));
      } finally {
        // leaves the group: the others take the partitions over at once
        consumer.close(Duration.ofSeconds(10));
        owned.clear();
        lags = Map.of();
        fencer.close();
      }
    }
  }

  /** Publishes the owned partitions' lags (consumer thread only). */
  private void publishLags() {
    Map<TopicPartition, OptionalLong> m = new LinkedHashMap<>();
    for (TopicPartition tp : owned) {
      m.put(tp, consumer.currentLag(tp));
    }
    lags = java.util.Collections.unmodifiableMap(m);
  }

  private void flush() {
    if (!buffer.isEmpty()) {
      List<ConsumerRecord<byte[], byte[]>> chunk = new ArrayList<>(buffer);
      buffer.clear();
      process(chunk);
    }
  }

  /**
   * One batch = one transaction: features, marks and dead letters in consumption order, then
   * offsets. Written again at once, with the culprits downgraded, while the broker rejects single
   * records; otherwise rewound to be consumed again after a back-off.
   */
  private void process(List<ConsumerRecord<byte[], byte[]>> batch) {
    int n = batch.size();
    BufferedImage[] images = new BufferedImage[n];
    String[] errors = new String[n];
    boolean[] isMark = new boolean[n];
    IntStream.range(0, n).parallel().forEach(i -> {
      ConsumerRecord<byte[], byte[]> r = batch.get(i);
      if (Topics.isEndOfStream(r.headers())) {
        errors[i] = markError(r);
        isMark[i] = errors[i] == null;
        return;
      }
      try {
        images[i] = decode(r);
      } catch (BadFrame e) {
        errors[i] = e.getMessage();
      }
    });
    List<BufferedImage> ok = new ArrayList<>(n);
    for (BufferedImage img : images) {
      if (img != null) {
        ok.add(img);
      }
    }
    float[][] vectors = ok.isEmpty() ? new float[0][] : encoder.encode(ok);
    byte[][] featureValues = new byte[n][];
    for (int i = 0, v = 0; i < n; i++) {
      if (images[i] != null) {
        featureValues[i] = new FeatureRecord(encoder.id(), vectors[v++]).toBytes();
      }
    }
    // Normally the whole batch is one transaction. When the broker rejects one record, the
    // producer fails every batch it had not sent yet with that same error, so the culprit is
    // known only when one record failed so; else the batch is written one record per
    // transaction (each with its offset) until the culprits are found.
    boolean oneByOne = false;
    int from = 0;
    while (from < n) {
      int to = oneByOne ? from + 1 : n;
      List<ConsumerRecord<byte[], byte[]>> part = batch.subList(from, to);
      Planned[] plan = new Planned[to - from];
      for (int i = from; i < to; i++) {
        plan[i - from] = plan(batch.get(i), featureValues[i], isMark[i], errors[i]);
      }
      @SuppressWarnings("unchecked")
      Future<RecordMetadata>[] sent = new Future[to - from];
      KafkaException aborted = transaction(plan, sent, offsetsAfter(part));
      if (aborted == null) {
        committed(part, plan);
        from = to;
        continue;
      }
      int rejected = 0;
      for (Future<RecordMetadata> f : sent) {
        Throwable e = failedWith(f);
        if (e != null && rejectsRecord(e)) {
          rejected++;
        }
      }
      if (rejected == 1) {
        downgradeRejected(part, plan, sent);
      } else if (rejected > 1) {
        LOG.warn("featurizer: {} of {} records failed as rejected (the producer fails the batches it has not "
            + "sent with the error of the one rejected); writing them one per transaction to find which",
            rejected, to - from);
        oneByOne = true;
      } else {
        // nothing the broker rejected for good: a retriable failure or a rebalance
        failedAttempts++;
        long backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS << Math.min(failedAttempts - 1, 16));
        LOG.warn("featurizer batch of {} records aborted (attempt {}), consumed again in {} ms: {}",
            n - from, failedAttempts, backoff, aborted.toString());
        retryAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff);
        rewind(batch.subList(from, n));
        return;
      }
    }
  }

  /** The consumer offsets to commit with {@code records}: after the last of each partition. */
  private static Map<TopicPartition, OffsetAndMetadata> offsetsAfter(List<ConsumerRecord<byte[], byte[]>> records) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
    }
    return offsets;
  }

  /** One output record (null when lost) and what it counts as. */
  private record Planned(ProducerRecord<byte[], byte[]> record, int level, boolean mark, String reason) {}

  private Planned plan(ConsumerRecord<byte[], byte[]> r, byte[] feature, boolean mark, String error) {
    Downgrade d = downgrades.get(RecordId.of(r));
    int planned = feature != null || mark ? AS_PLANNED : DEAD_LETTER;
    int level = d == null ? planned : Math.max(planned, d.level());
    String reason = planned == DEAD_LETTER ? error : d == null ? null : d.firstWhy();
    switch (level) {
      case AS_PLANNED -> {
        RecordHeaders headers = new RecordHeaders();
        if (mark) {
          headers.add(r.headers().lastHeader(Topics.HEADER_END_OF_STREAM));
        }
        Header pts = r.headers().lastHeader(Topics.HEADER_PTS_MS);
        if (pts != null) {
          headers.add(pts);
        }
        return new Planned(new ProducerRecord<>(config.topics().features().name(), null, r.timestamp(), r.key(),
            mark ? null : feature, headers), level, mark, null);
      }
      case DEAD_LETTER -> {
        return new Planned(DeadLetter.of(config.topics(), STAGE, r, reason), level, mark, reason);
      }
      case HEADERS_ONLY -> {
        String why = reason + "; the dead letter with the payload was rejected: " + d.lastWhy();
        return new Planned(DeadLetter.headersOnly(config.topics(), STAGE, r, why), level, mark, why);
      }
      default -> {
        return new Planned(null, LOST, mark, reason + "; no dead letter was accepted: " + d.lastWhy());
      }
    }
  }

  /**
   * Sends the plan and the offsets in one transaction and commits it; {@code sent[i]} gets the
   * send result of {@code plan[i]}.
   *
   * @return null when committed, else the error that aborted it
   */
  private KafkaException transaction(
      Planned[] plan, Future<RecordMetadata>[] sent, Map<TopicPartition, OffsetAndMetadata> offsets) {
    if (!producerReady) {
      try {
        producer.initTransactions();
        producerReady = true;
      } catch (KafkaException e) {
        return e; // e.g. the broker is unreachable: tried again after a back-off
      }
    }
    try {
      try {
        producer.beginTransaction();
        for (int i = 0; i < plan.length; i++) {
          if (plan[i].record() != null) {
            sent[i] = producer.send(plan[i].record());
          }
        }
        producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
        retryOnTimeout("commit", producer::commitTransaction);
        return null;
      } catch (ProducerFencedException e) {
        throw e;
      } catch (OutOfOrderSequenceException | AuthorizationException e) {
        throw new IllegalStateException("featurizer producer cannot continue: " + e.getMessage(), e);
      } catch (Stopped e) {
        throw e;
      } catch (KafkaException e) {
        // Abortable (a record rejected, a rebalance fenced the offsets, the broker timed out):
        // nothing of the batch became visible.
        retryOnTimeout("abort", producer::abortTransaction);
        return e;
      }
    } catch (ProducerFencedException e) {
      // Another instance aborted this one's open transaction (DepartedProducers): the group had
      // dropped this instance (a pause or a network partition longer than the session timeout)
      // and given its partitions to others. Nothing of the batch became visible; a new producer
      // goes on, and the batch is consumed again where it is still this instance's.
      LOG.warn("featurizer {}: its transaction was aborted by another instance (this one had been dropped from "
          + "the group); going on with a new producer: {}", config.groupId(), e.toString());
      renewProducer();
      return e;
    }
  }

  /** Replaces a fenced producer; the new one is initialized before its first transaction. */
  private void renewProducer() {
    try {
      producer.close(Duration.ZERO);
    } catch (RuntimeException e) {
      LOG.debug("closing the fenced producer: {}", e.toString());
    }
    producer = new KafkaProducer<>(producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
    producerReady = false;
  }

  /**
   * Downgrades the records of an aborted transaction whose send the broker (or the producer)
   * rejected for good.
   */
  private void downgradeRejected(
      List<ConsumerRecord<byte[], byte[]>> batch, Planned[] plan, Future<RecordMetadata>[] sent) {
    for (int i = 0; i < plan.length; i++) {
      Throwable error = failedWith(sent[i]);
      if (error == null || !rejectsRecord(error)) {
        continue;
      }
      ConsumerRecord<byte[], byte[]> r = batch.get(i);
      Planned p = plan[i];
      String topic = p.record().topic();
      String why = "cannot write to " + topic + ": " + error;
      Downgrade d = downgrades.get(RecordId.of(r));
      Downgrade next = d == null
          ? new Downgrade(p.level() + 1, why, why)
          : new Downgrade(p.level() + 1, d.firstWhy(), why);
      downgrades.put(RecordId.of(r), next);
      LOG.warn("featurizer: {} rejected the {} of {}-{}@{} ({}); writing the batch again with {}",
          topic, describe(p), r.topic(), r.partition(), r.offset(), error.toString(),
          next.level() == DEAD_LETTER ? "a dead letter instead"
              : next.level() == HEADERS_ONLY ? "a headers-only dead letter instead" : "the record skipped");
    }
  }

  private static String describe(Planned p) {
    return switch (p.level()) {
      case AS_PLANNED -> p.mark() ? "end-of-stream mark" : "feature";
      case DEAD_LETTER -> "dead letter";
      default -> "headers-only dead letter";
    };
  }

  /** The error a finished send failed with, or null (not sent, still running, succeeded). */
  private static Throwable failedWith(Future<RecordMetadata> f) {
    if (f == null || !f.isDone() || f.state() != Future.State.FAILED) {
      return null;
    }
    return f.exceptionNow();
  }

  /**
   * Whether a send failed because of that one record, for good: it is too large for the topic
   * or the producer, or the broker refused it as invalid (e.g. its timestamp). Retrying the same
   * record cannot succeed; everything else (timeouts, leaders moving, aborted batches) can.
   */
  static boolean rejectsRecord(Throwable e) {
    return e instanceof RecordTooLargeException
        || e instanceof RecordBatchTooLargeException
        || e instanceof InvalidRecordException
        || e instanceof InvalidTimestampException;
  }

  /** Counts a committed batch and forgets its downgrades. */
  private void committed(List<ConsumerRecord<byte[], byte[]>> batch, Planned[] plan) {
    long f = 0;
    long m = 0;
    long d = 0;
    long lost = 0;
    for (int i = 0; i < plan.length; i++) {
      Planned p = plan[i];
      switch (p.level()) {
        case AS_PLANNED -> {
          if (p.mark()) {
            m++;
          } else {
            f++;
          }
        }
        case DEAD_LETTER, HEADERS_ONLY -> d++;
        default -> {
          lost++;
          ConsumerRecord<byte[], byte[]> r = batch.get(i);
          LOG.error("featurizer skipped {}-{}@{}: neither its output nor a dead letter was accepted ({}); "
              + "find it in {} at that offset", r.topic(), r.partition(), r.offset(), p.reason(), r.topic());
        }
      }
      downgrades.remove(RecordId.of(batch.get(i)));
    }
    frames.addAndGet(plan.length);
    features.addAndGet(f);
    marks.addAndGet(m);
    deadLetters.addAndGet(d);
    deadLettersLost.addAndGet(lost);
    batches.incrementAndGet();
    failedAttempts = 0;
  }

  /**
   * Runs a transaction step again while it times out (the broker is unreachable); the producer
   * asks for exactly that after a timed-out commit or abort.
   */
  private void retryOnTimeout(String what, Runnable step) {
    for (int attempt = 1; ; attempt++) {
      try {
        step.run();
        return;
      } catch (TimeoutException e) {
        long backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS << Math.min(attempt - 1, 16));
        LOG.warn("featurizer transaction {} timed out (attempt {}), trying again in {} ms: {}",
            what, attempt, backoff, e.toString());
        try {
          if (!running || stopping.await(backoff, TimeUnit.MILLISECONDS)) {
            throw new Stopped(what, e);
          }
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new Stopped(what, e);
        }
      }
    }
  }

  private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private void rewind(List<ConsumerRecord<byte[], byte[]>> batch) {
    Map<TopicPartition, Long> first = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : batch) {
      first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
    }
    for (ConsumerRecord<byte[], byte[]> r : buffer) {
      first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
    }
    buffer.clear();
    first.forEach((tp, offset) -> {
      if (consumer.assignment().contains(tp)) {
        consumer.seek(tp, offset);
      }
    });
  }

  /** A consumed record, by where it is. */
  private record RecordId(String topic, int partition, long offset) {
    static RecordId of(ConsumerRecord<?, ?> r) {
      return new RecordId(r.topic(), r.partition(), r.offset());
    }
  }

  /**
   * How far a record's output is downgraded ({@link #DEAD_LETTER}, {@link #HEADERS_ONLY},
   * {@link #LOST}), why the planned output was rejected and why the last attempt was.
   */
  private record Downgrade(int level, String firstWhy, String lastWhy) {}

  /** close() while a commit or abort waited for the broker. */
  private static final class Stopped extends KafkaException {
    Stopped(String what, Throwable cause) {
      super("featurizer stopped while its transaction " + what + " waited for the broker", cause);
    }
  }

  /** Why a frame went to the dead-letter topic. */
  private static final class BadFrame extends Exception {
    BadFrame(String reason) {
      super(reason, null, false, false);
    }
  }

  /** Why an end-of-stream mark cannot be carried on, or null when it can. */
  static String markError(ConsumerRecord<byte[], byte[]> r) {
    if (r.key() == null) {
      return "end-of-stream mark has no key (the stream id)";
    }
    if (r.key().length == 0) {
      return "end-of-stream mark has an empty key (the stream id)";
    }
    return null;
  }

  static BufferedImage decode(ConsumerRecord<byte[], byte[]> r) throws BadFrame {
    if (r.key() == null) {
      throw new BadFrame("frame has no key (the stream id)");
    }
    if (r.key().length == 0) {
      throw new BadFrame("frame has an empty key (the stream id)");
    }
    byte[] v = r.value();
    if (v == null || v.length == 0) {
      throw new BadFrame("empty frame value (expected a JPEG image)");
    }
    try {
      BufferedImage img = ImageIO.read(new ByteArrayInputStream(v));
      if (img == null) {
        throw new BadFrame("undecodable frame: " + v.length + " bytes are not a JPEG (or other ImageIO) image");
      }
      if (img.getWidth() < 1 || img.getHeight() < 1) {
        throw new BadFrame("undecodable frame: empty image");
      }
      return img;
    } catch (IOException | RuntimeException e) {
      throw new BadFrame("undecodable JPEG: " + e.getMessage());
    }
  }

  /**
   * Finishes the buffered batch before partitions move; drops it when they were lost. With
   * cooperative rebalancing only the partitions that move are revoked (the others keep flowing),
   * and the whole buffer is committed then: it may hold records of kept partitions too, which is
   * harmless (their offsets are committed with their features). Logs every change at INFO.
   */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty() && running) {
        flush();
      }
      forget(partitions);
      changed("revoked", partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      owned.addAll(partitions);
      changed("assigned", partitions);
      if (!partitions.isEmpty()) {
        fencer.request(); // they may come from a killed instance, with its transaction left open
      }
      assigned.countDown();
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      buffer.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
      forget(partitions);
      changed("lost (its uncommitted batch is consumed again by the new owner)", partitions);
    }

    private void changed(String what, Collection<TopicPartition> partitions) {
      if (!what.equals("assigned")) {
        owned.removeAll(partitions);
      }
      if (running) {
        publishLags();
      } else {
        lags = Map.of(); // closing
      }
      if (!partitions.isEmpty()) {
        LOG.info("featurizer {} ({}): {} {}; owns {} of {} now",
            config.groupId(), consumer.groupMetadata().memberId(), what, names(partitions),
            owned.isEmpty() ? "no partition" : names(owned), config.topics().frames().name());
      }
    }

    private static String names(Collection<TopicPartition> partitions) {
      return partitions.stream().sorted(PARTITION_ORDER).map(tp -> Integer.toString(tp.partition()))
          .collect(java.util.stream.Collectors.joining(", ", "partitions [", "]"));
    }

    /** The partitions' new owner finds out again what the broker rejects. */
    private void forget(Collection<TopicPartition> partitions) {
      downgrades.keySet().removeIf(id -> partitions.contains(new TopicPartition(id.topic(), id.partition())));
    }
  }
}
