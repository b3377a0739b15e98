package dev.moments.featurizer.service;

import dev.moments.featurizer.encoder.ImageEncoder;
import dev.moments.topics.DeadLetter;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
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
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
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
 * record timestamp and {@code pts-ms} header.
 *
 * <p>Exactly once: every batch is one Kafka transaction holding its feature records, its
 * dead-letter records and the consumer offsets after it ({@code sendOffsetsToTransaction}), so
 * offsets are committed only together with the features they stand for. Records are produced in
 * consumption order by one (idempotent, transactional) producer, so each stream keeps its order.
 * A frame that is empty, has no key, or does not decode as an image goes to the dead-letter topic
 * with the reason, and the pipeline goes on. Runs on its own thread between {@link #start()} and
 * {@link #close()}; usable in-process (the demo) or as {@code moments featurize}.
 */
public final class FeaturizerService implements AutoCloseable {
  static final String STAGE = "featurizer";
  private static final Logger LOG = LoggerFactory.getLogger(FeaturizerService.class);

  static {
    // Decode in memory; the default disk cache only adds temp files.
    ImageIO.setUseCache(false);
  }

  private final FeaturizerConfig config;
  private final ImageEncoder encoder;
  private final AtomicLong frames = new AtomicLong();
  private final AtomicLong features = new AtomicLong();
  private final AtomicLong deadLetters = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final CountDownLatch assigned = new CountDownLatch(1);
  private final List<ConsumerRecord<byte[], byte[]>> buffer = new ArrayList<>();
  private volatile boolean running;
  private Thread thread;
  private KafkaConsumer<byte[], byte[]> consumer;
  private KafkaProducer<byte[], byte[]> producer;

  /** Counters since start. */
  public record Stats(long frames, long features, long deadLetters, long batches) {}

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
    running = true;
    thread = new Thread(this::run, "featurizer-" + config.groupId());
    thread.setDaemon(false);
    thread.start();
  }

  /** Waits until this instance has been given its partitions (tests, the demo). */
  public boolean awaitAssignment(Duration timeout) throws InterruptedException {
    return assigned.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  public Stats stats() {
    return new Stats(frames.get(), features.get(), deadLetters.get(), batches.get());
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
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "featurizer-consumer-" + UUID.randomUUID().toString().substring(0, 8));
    return p;
  }

  private Properties producerProps() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrap());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.groupId() + "-" + UUID.randomUUID());
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
            LOG.info("featurizer {}: {} frames/s, totals: {} frames, {} features, {} dead letters",
                config.groupId(), String.format("%.1f", (f - lastFrames) / secs), f, features.get(), deadLetters.get());
          }
          lastFrames = f;
          lastLog = System.nanoTime();
        }
      }
      flush();
    } catch (WakeupException e) {
      // close() while committing: the uncommitted batch is consumed again after a restart.
    } catch (RuntimeException | Error e) {
      failure.set(e);
      LOG.error("featurizer {} stopped: {}", config.groupId(), e.toString(), e);
    } finally {
      running = false;
      try {
        producer.close(Duration.ofSeconds(10));
      } finally {
        consumer.close(Duration.ofSeconds(10));
      }
    }
  }

  private void flush() {
    if (!buffer.isEmpty()) {
      List<ConsumerRecord<byte[], byte[]>> chunk = new ArrayList<>(buffer);
      buffer.clear();
      process(chunk);
    }
  }

  /** One batch = one transaction: features and dead letters in consumption order, then offsets. */
  private void process(List<ConsumerRecord<byte[], byte[]>> batch) {
    int n = batch.size();
    BufferedImage[] images = new BufferedImage[n];
    String[] errors = new String[n];
    IntStream.range(0, n).parallel().forEach(i -> {
      try {
        images[i] = decode(batch.get(i));
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
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : batch) {
      offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
    }
    String featuresTopic = config.topics().features().name();
    try {
      producer.beginTransaction();
      int v = 0;
      for (int i = 0; i < n; i++) {
        ConsumerRecord<byte[], byte[]> r = batch.get(i);
        if (images[i] == null) {
          producer.send(DeadLetter.of(config.topics(), STAGE, r, errors[i]));
          continue;
        }
        RecordHeaders headers = new RecordHeaders();
        Header pts = r.headers().lastHeader(Topics.HEADER_PTS_MS);
        if (pts != null) {
          headers.add(pts);
        }
        byte[] value = new FeatureRecord(encoder.id(), vectors[v++]).toBytes();
        producer.send(new ProducerRecord<>(featuresTopic, null, r.timestamp(), r.key(), value, headers));
      }
      producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
      producer.commitTransaction();
    } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
      throw new IllegalStateException("featurizer producer cannot continue: " + e.getMessage(), e);
    } catch (KafkaException e) {
      // Abortable (e.g. a rebalance fenced the offsets): nothing of the batch became visible;
      // rewind so that the frames are consumed again, by us or by the partition's new owner.
      LOG.warn("featurizer batch of {} aborted, will be consumed again: {}", n, e.toString());
      producer.abortTransaction();
      rewind(batch);
      return;
    }
    frames.addAndGet(n);
    features.addAndGet(ok.size());
    deadLetters.addAndGet(n - ok.size());
    batches.incrementAndGet();
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

  /** Why a frame went to the dead-letter topic. */
  private static final class BadFrame extends Exception {
    BadFrame(String reason) {
      super(reason, null, false, false);
    }
  }

  static BufferedImage decode(ConsumerRecord<byte[], byte[]> r) throws BadFrame {
    if (r.key() == null) {
      throw new BadFrame("frame has no key (the stream id)");
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

  /** Finishes the buffered batch before partitions move; drops it when they were lost. */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty() && running) {
        flush();
      }
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      assigned.countDown();
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      buffer.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
    }
  }
}
