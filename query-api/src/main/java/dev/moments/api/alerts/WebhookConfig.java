package dev.moments.api.alerts;

import java.time.Duration;
import java.util.Objects;

/**
 * How webhooks are delivered.
 *
 * @param attempts POSTs per alert before it counts as failed, {@code >= 1}
 * @param timeout the connect timeout and the whole request's timeout of one attempt
 * @param firstBackoff the wait after the first failed attempt; it doubles after each further one
 * @param maxBackoff the longest wait between attempts
 * @param maxInFlight alerts being delivered at once; the consumer pauses beyond it
 */
public record WebhookConfig(int attempts, Duration timeout, Duration firstBackoff, Duration maxBackoff, int maxInFlight) {
  /** Default attempts: 6, so waits of 1, 2, 4, 8 and 16 s between them. */
  public static final int DEFAULT_ATTEMPTS = 6;

  /** Default timeout of one attempt. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  public WebhookConfig {
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(firstBackoff, "firstBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    if (attempts < 1) {
      throw new IllegalArgumentException("webhook attempts must be >= 1, got " + attempts);
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("webhook timeout must be > 0, got " + timeout);
    }
    if (firstBackoff.isNegative() || maxBackoff.compareTo(firstBackoff) < 0) {
      throw new IllegalArgumentException("webhook back-off must satisfy 0 <= first <= max, got " + firstBackoff
          + " and " + maxBackoff);
    }
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be >= 1, got " + maxInFlight);
    }
  }

  /** 6 attempts, 10 s timeout, back-off 1 s doubling up to 60 s, 256 in flight. */
  public static WebhookConfig defaults() {
    return new WebhookConfig(DEFAULT_ATTEMPTS, DEFAULT_TIMEOUT, Duration.ofSeconds(1), Duration.ofSeconds(60), 256);
  }

  /** The same with that many attempts and that timeout. */
  public WebhookConfig with(int attempts, Duration timeout) {
    return new WebhookConfig(attempts, timeout, firstBackoff, maxBackoff, maxInFlight);
  }

  /** The wait after failed attempt {@code n} (1-based): first x 2^(n-1), at most max. */
  public Duration backoff(int n) {
    long ms = firstBackoff.toMillis();
    for (int i = 1; i < n && ms < maxBackoff.toMillis(); i++) {
      ms *= 2;
    }
    return Duration.ofMillis(Math.min(ms, maxBackoff.toMillis()));
  }
}
