package dev.moments.app;

import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.ImageEncoder;
import dev.moments.featurizer.offline.OfflineFeaturizer;
import dev.moments.featurizer.service.FeaturizerConfig;
import dev.moments.featurizer.service.FeaturizerService;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code moments featurize}: the frames-to-features service, or with {@code --videos} the offline
 * featurization of a video folder into .npy files.
 */
@Command(name = "featurize", mixinStandardHelpOptions = true,
    description = {
      "Turn JPEG frames from PREFIX.frames into CLIP features on PREFIX.features (a service, until Ctrl-C).",
      "With --videos DIR --out DIR: featurize a folder of video files into {uid}.npy + manifest.json instead."
    })
final class FeaturizeCommand implements Callable<Integer> {
  @Mixin BrokerOptions broker;

  @Option(names = "--encoder", paramLabel = "DIR",
      description = "Encoder directory with encoder.json (default: the bundled models/tiny-clip).")
  Path encoder;

  @Option(names = "--max-batch", defaultValue = "32",
      description = "Most frames encoded in one batch (default: ${DEFAULT-VALUE}).")
  int maxBatch;

  @Option(names = "--max-wait-ms", defaultValue = "50",
      description = "Longest a frame waits for a batch to fill, in ms (default: ${DEFAULT-VALUE}).")
  long maxWaitMs;

  @Option(names = "--group", defaultValue = FeaturizerConfig.DEFAULT_GROUP,
      description = "Kafka consumer group; instances of one group share the frames (default: ${DEFAULT-VALUE}).")
  String group;

  @Mixin FailoverOptions failover;

  @Mixin ServiceMetrics.Options metrics;

  @Option(names = "--videos", paramLabel = "DIR",
      description = "Offline mode: featurize every video file in DIR (needs --out).")
  Path videos;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Offline mode: where {video_uid}.npy and manifest.json go.")
  Path out;

  @Option(names = "--fps", defaultValue = "6",
      description = "Offline mode: frames per second sampled by presentation time (default: ${DEFAULT-VALUE}).")
  double fps;

  @Override
  public Integer call() throws Exception {
    if ((videos == null) != (out == null)) {
      throw new IllegalArgumentException("offline mode needs both --videos DIR and --out DIR");
    }
    Path dir = encoder != null ? encoder : Encoders.defaultDir();
    try (ImageEncoder image = Encoders.loadImage(dir)) {
      return videos != null ? offline(image) : service(image);
    }
  }

  private int offline(ImageEncoder image) throws Exception {
    OfflineFeaturizer f = new OfflineFeaturizer(image, fps, maxBatch, System.err);
    OfflineFeaturizer.Result r = f.run(videos, out);
    System.out.printf("featurized %d videos (%d frames) with %s at %s fps into %s; %d already done, %d failed%s%n",
        r.done().size(), r.frames(), image.id(), fps, out, r.skipped().size(), r.failed().size(),
        r.failed().isEmpty() ? "" : ": " + String.join(", ", r.failed()));
    return r.failed().isEmpty() ? 0 : 1;
  }

  private int service(ImageEncoder image) throws Exception {
    FeaturizerConfig config = new FeaturizerConfig(broker.bootstrap(), broker.topics(), group, maxBatch,
        Duration.ofMillis(maxWaitMs), broker.partitions, broker.replication, Duration.ofSeconds(10),
        failover.sessionTimeout, failover.heartbeatInterval);
    FeaturizerService service = new FeaturizerService(config, image);
    Thread hook = new Thread(service::close, "featurizer-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    service.start();
    System.out.printf("featurizing %s -> %s with %s (dim %d), group %s, batches of %d / %d ms. Ctrl-C to stop.%n",
        config.topics().frames().name(), config.topics().features().name(), image.id(), image.dim(), group,
        maxBatch, maxWaitMs);
    try (ServiceMetrics endpoint = metrics.startIfAsked("featurize", () -> scrape(service))) {
      service.awaitTermination();
    }
    FeaturizerService.Stats s = service.stats();
    System.out.printf("featurizer stopped: %d records, %d features, %d dead letters, %d end-of-stream marks, "
        + "%d lost (not even a headers-only dead letter fit)%n",
        s.frames(), s.features(), s.deadLetters(), s.marks(), s.deadLettersLost());
    if (service.failure() != null) {
      throw new IllegalStateException("featurizer failed: " + service.failure().getMessage(), service.failure());
    }
    return 0;
  }

  /** What {@code /metrics} says about {@code service}. */
  static String scrape(FeaturizerService service) {
    FeaturizerService.Stats s = service.stats();
    return new ServiceMetrics.Text("featurize")
        .partitions(service.partitionLags())
        .counter("moments_featurizer_records_total",
            "Records consumed from the frames topic and committed (frames and end-of-stream marks).", s.frames())
        .counter("moments_featurizer_features_total", "Feature records written.", s.features())
        .counter("moments_featurizer_dead_letters_total", "Dead letters written.", s.deadLetters())
        .counter("moments_featurizer_end_of_stream_marks_total", "End-of-stream marks carried over.", s.marks())
        .counter("moments_featurizer_lost_total",
            "Records skipped because not even a headers-only dead letter was accepted.", s.deadLettersLost())
        .counter("moments_featurizer_batches_total", "Transactions committed.", s.batches())
        .gauge("moments_featurizer_running", "1 while the featurizer runs.", service.isRunning() ? 1 : 0)
        .toString();
  }
}
