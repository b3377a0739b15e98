package dev.moments.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Measures decode + sample throughput of {@link VideoSource} on a file next to the reference
 * {@code ffmpeg -i FILE -vf fps=F -f null -} on the same file, run with the ffmpeg bundled with
 * JavaCV ({@link FfmpegTools}): the same FFmpeg build as the decoder, never the system's.
 *
 * <p>The same work on both sides: the reference decodes and drops frames with the fps filter and
 * encodes nothing, so it is compared with our decode + sample + BGR conversion of the sampled
 * frames, without JPEG; with JPEG, ours ({@link JpegEncoder}: FFmpeg's MJPEG encoder, quality
 * 0.85 = {@code -q:v 3}) is compared with the reference plus the same encoder on the same sampled
 * frames ({@code -vf fps=F -pix_fmt yuvj420p -c:v mjpeg -q:v 3 -f null -}). Ours is timed with
 * skipping of unneeded frames ({@link VideoSource}) and without. One untimed warm-up run first
 * (the JVM loads FFmpeg's libraries and compiles the loop once per process, as the ffmpeg process
 * loads its own); then the variants run in turn, {@code repeats} times, and the medians are
 * reported.
 *
 * <p>NOTE: wall-clock timings on a shared machine; print the load next to them and repeat.
 */
public final class IngestBench {
  private static final Pattern FRAME = Pattern.compile("frame=\\s*(\\d+)");
  private static final Pattern BENCH = Pattern.compile("bench: utime=([0-9.]+)s stime=([0-9.]+)s");

  private IngestBench() {}

  /**
   * One timed run: wall seconds, CPU seconds (user + system, all threads: ours from the JVM's
   * process CPU time, so JIT and GC count; ffmpeg's from its {@code -benchmark} line, -1 when
   * unknown) and counters.
   */
  public record Timing(double seconds, double cpuSeconds, long packets, long decoded, long sampled, long frames) {}

  /**
   * Bench numbers (medians over the repeats).
   *
   * @param streamInfo codec, size, rate and GOP structure of the file
   * @param coldSec the first, untimed run in this JVM (library load, JIT), for the record
   * @param full ours decoding every frame, no JPEG
   * @param skip ours skipping unneeded frames, no JPEG
   * @param skipJpeg ours skipping, with JPEG encoding of each sampled frame
   * @param ffmpeg {@code -vf fps=F -f null -}, or null when it could not run
   * @param ffmpegJpeg the same with MJPEG encoding, or null
   * @param ffmpegNote why the reference has no numbers, or empty
   */
  public record Result(Path file, double fps, int repeats, String streamInfo, double mediaSec, double coldSec,
      Timing full, Timing skip, Timing skipJpeg, Timing ffmpeg, Timing ffmpegJpeg, String ffmpegNote) {

    /** How much faster ours (skipping, no JPEG) is than {@code -vf fps -f null} (> 1: faster), or NaN. */
    public double ratio() {
      return ffmpeg != null ? ffmpeg.seconds() / skip.seconds() : Double.NaN;
    }

    public String report() {
      StringBuilder b = new StringBuilder();
      b.append(String.format(Locale.ROOT, "bench ingest %s at %s fps (%.1f s of media), medians of %d runs%n",
          file, fmt(fps), mediaSec, repeats));
      b.append("  stream: ").append(streamInfo).append('\n');
      b.append(String.format(Locale.ROOT, "  first run in this JVM (FFmpeg libraries load, JIT; not in the ratios): %.2f s%n",
          coldSec));
      line(b, "moments, decode every frame + sample + BGR of sampled", full);
      line(b, "moments, skip unneeded frames + sample + BGR of sampled", skip);
      line(b, "moments, skip + sample + BGR + JPEG (FFmpeg MJPEG, quality 0.85 = -q:v 3)", skipJpeg);
      if (ffmpeg != null) {
        line(b, "ffmpeg -i F -vf fps=" + fmt(fps) + " -f null -", ffmpeg);
        if (ffmpegJpeg != null) {
          line(b, "ffmpeg -i F -vf fps=" + fmt(fps) + " -pix_fmt yuvj420p -c:v mjpeg -q:v 3 -f null -", ffmpegJpeg);
        }
        b.append(String.format(Locale.ROOT,
            "  ratio moments/ffmpeg, no JPEG: wall %.2f decoding every frame, %.2f skipping; CPU %.2f, %.2f%n",
            ffmpeg.seconds() / full.seconds(), ratio(), ffmpeg.cpuSeconds() / full.cpuSeconds(),
            ffmpeg.cpuSeconds() / skip.cpuSeconds()));
        if (ffmpegJpeg != null) {
          b.append(String.format(Locale.ROOT, "  ratio moments/ffmpeg, with JPEG (skipping): wall %.2f, CPU %.2f%n",
              ffmpegJpeg.seconds() / skipJpeg.seconds(), ffmpegJpeg.cpuSeconds() / skipJpeg.cpuSeconds()));
        }
      } else {
        b.append("  ffmpeg reference not measured: ").append(ffmpegNote).append('\n');
      }
      return b.toString().stripTrailing();
    }

    private void line(StringBuilder b, String what, Timing t) {
      b.append(String.format(Locale.ROOT, "  %-74s %6.2f s wall, %6.2f s CPU, %6.1f frames/s of media, %s%n",
          what + ":", t.seconds(), t.cpuSeconds(), mediaSec * rate() / t.seconds(),
          t.packets() >= 0
              ? String.format(Locale.ROOT, "%d of %d frames decoded, %d sampled", t.decoded(), t.packets(), t.sampled())
              : (t.frames() >= 0 ? t.frames() + " frames out" : "frames out unknown")));
    }

    /** Source frames per second of media, from our own full decode. */
    private double rate() {
      return full.decoded() / mediaSec;
    }
  }

  /** Runs ours (three variants) and the reference (two) in turn on {@code file}, {@code repeats} times. */
  public static Result run(Path file, double fps, int maxSide, int repeats) {
    if (repeats < 1) {
      throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
    }
    SourceOptions o = SourceOptions.defaults().withFps(fps).withMaxSide(maxSide).withStartTimeMs(0L);
    double[] media = new double[1];
    Timing cold = ours(file, o, true, false, media);
    List<Timing> full = new ArrayList<>();
    List<Timing> skip = new ArrayList<>();
    List<Timing> skipJpeg = new ArrayList<>();
    List<Timing> ref = new ArrayList<>();
    List<Timing> refJpeg = new ArrayList<>();
    String note = "";
    String f = fmt(fps);
    for (int i = 0; i < repeats; i++) {
      full.add(ours(file, o, false, false, media));
      if (note.isEmpty()) {
        try {
          ref.add(ffmpeg(List.of("-i", file.toString(), "-vf", "fps=" + f, "-f", "null", "-")));
        } catch (IllegalStateException e) {
          note = e.getMessage();
        }
      }
      skip.add(ours(file, o, true, false, media));
      skipJpeg.add(ours(file, o, true, true, media));
      if (note.isEmpty()) {
        try {
          refJpeg.add(ffmpeg(List.of("-i", file.toString(), "-vf", "fps=" + f, "-pix_fmt", "yuvj420p",
              "-c:v", "mjpeg", "-q:v", "3", "-f", "null", "-")));
        } catch (IllegalStateException e) {
          note = e.getMessage();
        }
      }
    }
    return new Result(file, fps, repeats, streamInfo(file), media[0], cold.seconds(), median(full), median(skip),
        median(skipJpeg), ref.size() == repeats ? median(ref) : null,
        refJpeg.size() == repeats ? median(refJpeg) : null, note);
  }

  private static Timing ours(Path file, SourceOptions o, boolean skip, boolean jpeg, double[] media) {
    long c0 = processCpuNanos();
    long t0 = System.nanoTime();
    try (VideoSource s = VideoSource.open(file.toString(), o, skip);
        JpegEncoder enc = new JpegEncoder(0.85)) {
      long bytes = 0;
      for (SampledFrame fr; (fr = s.next()) != null; ) {
        if (jpeg) {
          bytes += enc.encode(fr.image()).length;
        }
      }
      double sec = (System.nanoTime() - t0) / 1e9;
      double cpu = (processCpuNanos() - c0) / 1e9;
      media[0] = s.mediaDurationMs() / 1000.0;
      return new Timing(sec, c0 < 0 ? -1 : cpu, s.packetsRead(), s.decodedFrames(), s.sampledFrames(), bytes);
    }
  }

  /** Times the bundled ffmpeg with {@code args}; throws IllegalStateException when it cannot run or fails. */
  private static Timing ffmpeg(List<String> args) {
    List<String> all = new ArrayList<>(List.of("-nostdin", "-hide_banner", "-v", "info", "-stats", "-benchmark"));
    all.addAll(args);
    try {
      long r0 = System.nanoTime();
      Process p = FfmpegTools.command(FfmpegTools.ffmpeg(), all).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int rc = p.waitFor();
      double sec = (System.nanoTime() - r0) / 1e9;
      if (rc != 0) {
        throw new IllegalStateException("ffmpeg exited " + rc + ": " + last(out));
      }
      long frames = -1;
      Matcher m = FRAME.matcher(out);
      while (m.find()) {
        frames = Long.parseLong(m.group(1));
      }
      double cpu = -1;
      Matcher c = BENCH.matcher(out);
      if (c.find()) {
        cpu = Double.parseDouble(c.group(1)) + Double.parseDouble(c.group(2));
      }
      return new Timing(sec, cpu, -1, -1, -1, frames);
    } catch (IOException e) {
      throw new IllegalStateException("cannot run ffmpeg (" + e.getMessage() + ")", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** CPU time of this process, all threads, in ns; -1 when the JVM does not say. */
  private static long processCpuNanos() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  /** The run with the median wall time (its CPU time is reported with it). */
  private static Timing median(List<Timing> ts) {
    Timing[] a = ts.toArray(Timing[]::new);
    Arrays.sort(a, (x, y) -> Double.compare(x.seconds(), y.seconds()));
    return a[a.length / 2];
  }

  /**
   * Codec, profile, size, frame rate, B-frames and GOP structure (packets, key packets, frames
   * between them) of {@code file}'s video stream, from the bundled ffprobe.
   */
  public static String streamInfo(Path file) {
    try {
      String s = probe(List.of("-v", "error", "-select_streams", "v:0", "-show_entries",
          "stream=codec_name,profile,width,height,r_frame_rate,has_b_frames", "-of", "compact=p=0", file.toString()));
      String flags = probe(List.of("-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags",
          "-of", "csv=p=0", file.toString()));
      List<Integer> keys = new ArrayList<>();
      String[] lines = flags.strip().split("\n");
      for (int i = 0; i < lines.length; i++) {
        if (lines[i].startsWith("K")) {
          keys.add(i);
        }
      }
      String gop = keys.size() > 1
          ? String.format(Locale.ROOT, "a key frame every %.1f frames", (keys.getLast() - keys.getFirst()) / (double) (keys.size() - 1))
          : "one key frame";
      return s.strip() + "; " + lines.length + " packets, " + keys.size() + " key, " + gop;
    } catch (IllegalStateException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  private static String probe(List<String> args) {
    try {
      Process p = FfmpegTools.command(FfmpegTools.ffprobe(), args).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IllegalStateException("ffprobe failed: " + last(out));
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run ffprobe (" + e.getMessage() + ")", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /**
   * The bench file {@code WxH} at {@code rate} fps, {@code seconds} long, H.264 (the bundled
   * FFmpeg's libopenh264: constrained baseline, I and P frames only, all of them references) of
   * {@code testsrc2} with a key frame every {@code gop} frames, made in {@code dir} with the
   * bundled ffmpeg unless it is there already.
   */
  public static Path makeFile(Path dir, int w, int h, int rate, int seconds, int gop) {
    Path out = dir.resolve(String.format(Locale.ROOT, "%dx%d-%dfps-%ds-gop%d.mp4", w, h, rate, seconds, gop));
    if (Files.isRegularFile(out)) {
      return out;
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create " + dir + ": " + e.getMessage(), e);
    }
    Path tmp = dir.resolve(out.getFileName() + ".part.mp4");
    List<String> args = List.of("-y", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
        "testsrc2=duration=" + seconds + ":size=" + w + "x" + h + ":rate=" + rate,
        "-c:v", "libopenh264", "-g", Integer.toString(gop), "-pix_fmt", "yuv420p", "-movflags", "+faststart",
        tmp.toString());
    try {
      // Not FfmpegTools.run: two minutes of 1080p take longer than its two-minute limit on a busy machine.
      Process p = FfmpegTools.command(FfmpegTools.ffmpeg(), args).redirectErrorStream(true).start();
      String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, java.util.concurrent.TimeUnit.MINUTES) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException("ffmpeg could not make " + out + ": " + last(log));
      }
      Files.move(tmp, out);
    } catch (IOException e) {
      throw new IllegalStateException("cannot make " + out + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted making " + out, e);
    }
    return out;
  }

  private static String last(String out) {
    String s = out.strip();
    int nl = s.lastIndexOf('\n');
    return nl < 0 ? s : s.substring(nl + 1);
  }

  private static String fmt(double fps) {
    return fps == Math.rint(fps) ? Long.toString((long) fps) : Double.toString(fps);
  }
}
