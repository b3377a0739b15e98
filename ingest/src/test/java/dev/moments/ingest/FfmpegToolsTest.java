package dev.moments.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FfmpegToolsTest {
  @Test
  void ffmpeg_and_ffprobe_are_the_ones_bundled_with_javacv_not_the_systems() throws Exception {
    Path cache = Loader.getCacheDir().toPath().toRealPath();
    for (Path exe : List.of(FfmpegTools.ffmpeg(), FfmpegTools.ffprobe())) {
      assertThat(exe.toRealPath()).startsWith(cache);
      Process p = FfmpegTools.command(exe, List.of("-version")).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertThat(p.waitFor()).as(out).isZero();
      // The same FFmpeg as the decoder's libraries (org.bytedeco:ffmpeg 8.0.1).
      assertThat(out).startsWith(exe.getFileName() + " version 8.0.1");
    }
  }

  @Test
  void run_makes_a_video_that_ffprobe_reads(@TempDir Path dir) throws Exception {
    TestVideos.testsrc(dir, "a.mp4", 1, 10, 64, 48);
    Process p = FfmpegTools.command(FfmpegTools.ffprobe(), List.of("-v", "error", "-select_streams", "v:0",
        "-show_entries", "stream=codec_name,width,height,nb_frames", "-of", "csv=p=0",
        dir.resolve("a.mp4").toString())).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    assertThat(p.waitFor()).isZero();
    assertThat(out).isEqualTo("h264,64,48,10");
  }

  @Test
  void a_failing_run_names_the_command_and_shows_ffmpegs_own_message(@TempDir Path dir) {
    assertThatThrownBy(() -> FfmpegTools.run(dir, "-i", "missing.mp4", "out.mp4"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("ffmpeg exited ")
        .hasMessageContaining("Error opening input file missing.mp4.");
  }
}
