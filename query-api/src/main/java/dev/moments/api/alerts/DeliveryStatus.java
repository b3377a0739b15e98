package dev.moments.api.alerts;

/**
 * The webhook deliveries of one rule by this server since it started.
 *
 * @param ruleId the rule
 * @param delivered alerts delivered (a 2xx answer)
 * @param failed alerts given up on after every attempt failed
 * @param attempts POSTs made (each retry counts)
 * @param state of the latest alert: {@code delivering} (an attempt or a back-off is under way),
 *     {@code delivered} or {@code failed}
 * @param lastAlertId the latest alert's id
 * @param lastError the error of the latest failed attempt (e.g. {@code HTTP 503}), or null
 * @param lastAttemptMs when the latest attempt started (epoch ms)
 * @param lastDeliveredMs when an alert of the rule was last delivered (epoch ms), 0 if never
 */
public record DeliveryStatus(String ruleId, long delivered, long failed, long attempts, String state,
    String lastAlertId, String lastError, long lastAttemptMs, long lastDeliveredMs) {}
