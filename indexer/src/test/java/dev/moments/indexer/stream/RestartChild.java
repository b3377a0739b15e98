package dev.moments.indexer.stream;

import dev.moments.indexer.index.Materializer;
import dev.moments.indexer.index.MaterializerConfig;
import dev.moments.indexer.index.MomentIndex;
import dev.moments.model.LavitiConfig;
import dev.moments.model.LavitiModel;
import dev.moments.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The indexer and the materializer of {@link IndexerRestartTest} in one process, run either in
 * the test JVM (the uninterrupted reference) or as a child JVM that the test kills with SIGKILL.
 * Arguments: bootstrap, topic prefix, state dir, index dir, and optionally the idle flush in
 * seconds (default {@link #CONFIG_TEMPLATE}'s).
 */
public final class RestartChild implements AutoCloseable {
  static final IndexerConfig CONFIG_TEMPLATE = IndexerConfig.defaults(new Topics("unused"))
      .withWindow(Duration.ofSeconds(20), Duration.ofSeconds(5))
      .withLateness(Duration.ofSeconds(2))
      .withIdleFlush(Duration.ofSeconds(10))
      .withFps(2.0);
  static final String ENCODER = "enc-restart";
  static final int DIM = 8;

  private final IndexerService indexer;
  private final MomentIndex index;
  private final Materializer materializer;

  RestartChild(String bootstrap, String prefix, Path stateDir, Path indexDir) {
    this(bootstrap, prefix, stateDir, indexDir, CONFIG_TEMPLATE.idleFlush());
  }

  RestartChild(String bootstrap, String prefix, Path stateDir, Path indexDir, Duration idleFlush) {
    Topics topics = new Topics(prefix);
    // Every moment of every window (copies 0): the test counts the windows' moments in the index to
    // know how far the pipeline got. How the index keeps each stretch from the windows nearest it
    // under replays and a restart from the last commit is MomentIndexTest's.
    IndexerConfig cfg = new IndexerConfig(CONFIG_TEMPLATE.window(), CONFIG_TEMPLATE.hop(),
        idleFlush, CONFIG_TEMPLATE.lateness(), CONFIG_TEMPLATE.fps(), topics,
        prefix + "-indexer").withCopies(0);
    // A killed instance's group membership and open transaction must expire quickly in a test.
    Properties fast = new Properties();
    fast.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
    fast.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1000);
    fast.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), 10_000);
    indexer = new IndexerService(bootstrap, cfg, model(), stateDir, fast);
    index = MomentIndex.open(indexDir);
    materializer = new Materializer(bootstrap, topics, index,
        new MaterializerConfig(50, Duration.ofMillis(300), Duration.ofMillis(100)));
  }

  /** A random tiny LAVITI (16 moment queries), identical in every JVM (a function of the seed). */
  static IndexerModel model() {
    return IndexerModel.of(LavitiModel.random(LavitiConfig.tiny(DIM, 16), ENCODER, 2.0, 11));
  }

  static final int SLOTS = LavitiConfig.tiny(DIM, 16).numQueries();

  void start() {
    materializer.start();
    indexer.start();
  }

  @Override
  public void close() {
    indexer.close();
    materializer.close();
    index.close();
  }

  public static void main(String[] args) throws InterruptedException {
    Duration idleFlush = args.length > 4
        ? Duration.ofSeconds(Long.parseLong(args[4])) : CONFIG_TEMPLATE.idleFlush();
    RestartChild c = new RestartChild(args[0], args[1], Path.of(args[2]), Path.of(args[3]), idleFlush);
    c.start();
    System.out.println(System.currentTimeMillis() + " started");
    while (true) {
      Thread.sleep(1000);
      System.out.println(System.currentTimeMillis() + " indexer " + c.indexer.state()
          + " index size " + c.index.size() + " materializer lag " + c.materializer.lag());
    }
  }
}
