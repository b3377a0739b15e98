package dev.moments.featurizer.offline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.ingest.FfmpegTools;
import dev.moments.ingest.FrameProbe;
import dev.moments.ingest.FrameSampler;
import dev.moments.ingest.SampledFrame;
import dev.moments.ingest.SourceOptions;
import dev.moments.ingest.VideoSource;
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
 * Offline sampling ({@link SampledVideo}, what the model trains on) chooses the same source
 * frames as the live ingest ({@link VideoSource}, what it is served on), checked on real files
 * against ffprobe's exact frame list: row {@code i} is the first frame whose PTS reaches the slot
 * {@code i / fps} (pts + tick/2 >= i/fps, in the stream's time base), so a source at or above the
 * rate gives each chosen frame once, exactly as live, and a slower one repeats a frame for every
 * slot it reaches, where live uses it once.
 */
class SampledVideoTest {
  private static final double FPS = 6;

  @TempDir static Path dir;

  private static FrameProbe probe(Path video) throws IOException, InterruptedException {
    return FrameProbe.of(video);
  }

  /**
   * The frame (by PTS) of every offline row, worked out slot by slot: row {@code i} is the first
   * frame with {@code (x + 1/2) tick >= i / fps} (x: ticks after the first frame), and the rows
   * end at the last slot a frame reaches. At 6 fps: {@code (2x + 1) * tbNum * 6 >= 2 * i * tbDen}.
   */
  private static List<Long> expectedRows(FrameProbe p) {
    BigInteger tn = BigInteger.valueOf(p.tbNum()).multiply(BigInteger.valueOf((long) FPS));
    BigInteger td = BigInteger.valueOf(p.tbDen());
    long origin = p.pts().getFirst();
    List<Long> rows = new ArrayList<>();
    int j = 0;
    for (long i = 0; ; i++) {
      BigInteger slot = BigInteger.valueOf(2 * i).multiply(td);
      while (j < p.pts().size()
          && BigInteger.valueOf(2 * (p.pts().get(j) - origin) + 1).multiply(tn).compareTo(slot) < 0) {
        j++;
      }
      if (j == p.pts().size()) {
        return rows;
      }
      rows.add(p.pts().get(j));
    }
  }

  private static List<SampledVideo.Row> offline(Path video) {
    List<SampledVideo.Row> rows = new ArrayList<>();
    SampledVideo.Summary s = SampledVideo.sample(video, FPS, rows::add, null);
    assertThat(s.frames()).isEqualTo(rows.size());
    return rows;
  }

  /** The live ingest's frames (ptsMs) for the same file at the same rate. */
  private static List<Long> live(Path video) {
    List<Long> out = new ArrayList<>();
    try (VideoSource s = VideoSource.open(video.toString(), SourceOptions.defaults().withFps(FPS).withMaxSide(32))) {
      for (SampledFrame f; (f = s.next()) != null; ) {
        out.add(f.ptsMs());
      }
      assertThat(s.truncated()).isFalse();
    }
    return out;
  }

  /** Consecutive rows of the same frame count once: the frames chosen, in order. */
  private static List<SampledVideo.Row> distinct(List<SampledVideo.Row> rows) {
    List<SampledVideo.Row> out = new ArrayList<>();
    for (SampledVideo.Row r : rows) {
      if (out.isEmpty() || out.getLast().pts() != r.pts()) {
        out.add(r);
      }
    }
    return out;
  }

  /** Checks offline against the worked-out rows, FrameSampler over ffprobe's list, and live. */
  private static List<SampledVideo.Row> checkSameFramesAsLive(Path video) throws Exception {
    FrameProbe p = probe(video);
    List<SampledVideo.Row> rows = offline(video);
    String name = video.getFileName() + " at 6 fps";
    for (int i = 0; i < rows.size(); i++) {
      assertThat(rows.get(i).index()).as("%s: row %d", name, i).isEqualTo(i);
      assertThat(rows.get(i).timeBaseNum() * p.tbDen()).as("%s: time base", name)
          .isEqualTo(rows.get(i).timeBaseDen() * p.tbNum());
    }
    assertThat(rows.stream().map(SampledVideo.Row::pts).toList())
        .as("%s: row i is the first frame (PTS) reaching slot i/6", name)
        .isEqualTo(expectedRows(p));
    FrameSampler live = new FrameSampler(FPS, p.tbNum(), p.tbDen());
    List<Long> liveOverProbe = p.pts().stream().filter(live::accept).toList();
    List<SampledVideo.Row> chosen = distinct(rows);
    assertThat(chosen.stream().map(SampledVideo.Row::pts).toList())
        .as("%s: offline frames (PTS) = FrameSampler over ffprobe's PTS", name)
        .isEqualTo(liveOverProbe);
    assertThat(chosen.stream().map(SampledVideo.Row::ptsMs).toList())
        .as("%s: offline frames (PTS ms) = the live ingest's", name)
        .isEqualTo(live(video));
    return rows;
  }

  private static Path constantRate(String rate, String ext) {
    Path out = dir.resolve("cfr-" + rate.replace('/', '_') + "." + ext);
    if (!out.toFile().exists()) {
      FfmpegTools.run("-f", "lavfi", "-i", "testsrc2=duration=10:size=64x48:rate=" + rate,
          "-c:v", "libopenh264", "-threads", "1", "-pix_fmt", "yuv420p", out.toString());
    }
    return out;
  }

  @ParameterizedTest(name = "{0} fps {1}")
  @CsvSource({
      // source rate, container, frames at 6 fps over 10 s: one per slot
      "6, mp4", // 1/6 s = 2048 ticks of 1/12288 s, 166666.67 us: JavaCV's Frame.timestamp says 166666
      "25, mp4",
      "30000/1001, mp4",
      "30, mp4",
      "30, mkv", // a 1 ms clock: 1/30 s is stored as 33 ms
  })
  void a_source_at_or_above_6_fps_gives_the_live_frames_each_once(String rate, String ext) throws Exception {
    List<SampledVideo.Row> rows = checkSameFramesAsLive(constantRate(rate, ext));
    assertThat(distinct(rows)).as("no frame repeated").hasSameSizeAs(rows);
    // 10 s: slots 0 .. 59, each filled (the last frame of a 6 fps file is at 9.833 s = slot 59)
    assertThat(rows).hasSize(60);
  }

  @Test
  void a_6_fps_file_at_6_fps_keeps_every_frame_in_order() throws Exception {
    Path video = constantRate("6", "mp4");
    FrameProbe p = probe(video);
    assertThat(offline(video).stream().map(SampledVideo.Row::pts).toList()).isEqualTo(p.pts());
  }

  @Test
  void a_3_fps_file_at_6_fps_repeats_each_frame_for_the_two_slots_it_reaches() throws Exception {
    Path video = constantRate("3", "mp4");
    FrameProbe p = probe(video);
    assertThat(p.pts()).hasSize(30);
    List<SampledVideo.Row> rows = checkSameFramesAsLive(video);
    // Slot i is filled by the first frame at or after i/6 s: frame 0 fills slot 0, and every
    // later frame j (at j/3 s) the two slots 2j-1 and 2j it reaches; the rows end at the last
    // frame's slot 58 (9.667 s). 1 + 29 x 2 = 59 rows.
    assertThat(rows).hasSize(59);
    for (int i = 0; i < rows.size(); i++) {
      SampledVideo.Row r = rows.get(i);
      assertThat(r.pts()).as("row %d", i).isEqualTo(p.pts().get((i + 1) / 2));
      // row i is at slot i/6 s: its frame is the first at or after it, i/6 <= pts < i/6 + 1/3 s
      double at = (r.pts() - p.pts().getFirst()) * (double) p.tbNum() / p.tbDen();
      assertThat(at).as("row %d", i).isGreaterThanOrEqualTo(i / FPS - 1e-9).isLessThan(i / FPS + 1 / 3.0);
    }
    assertThat(rows.get(1).image()).isSameAs(rows.get(2).image());
    assertThat(live(video)).hasSize(30);
  }

  @Test
  void a_variable_rate_file_gives_the_live_frames_and_repeats_only_where_frames_are_sparse() throws Exception {
    Path video = FrameProbe.variableRateVideo(dir.resolve("vfr.mp4"));
    FrameProbe p = probe(video);
    assertThat(p.pts()).hasSize(90 + 30 + 48 + 10);
    List<SampledVideo.Row> rows = checkSameFramesAsLive(video);
    long tbPerSecond = p.tbDen() / p.tbNum();
    long eight = p.pts().getFirst() + 8 * tbPerSecond;
    // the first 8 s: one frame per slot, none repeated; the 5 fps part: 10 frames for its slots
    // 48 .. 58 (the last frame at 9.8 s reaches slot 58), one of them repeated
    assertThat(rows.stream().filter(r -> r.pts() < eight).count()).isEqualTo(48);
    assertThat(distinct(rows).stream().filter(r -> r.pts() < eight).count()).isEqualTo(48);
    assertThat(distinct(rows).stream().filter(r -> r.pts() >= eight).count()).isEqualTo(10);
    assertThat(rows).hasSize(59);
  }
}
