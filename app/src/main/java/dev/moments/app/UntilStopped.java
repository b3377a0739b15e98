package dev.moments.app;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A service command's lifetime: {@link #await()} returns when the JVM is asked to stop (Ctrl-C,
 * SIGTERM), and the shutdown hook then waits (at most 60 s) until this is {@link #close() closed},
 * so that the resources opened after it (try-with-resources closes them first) shut down cleanly.
 */
final class UntilStopped implements AutoCloseable {
  private final CountDownLatch stop = new CountDownLatch(1);
  private final CountDownLatch closed = new CountDownLatch(1);

  UntilStopped(String name) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stop.countDown();
      try {
        closed.await(60, TimeUnit.SECONDS); // let the clean shutdown finish
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, name + "-shutdown"));
  }

  /** Blocks until the JVM is asked to stop. */
  void await() throws InterruptedException {
    stop.await();
  }

  @Override
  public void close() {
    closed.countDown();
  }
}
