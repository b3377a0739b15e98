package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.broker.KafkaFixture;
import dev.moments.ingest.FfmpegTools;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class IngestCommandTest {
  @TempDir Path dir;

  private record Result(int exit, String out, String err) {}

  private static Result run(String... args) {
    CommandLine cl = Moments.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    java.io.PrintStream stdout = System.out;
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      int rc = cl.execute(args);
      return new Result(rc, out.toString(java.nio.charset.StandardCharsets.UTF_8), err.toString());
    } finally {
      System.setOut(stdout);
    }
  }

  private Path video() throws Exception {
    Path v = dir.resolve("v.mp4");
    FfmpegTools.run("-f", "lavfi", "-i", "testsrc2=duration=2:size=160x120:rate=30", "-c:v", "libopenh264",
        "-threads", "1", "-pix_fmt", "yuv420p", "-movflags", "+faststart", v.toString());
    return v;
  }

  @Test
  void bad_inputs_exit_1_with_one_line_and_no_stack_trace() throws Exception {
    Path text = Files.writeString(dir.resolve("a.mp4"), "plain text, not a video\n");
    Path empty = Files.createFile(dir.resolve("empty.mkv"));
    Path audio = dir.resolve("a.m4a");
    FfmpegTools.run("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", audio.toString());
    // Kafka is never contacted for a bad file, so an unreachable bootstrap is fine here.
    String[][] cases = {
        {text.toString(), "cannot read video " + text + ": Invalid data found when processing input"},
        {empty.toString(), "empty file (0 bytes), not a video: " + empty},
        {audio.toString(), "no video stream in " + audio + " (audio only: aac)"},
        {dir.resolve("missing.mp4").toString(), "no such file: " + dir.resolve("missing.mp4")},
    };
    for (String[] c : cases) {
      Result r = run("ingest", "--stream", "s", "--bootstrap", "127.0.0.1:1", c[0]);
      assertThat(r.exit()).as(c[0]).isEqualTo(1);
      assertThat(r.err()).as(c[0]).isEqualTo("moments ingest: " + c[1] + System.lineSeparator());
      assertThat(r.out()).isEmpty();
    }
  }

  @Test
  void a_file_is_sent_with_a_summary_and_a_truncated_one_exits_3() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    String prefix = KafkaFixture.uniquePrefix("ingest-cmd");
    Path v = video();
    Result ok = run("ingest", "--stream", "cam", "--bootstrap", bootstrap, "--topic-prefix", prefix,
        "--partitions", "1", "--start-time", "2024-05-01T09:30:00Z", v.toString());
    assertThat(ok.exit()).as(ok.err()).isZero();
    assertThat(ok.out()).startsWith("ingest cam: sent 12 frames (2.0 s of media, 60 frames decoded)")
        .contains("; 12 sampled: 12 sent, 0 dropped (broker unavailable), 0 failed; end of stream: eof")
        .doesNotContain("TRUNCATED");

    byte[] all = Files.readAllBytes(v);
    Path cut = Files.write(dir.resolve("cut.mp4"), java.util.Arrays.copyOf(all, all.length / 2));
    Result tr = run("ingest", "--stream", "cam", "--bootstrap", bootstrap, "--topic-prefix", prefix, cut.toString());
    assertThat(tr.exit()).isEqualTo(IngestCommand.EXIT_TRUNCATED);
    assertThat(tr.out()).contains("end of stream: truncated; TRUNCATED: " + cut);
  }

  @Test
  void a_transport_stream_cut_the_same_way_exits_3_too() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    String prefix = KafkaFixture.uniquePrefix("ingest-cmd-ts");
    Path ts = dir.resolve("v.ts");
    FfmpegTools.run("-f", "lavfi", "-i", "testsrc2=duration=4:size=160x120:rate=30", "-c:v", "libopenh264",
        "-threads", "1", "-pix_fmt", "yuv420p", ts.toString());
    Result ok = run("ingest", "--stream", "cam", "--bootstrap", bootstrap, "--topic-prefix", prefix,
        "--partitions", "1", ts.toString());
    assertThat(ok.exit()).as(ok.out() + ok.err()).isZero();
    assertThat(ok.out()).contains("sent 24 frames").doesNotContain("TRUNCATED");

    byte[] all = Files.readAllBytes(ts);
    Path cut = Files.write(dir.resolve("cut.ts"), java.util.Arrays.copyOf(all, all.length * 6 / 10));
    Result tr = run("ingest", "--stream", "cam", "--bootstrap", bootstrap, "--topic-prefix", prefix, cut.toString());
    assertThat(tr.exit()).as(tr.out() + tr.err()).isEqualTo(IngestCommand.EXIT_TRUNCATED);
    assertThat(tr.out()).contains("end of stream: truncated; TRUNCATED: " + cut + " ended early (decoded 2.");
  }

  @Test
  void start_time_accepts_iso_and_epoch_ms() {
    assertThat(IngestCommand.parseStartTime("2024-05-01T09:30:00Z")).isEqualTo(1714555800000L);
    assertThat(IngestCommand.parseStartTime("2024-05-01T11:30:00+02:00")).isEqualTo(1714555800000L);
    assertThat(IngestCommand.parseStartTime("1714555800000")).isEqualTo(1714555800000L);
    assertThat(IngestCommand.parseStartTime(null)).isNull();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> IngestCommand.parseStartTime("yesterday"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("yesterday");
  }
}
