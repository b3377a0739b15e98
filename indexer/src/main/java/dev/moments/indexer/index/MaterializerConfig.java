package dev.moments.indexer.index;

import java.time.Duration;
import java.util.Objects;

/**
 * How often the {@link Materializer} makes its work durable.
 *
 * @param commitEveryRecords commit the index (with the consumed offsets) after this many records
 * @param commitInterval or when this much time has passed since the last commit with new records
 * @param pollTimeout how long one consumer poll waits for records
 */
public record MaterializerConfig(
    int commitEveryRecords, Duration commitInterval, Duration pollTimeout) {
  public MaterializerConfig {
    Objects.requireNonNull(commitInterval, "commitInterval");
    Objects.requireNonNull(pollTimeout, "pollTimeout");
    if (commitEveryRecords < 1) {
      throw new IllegalArgumentException(
          "commitEveryRecords must be >= 1, got " + commitEveryRecords);
    }
    if (commitInterval.isNegative() || commitInterval.isZero()) {
      throw new IllegalArgumentException("commitInterval must be positive, got " + commitInterval);
    }
    if (pollTimeout.isNegative() || pollTimeout.isZero()) {
      throw new IllegalArgumentException("pollTimeout must be positive, got " + pollTimeout);
    }
  }

  /** Commit every 1000 records or 1 s, poll for 200 ms. */
  public static MaterializerConfig defaults() {
    return new MaterializerConfig(1000, Duration.ofSeconds(1), Duration.ofMillis(200));
  }
}
