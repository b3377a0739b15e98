package dev.moments.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.DataBufferByte;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Skipping the decode of frames no sample point needs ({@code skip_frame = AVDISCARD_NONREF} per
 * packet, and H.264 packets before an IDR not sent at all) gives exactly the frames that decoding
 * everything gives: the same timestamps and the same pixels (SHA-256 of each BGR image), at rates
 * that divide the source's and rates that do not, on streams with non-reference frames (MPEG-4
 * Part 2 with B-frames: the bundled H.264 encoder, OpenH264, makes only I and P frames, all of
 * them references) and on H.264 with IDR frames every second or 25 frames.
 */
class SkipUnsampledTest {
  private static final long START = 1_700_000_000_000L;

  @TempDir static Path dir;

  private record Run(List<String> frames, long packets, long decoded, long dropped) {}

  private static Path video(String name, String rate, String... codec) {
    Path out = dir.resolve(name);
    if (!out.toFile().exists()) {
      List<String> args = new ArrayList<>(List.of("-f", "lavfi", "-i",
          "testsrc2=duration=6:size=96x64:rate=" + rate, "-pix_fmt", "yuv420p"));
      args.addAll(List.of(codec));
      args.add(out.toString());
      TestVideos.ffmpeg(args.toArray(String[]::new));
    }
    return out;
  }

  private static Run sample(Path video, double fps, boolean skip) throws Exception {
    List<String> frames = new ArrayList<>();
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    try (VideoSource s = VideoSource.open(video.toString(),
        SourceOptions.defaults().withFps(fps).withStartTimeMs(START), skip)) {
      for (SampledFrame f; (f = s.next()) != null; ) {
        byte[] px = ((DataBufferByte) f.image().getRaster().getDataBuffer()).getData();
        frames.add(f.ptsMs() + " " + f.captureTimeMs() + " " + HexFormat.of().formatHex(sha.digest(px)));
      }
      assertThat(s.truncated()).as("%s: %s", video.getFileName(), s.endNote()).isFalse();
      return new Run(frames, s.packetsRead(), s.decodedFrames(), s.packetsDropped());
    }
  }

  @ParameterizedTest(name = "{0} at {2} fps")
  @CsvSource({
      // file, source rate, sampling rate
      "mpeg4-bframes.mp4, 30, 6",
      "mpeg4-bframes.mp4, 30, 1",
      "mpeg4-bframes.mp4, 30, 5",
      "mpeg4-bframes.mp4, 30, 7.5",
      "mpeg4-bframes.mp4, 30, 30",
      "mpeg4-bframes-29.97.mkv, 30000/1001, 6",
      "mpeg4-bframes-29.97.mkv, 30000/1001, 7.5",
      "h264-gop30.mp4, 30, 6",
      "h264-gop30.mp4, 30, 1",
      "h264-gop30.mp4, 30, 5",
      "h264-gop30.mp4, 30, 7.5",
      "h264-gop30.mp4, 30, 30",
      "h264-gop25-29.97.ts, 30000/1001, 6",
      "h264-gop25-29.97.ts, 30000/1001, 1",
      "h264-gop25-29.97.ts, 30000/1001, 7.5",
      "h264-gop12-25.mp4, 25, 6",
      "h264-gop12-25.mp4, 25, 7.5",
  })
  void skippingGivesTheSameFramesAsDecodingEverything(String name, String rate, double fps) throws Exception {
    Path v = name.startsWith("mpeg4")
        ? video(name, rate, "-c:v", "mpeg4", "-bf", "2", "-g", "30", "-q:v", "4")
        : video(name, rate, "-c:v", "libopenh264", "-threads", "1",
            "-g", name.contains("gop30") ? "30" : name.contains("gop25") ? "25" : "12");
    Run all = sample(v, fps, false);
    Run skipped = sample(v, fps, true);
    assertThat(all.decoded()).as("without skipping every packet is decoded").isEqualTo(all.packets());
    assertThat(all.frames()).as("%s at %s fps sampled something", name, fps).isNotEmpty();
    assertThat(skipped.frames()).as("%s at %s fps: pts-ms, capture ms and SHA-256 of each sampled frame", name, fps)
        .containsExactlyElementsOf(all.frames());
    if (fps * 2 <= Double.parseDouble(rate.contains("/") ? "29.97" : rate)) {
      // At most every other frame is sampled: some frames must have been skipped.
      assertThat(skipped.decoded()).as("%s at %s fps: frames decoded with skipping (of %d packets, %d not sent)",
          name, fps, skipped.packets(), skipped.dropped()).isLessThan(skipped.packets());
    }
  }
}
