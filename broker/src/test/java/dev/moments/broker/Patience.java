package dev.moments.broker;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * How long tests wait for something to happen. A wait ends as soon as its event happens, so its
 * limit only decides how long a broken run takes to fail: it is set far above what a quiet machine
 * needs (seconds) so that a loaded one (a CI box, a laptop compiling beside the tests, load
 * average 10 on 2 cores) never fails a test by being slow. No test outcome may depend on the
 * machine's speed; a test that needs "nothing more happens" checks it after the awaited event,
 * never by racing a clock against the system under test.
 *
 * <p>The limit is {@value #DEFAULT_SECONDS} s, or {@code -Dmoments.test.patience=SECONDS}.
 */
public final class Patience {
  static final int DEFAULT_SECONDS = 300;

  private Patience() {}

  /** The longest any single wait of a test may take. */
  public static Duration limit() {
    return Duration.ofSeconds(Long.getLong("moments.test.patience", DEFAULT_SECONDS));
  }

  /** {@code System.nanoTime()} value at which a wait starting now gives up. */
  public static long deadline() {
    return System.nanoTime() + limit().toNanos();
  }

  /**
   * Every live thread's stack, for the message of a wait that gave up: whether the awaited work
   * was stuck (and where) or never started tells a slow machine from a hang.
   */
  public static String threadDump() {
    StringBuilder b = new StringBuilder("thread dump:\n");
    Thread.getAllStackTraces().forEach((t, stack) -> {
      b.append('"').append(t.getName()).append("\" ").append(t.getState()).append('\n');
      for (StackTraceElement e : stack) {
        b.append("    at ").append(e).append('\n');
      }
    });
    return b.toString();
  }

  /**
   * Polls {@code done} every {@code every} until it holds; fails with {@code what} (which says
   * what was awaited) when the limit passes first.
   */
  public static void await(String what, Duration every, BooleanSupplier done) throws InterruptedException {
    long deadline = deadline();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited " + limit().toSeconds() + " s for " + what + "\n" + threadDump());
      }
      Thread.sleep(every.toMillis());
    }
  }
}
