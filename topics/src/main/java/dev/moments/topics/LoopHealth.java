package dev.moments.topics;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The health and back-off of one background loop that talks to Kafka (DESIGN §8: every loop
 * survives the broker). The loop calls {@link #ok()} after each iteration that worked and {@link
 * #backOff(Exception, BooleanSupplier)} after one that failed with a retryable error (a {@code
 * KafkaException}: timeouts, disconnects, a leader moving); the wait starts at 100 ms and doubles
 * up to 5 s, and goes back to 100 ms after the next success. An outage is logged twice: a warning
 * at its first failure and one line when the loop works again, with the number of failed attempts
 * and how long it lasted. An error the loop cannot retry ends it: {@link #stopped(Throwable)}.
 *
 * <p>{@link #status()} is what {@code /health} shows: {@code OK}, {@code DEGRADED} (failing since
 * when, how many attempts, the last error) or {@code STOPPED} (the error that ended the loop).
 */
public final class LoopHealth {
  private static final Logger log = LoggerFactory.getLogger(LoopHealth.class);

  /** First wait after a failure. */
  public static final Duration FIRST_BACKOFF = Duration.ofMillis(100);

  /** Longest wait between attempts. */
  public static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  /** The state of a loop. */
  public enum State { OK, DEGRADED, STOPPED }

  /**
   * A loop's state at one moment.
   *
   * @param loop the loop's name, e.g. {@code "frames-counter"}
   * @param state its state
   * @param since when it entered that state (for {@code OK}: when it started or recovered)
   * @param failures failed attempts since {@code since} (0 when {@code OK})
   * @param reason the last error as "ExceptionClass: message" (null when {@code OK})
   */
  public record Status(String loop, State state, Instant since, long failures, String reason) {
    /** Stopped, or failing for longer than {@code grace} at {@code now}. */
    public boolean unhealthy(Duration grace, Instant now) {
      return state == State.STOPPED
          || state == State.DEGRADED && Duration.between(since, now).compareTo(grace) > 0;
    }
  }

  private final String name;
  private volatile Status status;
  // Only the loop's own thread touches the back-off.
  private Duration nextBackoff = FIRST_BACKOFF;

  public LoopHealth(String name) {
    this.name = Objects.requireNonNull(name, "name");
    this.status = new Status(name, State.OK, Instant.now(), 0, null);
  }

  public String name() {
    return name;
  }

  /** The loop's state now. */
  public Status status() {
    return status;
  }

  /** The last iteration worked: ends an outage (logging its length) and resets the back-off. */
  public void ok() {
    Status s = status;
    if (s.state() == State.DEGRADED) {
      Instant now = Instant.now();
      log.info("{} works again after {} failed attempts over {} ms (last error: {})", name, s.failures(),
          Duration.between(s.since(), now).toMillis(), s.reason());
      status = new Status(name, State.OK, now, 0, null);
    }
    nextBackoff = FIRST_BACKOFF;
  }

  /**
   * Records a retryable failure (the first of an outage is logged as a warning), then waits the
   * current back-off in steps of at most 50 ms while {@code running} holds.
   *
   * @return false when the wait ended because {@code running} turned false or the thread was
   *     interrupted (the interrupt flag is then set again), true after the full wait
   */
  public boolean backOff(Exception e, BooleanSupplier running) {
    return sleepWhile(failed(e), running);
  }

  /**
   * Sleeps for {@code wait} in steps of at most 50 ms while {@code running} holds.
   *
   * @return false when {@code running} turned false or the thread was interrupted (the interrupt
   *     flag is then set again), true after the full wait
   */
  public static boolean sleepWhile(Duration wait, BooleanSupplier running) {
    long until = System.nanoTime() + wait.toNanos();
    try {
      for (long left = wait.toNanos(); left > 0; left = until - System.nanoTime()) {
        if (!running.getAsBoolean()) {
          return false;
        }
        Thread.sleep(Math.max(1, Math.min(50, left / 1_000_000)));
      }
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      return false;
    }
    return running.getAsBoolean();
  }

  /** Records a retryable failure and returns how long to wait before the next attempt. */
  Duration failed(Exception e) {
    Status s = status;
    String reason = describe(e);
    if (s.state() == State.DEGRADED) {
      status = new Status(name, State.DEGRADED, s.since(), s.failures() + 1, reason);
    } else {
      log.warn("{} failed ({}); retrying with back-off from {} ms up to {} ms until it works", name, reason,
          FIRST_BACKOFF.toMillis(), MAX_BACKOFF.toMillis());
      status = new Status(name, State.DEGRADED, Instant.now(), 1, reason);
    }
    Duration wait = nextBackoff;
    nextBackoff = nextBackoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : nextBackoff.multipliedBy(2);
    return wait;
  }

  /**
   * Runs a background loop: {@code iteration} again and again while {@code running} holds, {@link
   * #ok} after each that returns, {@link #backOff} after a {@link org.apache.kafka.common.KafkaException}
   * (retried), and the loop's end on a wakeup or interrupt ({@link #stopped} unless {@code running}
   * turned false, i.e. a close) or on any other error ({@link #stopped}).
   */
  public void run(BooleanSupplier running, Runnable iteration) {
    try {
      while (running.getAsBoolean()) {
        try {
          iteration.run();
          ok();
        } catch (org.apache.kafka.common.errors.WakeupException
            | org.apache.kafka.common.errors.InterruptException e) {
          if (running.getAsBoolean()) {
            stopped(e);
          }
          return;
        } catch (org.apache.kafka.common.KafkaException e) {
          if (!backOff(e, running)) {
            return;
          }
        }
      }
    } catch (RuntimeException | Error e) {
      stopped(e);
    }
  }

  /** The loop ended with an error it cannot retry (logged with its stack trace). */
  public void stopped(Throwable t) {
    log.error("{} stopped", name, t);
    status = new Status(name, State.STOPPED, Instant.now(), status.failures(), describe(t));
  }

  private static String describe(Throwable t) {
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }
}
