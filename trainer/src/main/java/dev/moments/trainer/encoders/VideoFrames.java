package dev.moments.trainer.encoders;

import dev.moments.featurizer.pocket.PocketImages;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameGrabber;
import org.bytedeco.javacv.Java2DFrameConverter;

/**
 * Every frame of one video, decoded with FFmpeg and kept small: squashed to the encoder's input
 * size as RGB bytes, with its presentation time.
 */
public record VideoFrames(String videoUid, double[] timesSec, List<byte[]> images) {
  /**
   * Decodes {@code mp4}, keeping at most {@code maxFps} frames per second (by presentation time).
   *
   * @throws IOException when FFmpeg cannot open or decode the file
   */
  public static VideoFrames decode(String videoUid, Path mp4, int size, double maxFps) throws IOException {
    if (avutil.av_log_get_level() > avutil.AV_LOG_ERROR) {
      avutil.av_log_set_level(avutil.AV_LOG_ERROR);
    }
    List<Double> times = new ArrayList<>();
    List<byte[]> images = new ArrayList<>();
    double next = 0;
    try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(mp4.toFile());
        Java2DFrameConverter c = new Java2DFrameConverter()) {
      g.start();
      Frame f;
      while ((f = g.grabImage()) != null) {
        double t = g.getTimestamp() / 1e6;
        if (t + 1e-6 < next) {
          continue;
        }
        next = t + 1 / maxFps;
        times.add(t);
        images.add(PocketImages.resize(c.convert(f), size));
      }
      g.stop();
    } catch (FrameGrabber.Exception e) {
      throw new IOException("cannot decode " + mp4 + ": " + e.getMessage(), e);
    }
    double[] ts = new double[times.size()];
    for (int i = 0; i < ts.length; i++) {
      ts[i] = times.get(i);
    }
    return new VideoFrames(videoUid, ts, List.copyOf(images));
  }

  /** Indices of the frames with time in {@code [from, to]}. */
  public int[] between(double from, double to) {
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < timesSec.length; i++) {
      if (timesSec[i] >= from && timesSec[i] <= to) {
        idx.add(i);
      }
    }
    return idx.stream().mapToInt(Integer::intValue).toArray();
  }
}
