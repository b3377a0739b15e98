package dev.moments.app;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** Runs the {@code moments} command line in-process for tests, capturing stdout and stderr. */
final class Cli {
  /** What a command returned and printed. */
  record Out(int rc, String out, String err) {}

  private Cli() {}

  /** Executes {@code moments args...}; stdout is captured from System.out, stderr from picocli's writer. */
  static synchronized Out run(String... args) {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      var cl = Moments.commandLine();
      cl.setErr(new PrintWriter(err, true));
      int rc = cl.execute(args);
      return new Out(rc, buf.toString(StandardCharsets.UTF_8), err.toString());
    } finally {
      System.setOut(old);
    }
  }
}
