package dev.moments.ingest;

import java.nio.file.Path;

/** Makes small test videos with the ffmpeg bundled with JavaCV ({@link FfmpegTools}). */
final class TestVideos {
  private TestVideos() {}

  /** Runs {@code ffmpeg -y -v error ARGS...} and fails on a non-zero exit. */
  static void ffmpeg(String... args) {
    FfmpegTools.run(args);
  }

  /** A constant-rate H.264 MP4 of {@code seconds} at {@code rate} fps, {@code w}x{@code h}. */
  static Path testsrc(Path dir, String name, int seconds, int rate, int w, int h) {
    Path out = dir.resolve(name);
    ffmpeg("-f", "lavfi", "-i", "testsrc2=duration=" + seconds + ":size=" + w + "x" + h + ":rate=" + rate,
        "-c:v", "libopenh264", "-threads", "1", "-pix_fmt", "yuv420p",
        "-movflags", "+faststart", out.toString());
    return out;
  }
}
