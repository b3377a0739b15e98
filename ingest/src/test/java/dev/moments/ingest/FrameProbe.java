package dev.moments.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * ffprobe's view of a file's video stream, the independent reference of the sampling tests (here
 * and in the featurizer's): its time base and every frame's timestamp and duration, in order.
 *
 * @param frames per frame {best_effort_timestamp, duration}, in ticks of the time base
 */
public record FrameProbe(long tbNum, long tbDen, List<long[]> frames) {
  /** Every frame's timestamp, in ticks. */
  public List<Long> pts() {
    return frames.stream().map(f -> f[0]).toList();
  }

  /** The stream's length in ticks: end of the last frame - first frame's timestamp. */
  public long endTicks() {
    long[] last = frames.getLast();
    return last[0] + last[1] - frames.getFirst()[0];
  }

  /** Runs the bundled ffprobe on {@code video}. */
  public static FrameProbe of(Path video) throws IOException, InterruptedException {
    Process p = FfmpegTools.command(FfmpegTools.ffprobe(), List.of("-v", "error", "-select_streams", "v:0",
        "-show_entries", "stream=time_base:frame=best_effort_timestamp,duration", "-of", "csv=p=0",
        video.toString())).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    assertThat(p.waitFor()).as(out).isZero();
    long num = 0;
    long den = 0;
    List<long[]> frames = new ArrayList<>();
    for (String line : out.strip().split("\n")) {
      String l = line.strip().replaceAll(",$", "");
      if (l.contains("/")) {
        String[] tb = l.split("/");
        num = Long.parseLong(tb[0]);
        den = Long.parseLong(tb[1]);
      } else if (!l.isEmpty()) {
        String[] f = l.split(",");
        frames.add(new long[] {Long.parseLong(f[0]), f.length > 1 ? Long.parseLong(f[1]) : 0});
      }
    }
    assertThat(num).as("time base in %s", out).isPositive();
    return new FrameProbe(num, den, frames);
  }

  /**
   * A variable-rate H.264 MP4: 3 s at 30 fps, 3 s at 10 fps, 2 s at 24000/1001 fps, 2 s at 5 fps
   * (fewer frames than slots at 6 fps): 90 + 30 + 48 + 10 frames.
   */
  public static Path variableRateVideo(Path video) throws IOException {
    FfmpegTools.run(
        "-f", "lavfi", "-i", "testsrc2=duration=3:size=64x48:rate=30",
        "-f", "lavfi", "-i", "testsrc2=duration=3:size=64x48:rate=10",
        "-f", "lavfi", "-i", "testsrc2=duration=2:size=64x48:rate=24000/1001",
        "-f", "lavfi", "-i", "testsrc2=duration=2:size=64x48:rate=5",
        "-filter_complex", "[0:v][1:v][2:v][3:v]concat=n=4:v=1[v]", "-map", "[v]", "-fps_mode", "vfr",
        "-c:v", "libopenh264", "-threads", "1", "-pix_fmt", "yuv420p", video.toString());
    return video;
  }
}
