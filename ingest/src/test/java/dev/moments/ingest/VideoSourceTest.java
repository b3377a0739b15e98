package dev.moments.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class VideoSourceTest {
  @TempDir Path dir;

  private static List<SampledFrame> readAll(VideoSource s) {
    List<SampledFrame> out = new ArrayList<>();
    for (SampledFrame f; (f = s.next()) != null; ) {
      out.add(f);
    }
    return out;
  }

  @Test
  void constant_rate_file_gives_duration_times_fps_frames_stamped_start_plus_pts() {
    Path video = TestVideos.testsrc(dir, "cfr.mp4", 4, 30, 320, 240);
    long start = 1_700_000_000_000L;
    try (VideoSource s = VideoSource.open(video.toString(),
        SourceOptions.defaults().withFps(6).withStartTimeMs(start))) {
      List<SampledFrame> frames = readAll(s);
      assertThat(frames).hasSizeBetween(23, 25);
      assertThat(s.decodedFrames()).isEqualTo(120);
      assertThat(s.truncated()).isFalse();
      assertThat(s.mediaDurationMs()).isBetween(3990L, 4010L);
      for (int i = 0; i < frames.size(); i++) {
        SampledFrame f = frames.get(i);
        assertThat(f.image().getWidth()).isEqualTo(320);
        assertThat(f.image().getHeight()).isEqualTo(240);
        assertThat(f.captureTimeMs()).isEqualTo(start + f.ptsMs());
        // every slot of 1/6 s is filled by the first 30 fps frame at or after it
        assertThat(f.ptsMs()).isBetween(Math.round(i * 1000 / 6.0), Math.round(i * 1000 / 6.0) + 34);
      }
    }
  }

  @Test
  void file_without_start_time_is_stamped_from_its_modification_time() throws IOException {
    Path video = TestVideos.testsrc(dir, "m.mp4", 1, 10, 64, 48);
    long mtime = 1_600_000_000_000L;
    Files.setLastModifiedTime(video, java.nio.file.attribute.FileTime.fromMillis(mtime));
    try (VideoSource s = VideoSource.open(video.toString(), SourceOptions.defaults())) {
      List<SampledFrame> frames = readAll(s);
      assertThat(frames).isNotEmpty();
      assertThat(frames).allSatisfy(f -> assertThat(f.captureTimeMs()).isEqualTo(mtime + f.ptsMs()));
    }
  }

  @Test
  void downscales_longest_side_to_max_side_keeping_aspect() {
    Path video = TestVideos.testsrc(dir, "big.mp4", 1, 10, 320, 240);
    try (VideoSource s = VideoSource.open(video.toString(), SourceOptions.defaults().withMaxSide(160))) {
      SampledFrame f = s.next();
      assertThat(f.image().getWidth()).isEqualTo(160);
      assertThat(f.image().getHeight()).isEqualTo(120);
      assertThat(s.width()).isEqualTo(160);
    }
  }

  @Test
  void variable_frame_rate_file_is_sampled_by_presentation_time() {
    // 2 s at 30 fps then 2 s at 10 fps in one file: 80 frames, nominal rate 30.
    Path video = dir.resolve("vfr.mkv");
    TestVideos.ffmpeg("-f", "lavfi", "-i", "testsrc2=duration=2:size=160x120:rate=30",
        "-f", "lavfi", "-i", "testsrc2=duration=2:size=160x120:rate=10",
        "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-fps_mode", "vfr",
        "-c:v", "libopenh264", "-threads", "1", "-pix_fmt", "yuv420p",
        video.toString());
    try (VideoSource s = VideoSource.open(video.toString(), SourceOptions.defaults().withFps(6))) {
      List<SampledFrame> frames = readAll(s);
      assertThat(s.decodedFrames()).isEqualTo(80);
      assertThat(frames).hasSizeBetween(23, 25);
      for (int i = 1; i < frames.size(); i++) {
        long gap = frames.get(i).ptsMs() - frames.get(i - 1).ptsMs();
        // never closer than a slot minus one source frame, never farther than a slot plus one
        assertThat(gap).as("gap before frame %d", i).isBetween(100L, 234L);
      }
      // the slow half still gets 6 frames per second
      assertThat(frames.stream().filter(f -> f.ptsMs() >= 2000).count()).isBetween(11L, 13L);
    }
  }

  @Test
  void rotated_file_comes_out_upright_like_ffmpeg_autorotate() throws IOException {
    // Top half red, bottom half blue, stored 320x240 with a 90 degree display rotation.
    Path plain = dir.resolve("plain.mp4");
    TestVideos.ffmpeg("-f", "lavfi", "-i",
        "color=red:size=320x120:duration=1:rate=10[a];color=blue:size=320x120:duration=1:rate=10[b];[a][b]vstack",
        "-c:v", "libopenh264", "-threads", "1", "-pix_fmt", "yuv420p", plain.toString());
    Path rotated = dir.resolve("rotated.mp4");
    // FFmpeg 7+ writes a display matrix from -display_rotation (its "rotate" tag is read-only now).
    TestVideos.ffmpeg("-display_rotation:v:0", "90", "-i", plain.toString(), "-c", "copy", rotated.toString());
    // What ffmpeg itself shows (autorotate on), as raw RGB.
    Path raw = dir.resolve("ref.rgb");
    TestVideos.ffmpeg("-i", rotated.toString(), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", raw.toString());
    byte[] ref = Files.readAllBytes(raw);
    assertThat(ref).hasSize(240 * 320 * 3);

    try (VideoSource s = VideoSource.open(rotated.toString(), SourceOptions.defaults())) {
      assertThat(s.rotation()).isIn(90, 270);
      BufferedImage img = s.next().image();
      assertThat(img.getWidth()).isEqualTo(240);
      assertThat(img.getHeight()).isEqualTo(320);
      for (int[] p : new int[][] {{20, 160}, {220, 160}, {120, 20}, {120, 300}}) {
        int i = (p[1] * 240 + p[0]) * 3;
        boolean refRed = (ref[i] & 0xff) > 128;
        boolean ourRed = ((img.getRGB(p[0], p[1]) >> 16) & 0xff) > 128;
        assertThat(ourRed).as("red at (%d,%d)", p[0], p[1]).isEqualTo(refRed);
      }
      // and the halves really differ left/right after rotation
      assertThat(((img.getRGB(20, 160) >> 16) & 0xff) > 128)
          .isNotEqualTo(((img.getRGB(220, 160) >> 16) & 0xff) > 128);
    }
  }

  @Test
  void truncated_file_yields_the_frames_it_can_and_says_so() throws IOException {
    Path video = TestVideos.testsrc(dir, "full.mp4", 4, 30, 320, 240);
    byte[] all = Files.readAllBytes(video);
    Path cut = dir.resolve("cut.mp4");
    Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
    try (VideoSource s = VideoSource.open(cut.toString(), SourceOptions.defaults().withFps(6))) {
      List<SampledFrame> frames = readAll(s);
      assertThat(frames.size()).isBetween(3, 21);
      assertThat(s.truncated()).isTrue();
      assertThat(s.endNote()).contains("of the declared 4.0 s");
    }
  }

  /** A 10 s 30 fps H.264 file in {@code ext}'s container (MP4 with its index first). */
  private Path tenSeconds(String ext) {
    Path video = dir.resolve("ten." + ext);
    TestVideos.ffmpeg("-f", "lavfi", "-i", "testsrc2=duration=10:size=160x120:rate=30",
        "-c:v", "libopenh264", "-threads", "1", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
        video.toString());
    return video;
  }

  private Path cut(Path video, long bytes) throws IOException {
    Path cut = dir.resolve("cut-" + video.getFileName());
    Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(video), (int) bytes));
    return cut;
  }

  @ParameterizedTest
  @ValueSource(strings = {"mp4", "mkv", "ts"})
  void every_container_cut_at_60_percent_is_truncated_and_an_intact_one_is_not(String ext) throws IOException {
    Path video = tenSeconds(ext);
    try (VideoSource s = VideoSource.open(video.toString(), SourceOptions.defaults().withFps(6))) {
      assertThat(readAll(s)).hasSize(60);
      assertThat(s.decodedFrames()).isEqualTo(300);
      assertThat(s.truncated()).as(s.endNote()).isFalse();
      assertThat(s.endNote()).isEmpty();
    }
    Path cut = cut(video, Files.size(video) * 6 / 10);
    try (VideoSource s = VideoSource.open(cut.toString(), SourceOptions.defaults().withFps(6))) {
      List<SampledFrame> frames = readAll(s);
      assertThat(frames.size()).isBetween(30, 40);
      assertThat(s.truncated()).isTrue();
      assertThat(s.endNote()).startsWith("decoded " + String.format(java.util.Locale.ROOT, "%.1f s",
          s.mediaDurationMs() / 1000.0));
    }
  }

  @Test
  void a_transport_stream_cut_on_a_packet_boundary_inside_a_frame_is_truncated() throws IOException {
    Path video = tenSeconds("ts");
    Path cut = cut(video, Files.size(video) * 6 / 10 / 188 * 188);
    try (VideoSource s = VideoSource.open(cut.toString(), SourceOptions.defaults().withFps(6))) {
      assertThat(readAll(s).size()).isBetween(30, 40);
      assertThat(s.truncated()).isTrue();
      assertThat(s.endNote()).endsWith("the file ends inside a frame (decode errors in its last frames)");
    }
  }

  @Test
  void a_transport_stream_cut_inside_a_packet_between_two_frames_is_truncated() throws Exception {
    Path video = tenSeconds("ts");
    // Where frame 180's packets start (a 188-byte boundary): frames 1-179 are whole before it.
    Process p = FfmpegTools.command(FfmpegTools.ffprobe(), List.of("-v", "error", "-select_streams", "v:0",
        "-show_entries", "packet=pos", "-of", "csv=p=0", video.toString())).start();
    List<String> positions = new String(p.getInputStream().readAllBytes()).strip().lines()
        .map(l -> l.replace(",", "").strip()).toList();
    assertThat(p.waitFor()).isZero();
    long boundary = Long.parseLong(positions.get(179));
    assertThat(boundary % 188).isZero();
    // Cut 100 bytes into the next frame's first packet: the frames decode cleanly, but the file
    // is not a whole number of packets.
    Path cut = cut(video, boundary + 100);
    try (VideoSource s = VideoSource.open(cut.toString(), SourceOptions.defaults().withFps(6))) {
      readAll(s);
      assertThat(s.decodedFrames()).isEqualTo(179);
      assertThat(s.truncated()).isTrue();
      assertThat(s.endNote()).isEqualTo("decoded 6.0 s; the file ends inside an MPEG-TS packet ("
          + (boundary + 100) + " bytes is not a whole number of 188-, 192- or 204-byte packets)");
    }
    // NOTE: cut exactly on the boundary, the file is a valid shorter transport stream.
    Path exact = cut(video, boundary);
    try (VideoSource s = VideoSource.open(exact.toString(), SourceOptions.defaults().withFps(6))) {
      readAll(s);
      assertThat(s.decodedFrames()).isEqualTo(179);
      assertThat(s.truncated()).isFalse();
    }
  }

  @Test
  void missing_file_is_a_clear_error() {
    assertThatThrownBy(() -> VideoSource.open(dir.resolve("nope.mp4").toString(), SourceOptions.defaults()))
        .isInstanceOf(VideoSourceException.class)
        .hasMessage("no such file: " + dir.resolve("nope.mp4"));
  }

  @Test
  void zero_byte_file_is_a_clear_error() throws IOException {
    Path empty = Files.createFile(dir.resolve("empty.mp4"));
    assertThatThrownBy(() -> VideoSource.open(empty.toString(), SourceOptions.defaults()))
        .isInstanceOf(VideoSourceException.class)
        .hasMessageContaining("empty file (0 bytes)");
  }

  @Test
  void text_files_are_not_videos() throws IOException {
    for (String name : new String[] {"notes.txt", "notes.mp4", "notes.nfo"}) {
      Path text = Files.writeString(dir.resolve(name), "where did I leave my keys?\n".repeat(50));
      assertThatThrownBy(() -> VideoSource.open(text.toString(), SourceOptions.defaults()))
          .as(name)
          .isInstanceOf(VideoSourceException.class)
          .hasMessageContaining(text.toString())
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
  }

  @Test
  void audio_only_file_has_no_video_stream() {
    Path audio = dir.resolve("tone.m4a");
    TestVideos.ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", audio.toString());
    assertThatThrownBy(() -> VideoSource.open(audio.toString(), SourceOptions.defaults()))
        .isInstanceOf(VideoSourceException.class)
        .hasMessage("no video stream in " + audio + " (audio only: aac)");
  }

  @Test
  void mp4_cut_before_its_index_is_a_clear_error() throws IOException {
    // Without faststart the index (moov) is at the end: nothing can be decoded.
    Path video = dir.resolve("moov-at-end.mp4");
    TestVideos.ffmpeg("-f", "lavfi", "-i", "testsrc2=duration=1:size=64x48:rate=10",
        "-c:v", "libopenh264", "-threads", "1", video.toString());
    byte[] all = Files.readAllBytes(video);
    Path cut = dir.resolve("cut.mp4");
    Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
    assertThatThrownBy(() -> VideoSource.open(cut.toString(), SourceOptions.defaults()))
        .isInstanceOf(VideoSourceException.class)
        .hasMessageStartingWith("cannot read video " + cut + ": ");
  }
}
