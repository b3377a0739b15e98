package dev.moments.featurizer.offline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.ImageEncoder;
import dev.moments.featurizer.store.FeatureManifest;
import dev.moments.featurizer.store.Npy;
import dev.moments.ingest.FfmpegTools;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OfflineFeaturizerTest {
  private static ImageEncoder encoder;

  @BeforeAll
  static void load() {
    encoder = Encoders.loadImage(Encoders.defaultDir());
  }

  @AfterAll
  static void close() {
    encoder.close();
  }

  @Test
  void a_folder_of_videos_becomes_npy_files_and_a_manifest_and_a_second_run_resumes(@TempDir Path tmp)
      throws Exception {
    Path videos = Files.createDirectories(tmp.resolve("videos"));
    Path out = tmp.resolve("features");
    FfmpegTools.run(videos, "-f", "lavfi", "-i", "testsrc=duration=3:size=160x120:rate=25", "-pix_fmt", "yuv420p", "clip-a.mp4");
    FfmpegTools.run(videos, "-f", "lavfi", "-i", "testsrc2=duration=2:size=128x96:rate=30", "-c:v", "mjpeg", "-q:v", "3", "clip-b.mkv");
    // The first sampled frame of clip-a as FFmpeg itself decodes it, lossless.
    FfmpegTools.run(tmp, "-i", videos.resolve("clip-a.mp4").toString(), "-frames:v", "1", "first-a.png");
    Files.write(videos.resolve("broken.mp4"), "definitely not a video".getBytes(StandardCharsets.US_ASCII));
    Files.write(videos.resolve("empty.mov"), new byte[0]);
    Files.writeString(videos.resolve("notes.txt"), "not a video extension: ignored");

    ByteArrayOutputStream log = new ByteArrayOutputStream();
    OfflineFeaturizer f = new OfflineFeaturizer(encoder, 6.0, 8, new PrintStream(log, true, StandardCharsets.UTF_8));
    OfflineFeaturizer.Result r = f.run(videos, out);

    assertThat(r.done()).containsExactly("clip-a", "clip-b");
    assertThat(r.failed()).containsExactly("broken", "empty");
    String text = log.toString(StandardCharsets.UTF_8);
    assertThat(text).contains("[1/4] broken: FAILED, skipped: " + videos.resolve("broken.mp4") + ": not a readable video (Invalid data found when processing input)");
    assertThat(text).contains("empty: FAILED, skipped: " + videos.resolve("empty.mov") + ": empty file (0 bytes)");
    assertThat(text).contains("[2/4] clip-a [##############################] 100% 18 frames");

    Npy.Matrix a = Npy.read(out.resolve("clip-a.npy"));
    Npy.Matrix b = Npy.read(out.resolve("clip-b.npy"));
    // duration x fps (+-1): 3 s x 6 = 18, 2 s x 6 = 12.
    assertThat(a.rows()).isBetween(17, 19);
    assertThat(b.rows()).isBetween(11, 13);
    assertThat(a.cols()).isEqualTo(64);
    FeatureManifest m = FeatureManifest.read(out);
    assertThat(m.encoderId()).isEqualTo("moments-tiny-clip-v1");
    assertThat(m.fps()).isEqualTo(6.0);
    assertThat(m.dim()).isEqualTo(64);
    assertThat(m.videos()).containsOnlyKeys("clip-a", "clip-b");
    assertThat(m.videos().get("clip-a").frames()).isEqualTo(a.rows());
    assertThat(m.videos().get("clip-a").durationSec()).isCloseTo(3.0, within(0.1));
    assertThat(m.videos().get("clip-b").durationSec()).isCloseTo(2.0, within(0.1));

    // Row 0 is the encoder's embedding of the first frame (decoders may differ in YUV->RGB
    // rounding, hence the tolerance), and rows are unit vectors.
    BufferedImage first = ImageIO.read(tmp.resolve("first-a.png").toFile());
    float[] direct = encoder.encode(List.of(first))[0];
    float[] row0 = a.row(0);
    double dot = 0;
    double norm = 0;
    for (int k = 0; k < 64; k++) {
      dot += row0[k] * direct[k];
      norm += row0[k] * row0[k];
    }
    assertThat(norm).isCloseTo(1.0, within(1e-4));
    assertThat(dot).isGreaterThan(0.999);
    // testsrc moves: the last row is a different picture from the first.
    float[] last = a.row(a.rows() - 1);
    double dotLast = 0;
    for (int k = 0; k < 64; k++) {
      dotLast += row0[k] * last[k];
    }
    assertThat(dotLast).isLessThan(dot);

    // A second run skips what is done and leaves the files alone.
    FileTime before = Files.getLastModifiedTime(out.resolve("clip-a.npy"));
    OfflineFeaturizer.Result again = f.run(videos, out);
    assertThat(again.skipped()).containsExactly("clip-a", "clip-b");
    assertThat(again.done()).isEmpty();
    assertThat(again.failed()).containsExactly("broken", "empty");
    assertThat(Files.getLastModifiedTime(out.resolve("clip-a.npy"))).isEqualTo(before);

    // Features of another fps never mix into the same folder.
    assertThatThrownBy(() -> new OfflineFeaturizer(encoder, 5.0, 8, null).run(videos, out))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("holds features of encoder moments-tiny-clip-v1 at 6.0 fps");
  }

  @Test
  void rotation_metadata_turns_the_picture_upright() {
    // A 2x1 picture: red left, blue right. Display rotation -90 (a phone held upright) turns it
    // 90 degrees clockwise: 1x2, red on top.
    BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
    img.setRGB(0, 0, 0xFF0000);
    img.setRGB(1, 0, 0x0000FF);
    BufferedImage cw = SampledVideo.rotate(img, -90);
    assertThat(cw.getWidth()).isEqualTo(1);
    assertThat(cw.getHeight()).isEqualTo(2);
    assertThat(cw.getRGB(0, 0) & 0xFFFFFF).isEqualTo(0xFF0000);
    assertThat(cw.getRGB(0, 1) & 0xFFFFFF).isEqualTo(0x0000FF);
    BufferedImage ccw = SampledVideo.rotate(img, 90);
    assertThat(ccw.getRGB(0, 0) & 0xFFFFFF).isEqualTo(0x0000FF);
    BufferedImage flip = SampledVideo.rotate(img, 180);
    assertThat(flip.getRGB(0, 0) & 0xFFFFFF).isEqualTo(0x0000FF);
    assertThat(flip.getWidth()).isEqualTo(2);
    assertThat(SampledVideo.rotate(img, 0)).isSameAs(img);
  }
}
