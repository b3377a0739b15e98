package dev.moments.indexer.stream;

import dev.moments.model.rank.CentredMoments;
import dev.moments.topics.Topics;
import java.time.Duration;
import java.util.Objects;

/**
 * The indexer's typed configuration.
 *
 * @param window length W of the sliding windows the model sees (default 600 s)
 * @param hop distance between window ends (default 30 s); windows end at {@code t0 + k * hop}
 *     where t0 is the stream's first feature timestamp
 * @param idleFlush wall-clock time without features after which a stream's pending frames are
 *     flushed as a final partial window (default 20 s)
 * @param lateness how far behind a stream's newest feature timestamp a feature may arrive and still
 *     be placed (default 10 s); a window is emitted once stream time reaches its end plus this
 * @param fps frames per second of the features (default 6)
 * @param topics the topics read and written
 * @param applicationId the Kafka Streams application id (consumer group, internal topic prefix)
 * @param sessionTimeout how long the group waits for a silent (killed) instance before its
 *     partitions go to the others: the consumer's {@code session.timeout.ms} (default 6 s, the
 *     broker's default {@code group.min.session.timeout.ms}, the shortest it accepts)
 * @param heartbeatInterval how often an instance tells the group it lives ({@code
 *     heartbeat.interval.ms}, from a background thread; default 1.5 s, a quarter of the session)
 * @param copies from how many windows the index keeps each stretch of video ({@link
 *     CentredMoments}: the windows that had it nearest their middle; default {@value
 *     CentredMoments#DEFAULT_COPIES}); 0 keeps every window's every moment. Carried to the index in
 *     the moment records' band headers ({@link Topics#HEADER_BAND_FROM_MS})
 */
public record IndexerConfig(
    Duration window,
    Duration hop,
    Duration idleFlush,
    Duration lateness,
    double fps,
    Topics topics,
    String applicationId,
    Duration sessionTimeout,
    Duration heartbeatInterval,
    int copies) {
  /** 6 s: the broker's default {@code group.min.session.timeout.ms} (Kafka's own default: 45 s). */
  public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(6);
  /** 1.5 s: four heartbeats per session timeout, so one lost heartbeat never ends a session. */
  public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofMillis(1500);

  public IndexerConfig {
    Objects.requireNonNull(window, "window");
    Objects.requireNonNull(hop, "hop");
    Objects.requireNonNull(idleFlush, "idleFlush");
    Objects.requireNonNull(lateness, "lateness");
    Objects.requireNonNull(topics, "topics");
    Objects.requireNonNull(applicationId, "applicationId");
    Objects.requireNonNull(sessionTimeout, "sessionTimeout");
    Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
    if (window.toMillis() <= 0) {
      throw new IllegalArgumentException("window must be at least 1 ms, got " + window);
    }
    if (hop.toMillis() <= 0 || hop.compareTo(window) > 0) {
      throw new IllegalArgumentException(
          "hop must be between 1 ms and the window (" + window + "), got " + hop);
    }
    if (idleFlush.toMillis() <= 0) {
      throw new IllegalArgumentException("idle flush must be at least 1 ms, got " + idleFlush);
    }
    if (lateness.isNegative()) {
      throw new IllegalArgumentException("lateness must not be negative, got " + lateness);
    }
    if (!(fps > 0) || Double.isInfinite(fps)) {
      throw new IllegalArgumentException("fps must be a positive number, got " + fps);
    }
    if (applicationId.isBlank()) {
      throw new IllegalArgumentException("application id must not be blank");
    }
    if (copies < 0) {
      throw new IllegalArgumentException("copies must be >= 0 (0 keeps every moment), got " + copies);
    }
    if (heartbeatInterval.toMillis() < 1 || heartbeatInterval.compareTo(sessionTimeout) >= 0) {
      throw new IllegalArgumentException("heartbeat interval must be at least 1 ms and shorter than the session "
          + "timeout (" + sessionTimeout.toMillis() + " ms), got " + heartbeatInterval.toMillis() + " ms");
    }
  }

  /** A configuration with the default session timeout and heartbeat interval. */
  public IndexerConfig(Duration window, Duration hop, Duration idleFlush, Duration lateness, double fps,
      Topics topics, String applicationId) {
    this(window, hop, idleFlush, lateness, fps, topics, applicationId, DEFAULT_SESSION_TIMEOUT,
        DEFAULT_HEARTBEAT_INTERVAL);
  }

  /** A configuration that keeps each stretch from the default number of windows. */
  public IndexerConfig(Duration window, Duration hop, Duration idleFlush, Duration lateness, double fps,
      Topics topics, String applicationId, Duration sessionTimeout, Duration heartbeatInterval) {
    this(window, hop, idleFlush, lateness, fps, topics, applicationId, sessionTimeout, heartbeatInterval,
        CentredMoments.DEFAULT_COPIES);
  }

  /**
   * W = 600 s, hop 30 s, idle flush 20 s, lateness 10 s, 6 fps, app id {@code <prefix>-indexer},
   * session timeout 6 s, heartbeats every 1.5 s, each stretch kept from 3 windows.
   */
  public static IndexerConfig defaults(Topics topics) {
    return new IndexerConfig(Duration.ofSeconds(600), Duration.ofSeconds(30),
        Duration.ofSeconds(20), Duration.ofSeconds(10), 6.0, topics, topics.prefix() + "-indexer");
  }

  public IndexerConfig withWindow(Duration w, Duration h) {
    return new IndexerConfig(w, h, idleFlush, lateness, fps, topics, applicationId, sessionTimeout, heartbeatInterval, copies);
  }

  public IndexerConfig withIdleFlush(Duration d) {
    return new IndexerConfig(window, hop, d, lateness, fps, topics, applicationId, sessionTimeout, heartbeatInterval, copies);
  }

  public IndexerConfig withLateness(Duration d) {
    return new IndexerConfig(window, hop, idleFlush, d, fps, topics, applicationId, sessionTimeout, heartbeatInterval, copies);
  }

  public IndexerConfig withFps(double f) {
    return new IndexerConfig(window, hop, idleFlush, lateness, f, topics, applicationId, sessionTimeout, heartbeatInterval, copies);
  }

  public IndexerConfig withApplicationId(String id) {
    return new IndexerConfig(window, hop, idleFlush, lateness, fps, topics, id, sessionTimeout, heartbeatInterval, copies);
  }

  /** The group's failure detection: session timeout and heartbeat interval. */
  public IndexerConfig withFailover(Duration session, Duration heartbeat) {
    return new IndexerConfig(window, hop, idleFlush, lateness, fps, topics, applicationId, session, heartbeat, copies);
  }

  /** Each stretch kept from {@code n} windows (0: every moment). */
  public IndexerConfig withCopies(int n) {
    return new IndexerConfig(window, hop, idleFlush, lateness, fps, topics, applicationId, sessionTimeout, heartbeatInterval, n);
  }

  /**
   * The band of the window ending at {@code endMs} after the stream's windows up to {@code
   * coveredUntilMs} ({@link CentredMoments#band}), or {@code null} when every moment is kept
   * ({@code copies} 0).
   */
  public CentredMoments.Band band(long endMs, long coveredUntilMs) {
    return copies == 0 ? null
        : CentredMoments.band(endMs, window.toMillis(), hop.toMillis(), copies, coveredUntilMs);
  }

  /** One frame's duration in ms ({@code round(1000 / fps)}, at least 1). */
  public long frameMs() {
    return Math.max(1, Math.round(1000.0 / fps));
  }
}
