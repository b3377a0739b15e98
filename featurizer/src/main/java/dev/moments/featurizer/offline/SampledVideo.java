package dev.moments.featurizer.offline;

import dev.moments.ingest.FrameSampler;
import dev.moments.ingest.VideoSource;
import java.awt.geom.AffineTransform;
import java.awt.image.AffineTransformOp;
import java.awt.image.BufferedImage;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.avutil.AVRational;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.FrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.Java2DFrameConverter;

/**
 * Decodes a video file with FFmpeg (JavaCV) and samples it at a target fps by presentation time,
 * choosing the same source frames as the live ingest ({@link FrameSampler}, as {@link
 * VideoSource} uses it), so that the features a model trains on match those it is served: each
 * frame's PTS is read in the stream's own time base, output slot {@code k} is at {@code k / fps}
 * after the first frame, and a frame reaches it when {@code pts + tick/2 >= k / fps} (exact
 * integer arithmetic; 29.97 means 30000/1001). Row {@code k} is the first frame that reaches slot
 * {@code k}. The one difference from live: when frames are further apart than a slot (a source
 * below the target rate, a gap), a frame is repeated for every slot it reaches, where live uses
 * it once, so row {@code i} stays at time {@code i / fps} and a video of duration d gives about d
 * × fps rows; a source at or above the target rate gives each chosen frame once, exactly the live
 * frames. Rows end at the slot of the last frame. Display-rotation metadata (90/180/270°) is
 * applied.
 *
 * <p>NOTE: the ingest module owns live sources and the frames producer; this small class keeps
 * its own decoding (full-size pictures, errors thrown rather than reported) and shares the
 * sampling rule and the reading of timestamps with it.
 */
public final class SampledVideo {
  static {
    // Errors reach the user as one line each through our exceptions; FFmpeg's own log stays quiet.
    avutil.av_log_set_level(avutil.AV_LOG_FATAL);
  }

  private SampledVideo() {}

  /** What the sampler saw. */
  public record Summary(int frames, double durationSec) {}

  /**
   * One output row.
   *
   * @param index the row number {@code i}: the slot at {@code i / fps} after the first frame
   * @param image the picture, upright (a frame repeated for several slots is the same instance)
   * @param pts the source frame's PTS in the stream's time base
   * @param timeBaseNum numerator of the time base ({@code timeBaseNum / timeBaseDen} s)
   * @param timeBaseDen denominator of the time base
   */
  public record Row(int index, BufferedImage image, long pts, long timeBaseNum, long timeBaseDen) {
    /** The PTS in ms, rounded to nearest (as the live ingest's {@code SampledFrame.ptsMs}). */
    public long ptsMs() {
      BigInteger den = BigInteger.valueOf(timeBaseDen).shiftLeft(1);
      BigInteger num = BigInteger.valueOf(pts).multiply(BigInteger.valueOf(timeBaseNum))
          .multiply(BigInteger.valueOf(2000)).add(BigInteger.valueOf(timeBaseDen));
      BigInteger[] qr = num.divideAndRemainder(den);
      return (qr[1].signum() < 0 ? qr[0].subtract(BigInteger.ONE) : qr[0]).longValueExact();
    }
  }

  /** Per-frame progress: media time reached and the file's length, both in seconds (length 0 if unknown). */
  public interface Progress {
    void at(double seconds, double lengthSec);
  }

  /**
   * Decodes {@code file} and passes each row (its image a fresh one the receiver may keep) to
   * {@code sink}, in order.
   *
   * @throws IllegalArgumentException when the file is missing, empty, not a video, has no video
   *     stream, or yields no frame (the message names the file)
   */
  public static Summary sample(Path file, double fps, Consumer<Row> sink, Progress progress) {
    if (!(fps > 0)) {
      throw new IllegalArgumentException("fps must be > 0, got " + fps);
    }
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("no such video file: " + file);
    }
    try {
      if (Files.size(file) == 0) {
        throw new IllegalArgumentException(file + ": empty file (0 bytes)");
      }
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
    }
    try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(file.toFile());
        Java2DFrameConverter converter = new Java2DFrameConverter()) {
      try {
        g.start();
      } catch (FrameGrabber.Exception e) {
        throw new IllegalArgumentException(file + ": not a readable video (" + firstLine(e) + ")", e);
      }
      if (!g.hasVideo()) {
        throw new IllegalArgumentException(file + ": has no video stream");
      }
      AVRational tb = g.getFormatContext().streams(g.getVideoStream()).time_base();
      long tbNum = tb.num();
      long tbDen = tb.den();
      if (tbNum <= 0 || tbDen <= 0) {
        throw new IllegalArgumentException(file + ": its video stream has no time base");
      }
      double rotation = g.getDisplayRotation();
      double length = Math.max(0, g.getLengthInTime() / 1e6);
      FrameSampler sampler = new FrameSampler(fps, tbNum, tbDen);
      long nominalFrame = VideoSource.nominalFrameTicks(g);
      long first = Long.MIN_VALUE;
      long lastPts = Long.MIN_VALUE;
      long lastEnd = Long.MIN_VALUE;
      int k = 0;
      double frameGap = g.getFrameRate() > 0 ? 1.0 / g.getFrameRate() : 1.0 / fps;
      while (true) {
        Frame f;
        try {
          f = g.grabImage();
        } catch (FrameGrabber.Exception e) {
          if (k == 0) {
            throw new IllegalArgumentException(file + ": cannot decode (" + firstLine(e) + ")", e);
          }
          throw new IllegalArgumentException(
              file + ": decoding failed after " + k + " frames (" + firstLine(e) + "); the file may be truncated", e);
        }
        if (f == null) {
          break;
        }
        if (f.image == null) {
          continue;
        }
        // The PTS in the stream's time base, read as the live ingest (VideoSource) reads it: a
        // frame without one starts where the frame before it ended.
        AVFrame picture = VideoSource.decodedPicture(g);
        long pts = picture.best_effort_timestamp();
        if (pts == avutil.AV_NOPTS_VALUE) {
          pts = lastPts == Long.MIN_VALUE ? 0 : lastEnd;
        }
        if (first == Long.MIN_VALUE) {
          first = pts;
        }
        lastPts = Math.max(lastPts, pts);
        lastEnd = Math.max(lastEnd, pts + (picture.duration() > 0 ? picture.duration() : nominalFrame));
        long slots = sampler.fill(pts);
        if (slots > 0) {
          BufferedImage img = rotate(Java2DFrameConverter.cloneBufferedImage(converter.convert(f)), rotation);
          for (long i = 0; i < slots; i++) {
            sink.accept(new Row(k, img, pts, tbNum, tbDen));
            k = Math.addExact(k, 1);
          }
        }
        if (progress != null) {
          progress.at(seconds(pts - first, tbNum, tbDen), length);
        }
      }
      if (k == 0) {
        throw new IllegalArgumentException(file + ": no video frames could be decoded");
      }
      double duration = length > 0 ? length : seconds(lastPts - first, tbNum, tbDen) + frameGap;
      return new Summary(k, duration);
    } catch (FrameGrabber.Exception e) {
      throw new IllegalArgumentException(file + ": " + firstLine(e), e);
    }
  }

  private static double seconds(long ticks, long tbNum, long tbDen) {
    return ticks * (double) tbNum / tbDen;
  }

  /** JavaCV's message without its hints, e.g. "avformat_open_input() error -1094995529". */
  private static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    m = nl < 0 ? m : m.substring(0, nl);
    int colon = m.indexOf(": Could not");
    if (colon > 0) {
      m = m.substring(0, colon);
    }
    m = m.replace(" (Has setFormat() been called?)", "")
        .replace(" (For more details, make sure FFmpegLogCallback.set() has been called.)", "");
    java.util.regex.Matcher code = java.util.regex.Pattern.compile("error (-\\d+)").matcher(m);
    if (code.find()) {
      try (org.bytedeco.javacpp.BytePointer buf = new org.bytedeco.javacpp.BytePointer(256)) {
        if (avutil.av_strerror(Integer.parseInt(code.group(1)), buf, 256) == 0) {
          byte[] b = new byte[256];
          buf.get(b);
          int end = 0;
          while (end < b.length && b[end] != 0) {
            end++;
          }
          return new String(b, 0, end, java.nio.charset.StandardCharsets.UTF_8);
        }
      }
    }
    return m;
  }

  /**
   * Turns a decoded picture upright given FFmpeg's display rotation ({@code
   * av_display_rotation_get}, counter-clockwise degrees): like ffmpeg's autorotate, the picture is
   * turned clockwise by {@code -displayRotation} degrees (e.g. -90, a phone held upright, turns
   * it 90° clockwise).
   */
  static BufferedImage rotate(BufferedImage img, double displayRotation) {
    int quarter = (int) Math.round(-displayRotation / 90.0);
    quarter = ((quarter % 4) + 4) % 4;
    if (quarter == 0) {
      return img;
    }
    int w = img.getWidth();
    int h = img.getHeight();
    AffineTransform t = new AffineTransform();
    switch (quarter) {
      case 1 -> { // 90° clockwise
        t.translate(h, 0);
        t.quadrantRotate(1);
      }
      case 2 -> {
        t.translate(w, h);
        t.quadrantRotate(2);
      }
      default -> { // 270° clockwise
        t.translate(0, w);
        t.quadrantRotate(3);
      }
    }
    int nw = quarter == 2 ? w : h;
    int nh = quarter == 2 ? h : w;
    BufferedImage out = new BufferedImage(nw, nh, BufferedImage.TYPE_INT_RGB);
    new AffineTransformOp(t, AffineTransformOp.TYPE_NEAREST_NEIGHBOR).filter(img, out);
    return out;
  }
}
