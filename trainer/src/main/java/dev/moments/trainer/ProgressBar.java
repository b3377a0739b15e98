package dev.moments.trainer;

import java.io.PrintStream;
import java.util.Locale;

/** A one-line progress bar on stderr: steps, epoch, loss, learning rate and chunks/s. */
final class ProgressBar {
  private static final int WIDTH = 30;
  private final PrintStream err;

  ProgressBar(PrintStream err) {
    this.err = err;
  }

  void update(long step, long total, int epoch, int epochs, double loss, double lr, double chunksPerSec) {
    int filled = (int) Math.min(WIDTH, total <= 0 ? 0 : step * WIDTH / total);
    String bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
    err.print(String.format(Locale.ROOT, "\rstep %d/%d [%s] epoch %d/%d loss %.4f lr %.2e %.2f chunks/s ",
        step, total, bar, epoch, epochs, loss, lr, chunksPerSec));
    err.flush();
  }

  void finish() {
    err.println();
  }
}
