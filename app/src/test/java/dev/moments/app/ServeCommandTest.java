package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ServeCommandTest {
  static String run(int[] rc, String... args) {
    CommandLine cl = Moments.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));
    rc[0] = cl.execute(args);
    return err.toString().strip();
  }

  @Test
  void serving_without_tokens_or_insecure_is_an_error_naming_both_flags() {
    int[] rc = new int[1];
    String err = run(rc, "serve", "--bootstrap", "localhost:1");
    assertThat(rc[0]).isEqualTo(1);
    assertThat(err).isEqualTo("moments serve: serve needs --tokens FILE (lines 'TOKEN STREAM[,STREAM...]' or "
        + "'TOKEN *') or an explicit --insecure to run without authentication");
  }

  @Test
  void tokens_and_insecure_together_are_rejected(@TempDir Path tmp) throws Exception {
    Path tokens = Files.writeString(tmp.resolve("t"), "a *\n");
    int[] rc = new int[1];
    String err = run(rc, "serve", "--tokens", tokens.toString(), "--insecure");
    assertThat(rc[0]).isEqualTo(1);
    assertThat(err).isEqualTo("moments serve: --tokens FILE and --insecure exclude each other");
  }

  @Test
  void a_bad_token_file_is_one_line_naming_the_line(@TempDir Path tmp) throws Exception {
    Path tokens = Files.writeString(tmp.resolve("t"), "a *\noops\n");
    int[] rc = new int[1];
    String err = run(rc, "serve", "--tokens", tokens.toString());
    assertThat(rc[0]).isEqualTo(1);
    assertThat(err).isEqualTo("moments serve: " + tokens + " line 2: expected 'TOKEN STREAM[,STREAM...]' or 'TOKEN *', got 'oops'");
  }

  @Test
  void bad_webhook_options_are_one_line_before_any_broker_is_asked() {
    int[] rc = new int[1];
    String err = run(rc, "serve", "--insecure", "--bootstrap", "localhost:1", "--webhook-attempts", "0");
    assertThat(rc[0]).isEqualTo(1);
    assertThat(err).isEqualTo("moments serve: webhook attempts must be >= 1, got 0");
    err = run(rc, "serve", "--insecure", "--bootstrap", "localhost:1", "--webhook-timeout-ms", "0");
    assertThat(rc[0]).isEqualTo(1);
    assertThat(err).isEqualTo("moments serve: webhook timeout must be > 0, got PT0S");
  }
}
