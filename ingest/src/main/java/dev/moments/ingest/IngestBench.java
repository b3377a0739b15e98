package dev.moments.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Measures decode + sample throughput of {@link VideoSource} on a file next to the reference
 * {@code ffmpeg -i FILE -vf fps=F -f null -} on the same file, run with the ffmpeg bundled with
 * JavaCV ({@link FfmpegTools}): the same FFmpeg build as the decoder, never the system's.
 *
 * <p>NOTE: wall-clock timings on a shared machine; run it when the machine is quiet and repeat.
 */
public final class IngestBench {
  private static final Pattern FRAME = Pattern.compile("frame=\\s*(\\d+)");

  private IngestBench() {}

  /**
   * Bench numbers.
   *
   * @param decoded frames decoded by us
   * @param sampled frames sampled (converted to upright BGR images) by us
   * @param mediaSec media duration covered
   * @param oursSec our wall time (open to end)
   * @param ffmpegSec the reference's wall time, or -1 when ffmpeg could not be run
   * @param ffmpegFrames frames the reference's fps filter produced, or -1 when unknown
   * @param ffmpegNote why the reference has no numbers, or empty
   */
  public record Result(Path file, double fps, long decoded, long sampled, double mediaSec,
      double oursSec, double ffmpegSec, long ffmpegFrames, String ffmpegNote) {

    /** How much faster we are than the reference (> 1: faster), or NaN without a reference. */
    public double ratio() {
      return ffmpegSec > 0 ? ffmpegSec / oursSec : Double.NaN;
    }

    public String report() {
      StringBuilder b = new StringBuilder();
      b.append(String.format(Locale.ROOT, "bench ingest %s at %.3g fps (%.1f s of media)%n", file, fps, mediaSec));
      b.append(String.format(Locale.ROOT,
          "  moments (JavaCV/FFmpeg decode + PTS sampling + BGR conversion): %.2f s wall, %.1f frames decoded/s, "
              + "%.1f sampled frames/s (%d sampled), %.1fx real time%n",
          oursSec, decoded / oursSec, sampled / oursSec, sampled, mediaSec / oursSec));
      if (ffmpegSec > 0) {
        b.append(String.format(Locale.ROOT,
            "  ffmpeg -i FILE -vf fps=%s -f null -: %.2f s wall, %.1f frames decoded/s, %s, %.1fx real time%n",
            fmt(fps), ffmpegSec, decoded / ffmpegSec,
            ffmpegFrames >= 0 ? ffmpegFrames + " frames out" : "frames out unknown", mediaSec / ffmpegSec));
        b.append(String.format(Locale.ROOT,
            "  ratio moments/ffmpeg throughput: %.2f (wall time ffmpeg %.2f s / moments %.2f s)", ratio(),
            ffmpegSec, oursSec));
      } else {
        b.append("  ffmpeg reference not measured: ").append(ffmpegNote);
      }
      return b.toString();
    }
  }

  /** Runs both on {@code file}; ours first, then the reference. */
  public static Result run(Path file, double fps, int maxSide) {
    SourceOptions o = SourceOptions.defaults().withFps(fps).withMaxSide(maxSide).withStartTimeMs(0L);
    long t0 = System.nanoTime();
    long decoded;
    long sampled;
    double media;
    try (VideoSource s = VideoSource.open(file.toString(), o)) {
      while (s.next() != null) {
        // decode, sample and convert only
      }
      decoded = s.decodedFrames();
      sampled = s.sampledFrames();
      media = s.mediaDurationMs() / 1000.0;
    }
    double ours = (System.nanoTime() - t0) / 1e9;

    // The reference: the bundled ffmpeg, the same FFmpeg build as our decoder.
    List<String> args = List.of("-nostdin", "-hide_banner", "-v", "info", "-stats",
        "-i", file.toString(), "-vf", "fps=" + fmt(fps), "-f", "null", "-");
    double ref = -1;
    long refFrames = -1;
    String note = "";
    try {
      long r0 = System.nanoTime();
      Process p = FfmpegTools.command(FfmpegTools.ffmpeg(), args).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int rc = p.waitFor();
      ref = (System.nanoTime() - r0) / 1e9;
      if (rc != 0) {
        note = "ffmpeg exited " + rc;
        ref = -1;
      }
      Matcher m = FRAME.matcher(out);
      while (m.find()) {
        refFrames = Long.parseLong(m.group(1));
      }
    } catch (IOException | IllegalStateException e) {
      note = "cannot run ffmpeg (" + e.getMessage() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      note = "interrupted";
    }
    return new Result(file, fps, decoded, sampled, media, ours, ref, refFrames, note);
  }

  private static String fmt(double fps) {
    return fps == Math.rint(fps) ? Long.toString((long) fps) : Double.toString(fps);
  }
}
