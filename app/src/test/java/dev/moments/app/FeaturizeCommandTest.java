package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.featurizer.store.FeatureManifest;
import dev.moments.ingest.FfmpegTools;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class FeaturizeCommandTest {
  @Test
  void offline_mode_without_out_is_rejected_with_one_line(@TempDir Path tmp) {
    CommandLine cl = Moments.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));
    int rc = cl.execute("featurize", "--videos", tmp.toString());
    assertThat(rc).isEqualTo(1);
    assertThat(err.toString().strip()).isEqualTo("moments featurize: offline mode needs both --videos DIR and --out DIR");
  }

  @Test
  void offline_mode_exits_non_zero_when_a_video_failed_and_keeps_the_good_ones(@TempDir Path tmp) throws Exception {
    Path videos = Files.createDirectories(tmp.resolve("v"));
    FfmpegTools.run("-f", "lavfi", "-i", "testsrc=duration=1:size=96x64:rate=10", "-pix_fmt", "yuv420p",
        videos.resolve("ok.mp4").toString());
    Files.write(videos.resolve("bad.mkv"), "nope".getBytes(StandardCharsets.US_ASCII));
    Path out = tmp.resolve("out");
    int rc = Moments.commandLine().execute("featurize", "--videos", videos.toString(), "--out", out.toString(), "--fps", "4");
    assertThat(rc).isEqualTo(1);
    FeatureManifest m = FeatureManifest.read(out);
    assertThat(m.videos()).containsOnlyKeys("ok");
    assertThat(m.videos().get("ok").frames()).isBetween(3, 5);
  }
}
