package dev.moments.api.alerts;

import dev.moments.api.metrics.Metrics;
import dev.moments.topics.AlertRule;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * What the HTTP routes of alert delivery read: the live hub behind {@code /api/alerts/stream},
 * the rules (to check who may see a rule's deliveries) and the per-rule webhook status behind
 * {@code /api/alerts/{id}/deliveries}.
 *
 * @param hub the Server-Sent Events fan-out
 * @param rules a rule by id ({@link AlertRules#get})
 * @param deliveries a rule's webhook deliveries by this server ({@link WebhookDelivery#status})
 */
public record AlertDelivery(AlertHub hub, Function<String, Optional<AlertRule>> rules,
    Function<String, Optional<DeliveryStatus>> deliveries) {
  public AlertDelivery {
    Objects.requireNonNull(hub, "hub");
    Objects.requireNonNull(rules, "rules");
    Objects.requireNonNull(deliveries, "deliveries");
  }

  /** No alerts: a hub nothing publishes to, no rules, no deliveries (servers built without Kafka). */
  public static AlertDelivery none(Metrics metrics) {
    return new AlertDelivery(new AlertHub(metrics), id -> Optional.empty(), id -> Optional.empty());
  }
}
