package dev.moments.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Makes small test videos with the ffmpeg command-line tool. */
final class TestVideos {
  private TestVideos() {}

  /** Runs {@code ffmpeg -y -v error -threads 1 ARGS...} and fails on a non-zero exit. */
  static void ffmpeg(String... args) {
    List<String> cmd = new ArrayList<>(List.of("ffmpeg", "-y", "-nostdin", "-v", "error"));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException("ffmpeg failed: " + cmd + "\n" + out);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run ffmpeg", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A constant-rate H.264 MP4 of {@code seconds} at {@code rate} fps, {@code w}x{@code h}. */
  static Path testsrc(Path dir, String name, int seconds, int rate, int w, int h) {
    Path out = dir.resolve(name);
    ffmpeg("-f", "lavfi", "-i", "testsrc2=duration=" + seconds + ":size=" + w + "x" + h + ":rate=" + rate,
        "-c:v", "libx264", "-preset", "ultrafast", "-threads", "1", "-pix_fmt", "yuv420p",
        "-movflags", "+faststart", out.toString());
    return out;
  }
}
