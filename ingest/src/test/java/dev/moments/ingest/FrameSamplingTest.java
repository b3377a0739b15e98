package dev.moments.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Sampling of real files against ffprobe's exact frame list: every sampled frame is the first
 * frame at or after its slot k/fps (within half a tick of the stream's time base), no frame is
 * used twice, and the count is duration x fps.
 */
class FrameSamplingTest {
  private static final long START = 1_700_000_000_000L;

  @TempDir static Path dir;

  private static FrameProbe probe(Path video) throws IOException, InterruptedException {
    return FrameProbe.of(video);
  }

  /**
   * The frames a sampler must choose, worked out slot by slot: for each k with k/fps inside the
   * stream, the first frame at or after k/fps (reach = pts + tick/2); a frame already chosen for
   * an earlier slot is not chosen again. {@code fps = fpsNum/fpsDen}. Returns frame indices.
   */
  private static List<Integer> expected(FrameProbe p, long fpsNum, long fpsDen) {
    BigInteger tn = BigInteger.valueOf(p.tbNum());
    BigInteger td = BigInteger.valueOf(p.tbDen());
    long origin = p.frames().getFirst()[0];
    List<Integer> out = new ArrayList<>();
    int i = 0;
    for (long k = 0; ; k++) {
      // slot time k*fpsDen/fpsNum s < stream end endTicks*tbNum/tbDen s
      BigInteger slot = BigInteger.valueOf(k).multiply(BigInteger.valueOf(fpsDen)).multiply(td);
      if (slot.compareTo(BigInteger.valueOf(p.endTicks()).multiply(tn).multiply(BigInteger.valueOf(fpsNum))) >= 0) {
        return out;
      }
      // first frame with (x + 1/2) * tbNum/tbDen >= k * fpsDen/fpsNum
      while (i < p.frames().size()
          && BigInteger.valueOf(2 * (p.frames().get(i)[0] - origin) + 1).multiply(tn).multiply(BigInteger.valueOf(fpsNum))
              .compareTo(slot.shiftLeft(1)) < 0) {
        i++;
      }
      if (i < p.frames().size() && (out.isEmpty() || out.getLast() != i)) {
        out.add(i);
      }
    }
  }

  private static List<SampledFrame> sample(Path video, double fps) {
    List<SampledFrame> out = new ArrayList<>();
    try (VideoSource s = VideoSource.open(video.toString(),
        SourceOptions.defaults().withFps(fps).withMaxSide(32).withStartTimeMs(START))) {
      for (SampledFrame f; (f = s.next()) != null; ) {
        out.add(f);
      }
      assertThat(s.truncated()).isFalse();
    }
    return out;
  }

  /** {@code ticks} of the time base in ms, rounded to nearest. */
  private static long ms(FrameProbe p, long ticks) {
    return Math.floorDiv(2 * ticks * p.tbNum() * 1000 + p.tbDen(), 2 * p.tbDen());
  }

  private static void check(Path video, double fps, long fpsNum, long fpsDen, boolean fpsAboveSource)
      throws Exception {
    FrameProbe p = probe(video);
    List<SampledFrame> got = sample(video, fps);
    List<Integer> want = expected(p, fpsNum, fpsDen);
    List<Long> wantMs = want.stream().map(i -> ms(p, p.frames().get(i)[0])).toList();
    assertThat(got.stream().map(SampledFrame::ptsMs).toList())
        .as("%s at %s fps: pts-ms of the first frame at or after each slot k/fps", video.getFileName(), fps)
        .isEqualTo(wantMs);
    assertThat(got).allSatisfy(f -> assertThat(f.captureTimeMs()).isEqualTo(START + f.ptsMs()));
    double seconds = p.endTicks() * (double) p.tbNum() / p.tbDen();
    if (fpsAboveSource) {
      // no frame is duplicated: each source frame once
      assertThat(got).hasSize(p.frames().size());
    } else {
      assertThat((double) got.size()).as("%s at %s fps: duration %.4f s x fps", video.getFileName(), fps, seconds)
          .isCloseTo(seconds * fps, org.assertj.core.data.Offset.offset(1.0));
    }
  }

  private static Path constantRate(String rate, String ext) {
    Path out = dir.resolve("cfr-" + rate.replace('/', '_') + "." + ext);
    if (!out.toFile().exists()) {
      TestVideos.ffmpeg("-f", "lavfi", "-i", "testsrc2=duration=10:size=64x48:rate=" + rate,
          "-c:v", "libopenh264", "-threads", "1", "-pix_fmt", "yuv420p", out.toString());
    }
    return out;
  }

  @ParameterizedTest(name = "{0} fps {1} sampled at {2}")
  @CsvSource({
      // source rate, container, --fps, fps as an exact fraction (29.97 means 30000/1001)
      "5, mp4, 5, 5, 1",
      "6, mp4, 6, 6, 1",
      "12, mp4, 12, 12, 1",
      "24, mp4, 24, 24, 1",
      "25, mp4, 25, 25, 1",
      "30000/1001, mp4, 29.97, 30000, 1001",
      "30, mp4, 30, 30, 1",
      "60, mp4, 60, 60, 1",
      "5, mp4, 4, 4, 1",
      "6, mp4, 4, 4, 1",
      "12, mp4, 6, 6, 1",
      "24, mp4, 6, 6, 1",
      "25, mp4, 6, 6, 1",
      "30000/1001, mp4, 6, 6, 1",
      "30, mp4, 6, 6, 1",
      "60, mp4, 6, 6, 1",
      "30000/1001, ts, 6, 6, 1",
      "30000/1001, ts, 29.97, 30000, 1001",
      // Matroska keeps a 1 ms clock: 1/30 s is stored as 33 ms
      "30, mkv, 30, 30, 1",
      "30, mkv, 6, 6, 1",
      "24, mkv, 7.5, 15, 2",
  })
  void a_constant_rate_file_gives_the_first_frame_at_or_after_every_slot(String rate, String ext, double fps,
      long fpsNum, long fpsDen) throws Exception {
    check(constantRate(rate, ext), fps, fpsNum, fpsDen, false);
  }

  @Test
  void a_rate_above_the_sources_gives_every_frame_once() throws Exception {
    check(constantRate("60", "mp4"), 90, 90, 1, true);
    check(constantRate("5", "mp4"), 6, 6, 1, true);
  }

  @Test
  void a_6_fps_camera_sampled_at_6_fps_keeps_every_frame() throws Exception {
    Path video = constantRate("6", "mp4");
    List<SampledFrame> frames = sample(video, 6);
    assertThat(frames).hasSize(60);
    for (int i = 0; i < frames.size(); i++) {
      assertThat(frames.get(i).ptsMs()).isEqualTo(Math.round(i * 1000 / 6.0));
    }
  }

  @Test
  void a_variable_rate_file_fills_every_slot_its_frames_can() throws Exception {
    Path video = FrameProbe.variableRateVideo(dir.resolve("vfr.mp4"));
    FrameProbe p = probe(video);
    assertThat(p.frames()).hasSize(90 + 30 + 48 + 10);
    List<SampledFrame> got = sample(video, 6);
    List<Integer> want = expected(p, 6, 1);
    assertThat(got.stream().map(SampledFrame::ptsMs).toList())
        .isEqualTo(want.stream().map(i -> ms(p, p.frames().get(i)[0])).toList());
    // every slot of the first 8 s has its own frame; the 5 fps part fills 10 of its 12 slots
    assertThat(got.stream().filter(f -> f.ptsMs() < 8000).count()).isEqualTo(48);
    assertThat(got.stream().filter(f -> f.ptsMs() >= 8000).count()).isEqualTo(10);
  }
}
