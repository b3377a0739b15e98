package dev.moments.app;

import dev.moments.indexer.alerts.AlertsConfig;
import dev.moments.indexer.alerts.AlertsService;
import dev.moments.indexer.alerts.AlertsStats;
import dev.moments.model.rank.Rankers;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code moments alerts}: the standing-query matcher, moments and rules in, alerts out, until Ctrl-C. */
@Command(name = "alerts", mixinStandardHelpOptions = true,
    description = "Run the alert matcher: each stream's recent frames (PREFIX.features) and moments (PREFIX.moments) "
        + "ranked against the rules of PREFIX.alert-rules (made with POST /api/alerts) as the served search ranks, "
        + "alerts to PREFIX.alerts (exactly-once; one alert per event and cooldown).")
final class AlertsCommand implements Callable<Integer> {
  @Mixin BrokerOptions broker;

  @Option(names = "--state-dir", defaultValue = "data/alerts-state", paramLabel = "DIR",
      description = "Kafka Streams state directory (default: ${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(names = "--application-id", paramLabel = "ID",
      description = "Kafka Streams application id (default: PREFIX-alerts).")
  String applicationId;

  @Option(names = "--ranker", defaultValue = Rankers.DEFAULT, paramLabel = "NAME",
      description = "How a stream's recent past is ranked for each rule: fused (frame evidence and moments, the "
          + "served search's default: a rule's minScore is on the scale /api/search shows), laviti (moments by "
          + "cosine) or frames (default: ${DEFAULT-VALUE}).")
  String ranker;

  @Option(names = "--horizon", defaultValue = "60s", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How much of each stream's recent past each evaluation ranks (default: ${DEFAULT-VALUE}; at "
          + "least 10s).")
  java.time.Duration horizon;

  @Mixin ServiceMetrics.Options metrics;

  @Override
  public Integer call() throws InterruptedException {
    AlertsConfig config = new AlertsConfig(ranker, (int) Math.min(Integer.MAX_VALUE, horizon.toSeconds()),
        AlertsConfig.DEFAULTS.evaluateEveryMs(), AlertsConfig.DEFAULTS.topK());
    broker.ensureTopics();
    String id = applicationId != null ? applicationId : AlertsService.defaultApplicationId(broker.topics());
    try (UntilStopped lifetime = new UntilStopped("alerts");
        AlertsService service = new AlertsService(broker.bootstrap(), broker.topics(), id, stateDir, new Properties(),
            config)) {
      service.start();
      System.out.println("ranking " + broker.topics().features().name() + " + " + broker.topics().moments().name()
          + " (" + config.ranker() + ", last " + config.horizonSec() + " s) against "
          + broker.topics().alertRules().name() + " -> " + broker.topics().alerts().name() + ". Ctrl-C to stop.");
      try (ServiceMetrics endpoint = metrics.startIfAsked("alerts", () -> scrape(service))) {
        lifetime.await();
      }
    }
    return 0;
  }

  /** What {@code /metrics} says about {@code service}. */
  static String scrape(AlertsService service) {
    AlertsStats s = service.stats();
    return new ServiceMetrics.Text("alerts")
        .gauge("moments_alert_matcher_running", "1 while the alert matcher's Kafka Streams app is RUNNING.",
            service.state() == KafkaStreams.State.RUNNING ? 1 : 0)
        .counter("moments_alert_matcher_moments_total", "Moments read.", s.moments.get())
        .counter("moments_alert_matcher_frames_total", "Frame features read into the per-second evidence.", s.frames.get())
        .counter("moments_alert_matcher_late_frames_total", "Frames for an already finished second (dropped).",
            s.lateFrames.get())
        .counter("moments_alert_matcher_evaluations_total", "Rankings of a stream's recent past (about one per window).",
            s.evaluations.get())
        .counter("moments_alert_matcher_matches_total", "(rule, span) pairs ranked among the best at or above the "
            + "rule's minScore.", s.matches.get())
        .counter("moments_alert_matcher_fired_total", "Alerts written to the alerts topic.", s.fired.get())
        .counter("moments_alert_matcher_suppressed_total", "Matches not alerted: the same event, the cooldown, or older "
            + "than the rule's last alert on the stream.", s.suppressed.get())
        .counter("moments_alert_matcher_dim_mismatch_total", "Frames or (rule, stream) rankings with embeddings of "
            + "another dimension (left out).",
            s.dimMismatches.get())
        .toString();
  }
}
