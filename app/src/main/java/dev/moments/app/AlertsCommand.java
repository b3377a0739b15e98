package dev.moments.app;

import dev.moments.indexer.alerts.AlertsService;
import dev.moments.indexer.alerts.AlertsStats;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code moments alerts}: the standing-query matcher, moments and rules in, alerts out, until Ctrl-C. */
@Command(name = "alerts", mixinStandardHelpOptions = true,
    description = "Run the alert matcher: every moment of PREFIX.moments against the rules of PREFIX.alert-rules "
        + "(made with POST /api/alerts), alerts to PREFIX.alerts (exactly-once; one alert per event and cooldown).")
final class AlertsCommand implements Callable<Integer> {
  @Mixin BrokerOptions broker;

  @Option(names = "--state-dir", defaultValue = "data/alerts-state", paramLabel = "DIR",
      description = "Kafka Streams state directory (default: ${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(names = "--application-id", paramLabel = "ID",
      description = "Kafka Streams application id (default: PREFIX-alerts).")
  String applicationId;

  @Mixin ServiceMetrics.Options metrics;

  @Override
  public Integer call() throws InterruptedException {
    broker.ensureTopics();
    String id = applicationId != null ? applicationId : AlertsService.defaultApplicationId(broker.topics());
    try (UntilStopped lifetime = new UntilStopped("alerts");
        AlertsService service = new AlertsService(broker.bootstrap(), broker.topics(), id, stateDir, new Properties())) {
      service.start();
      System.out.println("matching " + broker.topics().moments().name() + " against "
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
        .counter("moments_alert_matcher_moments_total", "Moments matched against the rules.", s.moments.get())
        .counter("moments_alert_matcher_matches_total", "(rule, moment) pairs at or above the rule's minScore.", s.matches.get())
        .counter("moments_alert_matcher_fired_total", "Alerts written to the alerts topic.", s.fired.get())
        .counter("moments_alert_matcher_suppressed_total", "Matches not alerted: the same event, the cooldown, or older "
            + "than the rule's last alert on the stream.", s.suppressed.get())
        .counter("moments_alert_matcher_dim_mismatch_total", "(rule, moment) pairs skipped: embedding dimensions differ.",
            s.dimMismatches.get())
        .toString();
  }
}
