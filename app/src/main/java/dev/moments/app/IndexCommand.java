package dev.moments.app;

import dev.moments.indexer.stream.BundledModel;
import dev.moments.indexer.stream.IndexerConfig;
import dev.moments.indexer.stream.IndexerModel;
import dev.moments.indexer.stream.IndexerService;
import dev.moments.model.LavitiModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code moments index}: the Kafka Streams indexer, features in, moments out, until Ctrl-C. */
@Command(name = "index", mixinStandardHelpOptions = true,
    description = "Run the indexer: per-stream sliding windows over PREFIX.features, LAVITI "
        + "inference, moments to PREFIX.moments (exactly-once).")
final class IndexCommand implements Callable<Integer> {
  @Mixin BrokerOptions broker;

  @Option(names = "--model", paramLabel = "DIR",
      description = "LAVITI checkpoint directory (default: the bundled models/laviti-tiny).")
  Path model;

  @Option(names = "--window", defaultValue = "600s", converter = DurationConverter.class,
      description = "Window length: 600, 600s, 10m, 1h (default: ${DEFAULT-VALUE}).")
  Duration window;

  @Option(names = "--hop", defaultValue = "30s", converter = DurationConverter.class,
      description = "Distance between window ends (default: ${DEFAULT-VALUE}).")
  Duration hop;

  @Option(names = "--idle-flush", defaultValue = "20s", converter = DurationConverter.class,
      description = "Emit a stream's last partial window provisionally after this long without features "
          + "and without its end-of-stream mark; it is retracted if the stream goes on (default: ${DEFAULT-VALUE}).")
  Duration idleFlush;

  @Option(names = "--lateness", defaultValue = "10s", converter = DurationConverter.class,
      description = "Accept features this far behind the stream's newest one (default: ${DEFAULT-VALUE}).")
  Duration lateness;

  @Option(names = "--fps", defaultValue = "6", description = "Feature frames per second (default: ${DEFAULT-VALUE}).")
  double fps;

  @Option(names = "--copies", defaultValue = "" + dev.moments.model.rank.CentredMoments.DEFAULT_COPIES, paramLabel = "N",
      description = "The index keeps each stretch of video from the N windows that had it nearest their middle "
          + "(the moments carry their window's band); 0 keeps every moment of every window, about W/hop "
          + "times as many (default: ${DEFAULT-VALUE}).")
  int copies;

  @Option(names = "--state-dir", defaultValue = "data/indexer-state", paramLabel = "DIR",
      description = "Kafka Streams state directory (default: ${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(names = "--application-id", paramLabel = "ID",
      description = "Kafka Streams application id (default: PREFIX-indexer).")
  String applicationId;

  @Mixin FailoverOptions failover;

  @Mixin ServiceMetrics.Options metrics;

  @Override
  public Integer call() throws InterruptedException {
    Path dir = model != null ? model : BundledModel.defaultDir();
    try (LavitiModel laviti = LavitiModel.load(dir)) {
      IndexerConfig cfg = IndexerConfig.defaults(broker.topics())
          .withWindow(window, hop).withIdleFlush(idleFlush).withLateness(lateness).withFps(fps).withCopies(copies)
          .withFailover(failover.sessionTimeout, failover.heartbeatInterval);
      if (applicationId != null) {
        cfg = cfg.withApplicationId(applicationId);
      }
      broker.ensureTopics();
      try (UntilStopped lifetime = new UntilStopped("index");
          IndexerService service = new IndexerService(broker.bootstrap(), cfg, IndexerModel.of(laviti), stateDir)) {
        service.start();
        System.out.println("indexing " + cfg.topics().features().name() + " -> "
            + cfg.topics().moments().name() + " with model " + laviti.modelId() + " from " + dir
            + " (window " + window + ", hop " + hop + ", each stretch kept from "
            + dev.moments.model.rank.CentredMoments.describe(copies) + "). Ctrl-C to stop.");
        try (ServiceMetrics endpoint = metrics.startIfAsked("index", () -> scrape(service))) {
          lifetime.await();
        }
      }
    }
    return 0;
  }

  /** What {@code /metrics} says about {@code service}. */
  static String scrape(IndexerService service) {
    KafkaStreams.State state = service.state();
    return new ServiceMetrics.Text("index")
        .partitions(service.partitionLags())
        .gauge("moments_indexer_running", "1 while the indexer's Kafka Streams app is RUNNING (0 while it "
            + "rebalances, starts or stops).", state == KafkaStreams.State.RUNNING ? 1 : 0)
        .toString();
  }
}
