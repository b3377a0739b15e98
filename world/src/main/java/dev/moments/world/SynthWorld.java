package dev.moments.world;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.FrameRecorder;
import org.bytedeco.javacv.Java2DFrameConverter;

/**
 * Renders a synthetic world into a folder: {@code {video_uid}.mp4} per video (H.264, yuv420p),
 * {@code narration.json} and {@code nlq_val.json} in the Ego4D layouts, and {@code scenes.json}
 * (the list of {@link Scene}s: the ground truth). Everything is a pure function of the
 * {@link Spec}: the same spec gives the same scripts and the same frames.
 */
public final class SynthWorld {
  public static final String NARRATIONS = "narration.json";
  public static final String NLQ = "nlq_val.json";
  public static final String SCENES = "scenes.json";

  private static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private SynthWorld() {}

  /**
   * What to render.
   *
   * @param videos number of videos
   * @param seed the world's seed; video {@code i} uses a seed derived from it and {@code i}
   * @param minutes length of each video
   * @param width frame width in pixels (even)
   * @param height frame height in pixels (even)
   * @param fps frames per second of the encoded video
   */
  public record Spec(int videos, long seed, double minutes, int width, int height, int fps) {
    public Spec {
      if (videos < 1) {
        throw new IllegalArgumentException("videos must be >= 1, got " + videos);
      }
      if (!(minutes * 60 >= 20)) {
        throw new IllegalArgumentException("minutes must be at least 1/3 (20 s), got " + minutes);
      }
      if (width < 64 || height < 48 || width % 2 != 0 || height % 2 != 0) {
        throw new IllegalArgumentException(
            "size must be even and at least 64x48 (H.264 yuv420p), got " + width + "x" + height);
      }
      if (fps < 1 || fps > 60) {
        throw new IllegalArgumentException("fps must be in 1..60, got " + fps);
      }
    }

    /** The video uid of video {@code i}: {@code synth-<seed>-<i, two digits>}. */
    public String videoUid(int i) {
      return String.format("synth-%d-%02d", seed, i);
    }
  }

  /** The scripts of every video of {@code spec}, without rendering anything. */
  public static List<Scene> scenes(Spec spec) {
    List<Scene> out = new ArrayList<>();
    for (int i = 0; i < spec.videos(); i++) {
      long videoSeed = spec.seed() * 1_000_003L + i * 7919L + 17;
      out.add(SceneScripts.generate(spec.videoUid(i), videoSeed, spec.minutes() * 60, spec.fps(),
          spec.width(), spec.height()));
    }
    return out;
  }

  /**
   * Renders {@code spec} into {@code outDir} (created when missing; existing files of the same
   * names are replaced), encoding up to {@code threads} videos at once.
   *
   * @return the scenes, in video order
   */
  public static List<Scene> render(Path outDir, Spec spec, int threads) throws IOException {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    Files.createDirectories(outDir);
    List<Scene> scenes = scenes(spec);
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(threads, scenes.size()));
    try {
      List<Future<?>> jobs = new ArrayList<>();
      for (Scene s : scenes) {
        jobs.add(pool.submit(() -> {
          encode(s, outDir.resolve(s.videoUid() + ".mp4"));
          return null;
        }));
      }
      for (Future<?> f : jobs) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while rendering " + outDir, e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
    Ego4dFiles.writeNarrations(outDir.resolve(NARRATIONS), scenes);
    Ego4dFiles.writeNlq(outDir.resolve(NLQ), "val", scenes);
    JSON.writeValue(outDir.resolve(SCENES).toFile(), scenes);
    return scenes;
  }

  /** Encodes one scene to an H.264 mp4 at its size and frame rate. */
  public static void encode(Scene scene, Path mp4) throws IOException {
    if (avutil.av_log_get_level() > avutil.AV_LOG_ERROR) {
      avutil.av_log_set_level(avutil.AV_LOG_ERROR); // the encoder's banner is noise here
    }
    SceneRenderer renderer = new SceneRenderer(scene);
    BufferedImage img = new BufferedImage(scene.width(), scene.height(), BufferedImage.TYPE_3BYTE_BGR);
    try (FFmpegFrameRecorder rec = new FFmpegFrameRecorder(mp4.toFile(), scene.width(), scene.height(), 0);
        Java2DFrameConverter converter = new Java2DFrameConverter()) {
      rec.setFormat("mp4");
      rec.setVideoCodec(avcodec.AV_CODEC_ID_H264);
      rec.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
      rec.setFrameRate(scene.fps());
      rec.setGopSize(scene.fps() * 2);
      // flat colours compress well; ~0.5 bit per pixel keeps item colours clean at small sizes
      rec.setVideoBitrate(Math.max(200_000, scene.width() * scene.height() * scene.fps() / 2));
      rec.start();
      int frames = scene.frameCount();
      for (int i = 0; i < frames; i++) {
        renderer.render(img, (double) i / scene.fps());
        rec.record(converter.convert(img));
      }
      rec.stop();
    } catch (FrameRecorder.Exception e) {
      throw new IOException("cannot encode " + mp4 + ": " + e.getMessage(), e);
    }
  }

  /** Reads a {@code scenes.json} written by {@link #render}. */
  public static List<Scene> readScenes(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("no scenes file at " + file);
    }
    return JSON.readValue(file.toFile(), new TypeReference<List<Scene>>() {});
  }

}
