package dev.moments.featurizer.offline;

import dev.moments.featurizer.encoder.ImageEncoder;
import dev.moments.featurizer.store.FeatureManifest;
import dev.moments.featurizer.store.Npy;
import java.awt.image.BufferedImage;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Offline featurization of a folder of videos into the frame-feature layout of DESIGN §5: for
 * every video file {@code DIR/{uid}.{ext}}, frames sampled at {@code fps} by presentation time,
 * encoded in batches, written as {@code OUT/{uid}.npy} (float32 {@code [T, dim]}) and recorded in
 * {@code OUT/manifest.json} (updated after each video, so an interrupted run resumes: videos
 * already in the manifest with a matching .npy are skipped). A bad file is reported on the
 * progress stream and skipped; the result lists it.
 */
public final class OfflineFeaturizer {
  /** File extensions taken as videos (case-insensitive). */
  public static final Set<String> VIDEO_EXTENSIONS =
      Set.of("mp4", "m4v", "mkv", "webm", "mov", "avi", "ts", "mts", "mpg", "mpeg", "flv", "wmv", "3gp");

  private final ImageEncoder encoder;
  private final double fps;
  private final int batchSize;
  private final PrintStream progress;

  /** The outcome of a run. */
  public record Result(List<String> done, List<String> skipped, List<String> failed, long frames) {}

  /**
   * @param progress where the progress bar and per-file errors go (stderr in the command); null
   *     for silence
   */
  public OfflineFeaturizer(ImageEncoder encoder, double fps, int batchSize, PrintStream progress) {
    if (!(fps > 0)) {
      throw new IllegalArgumentException("fps must be > 0, got " + fps);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
    }
    this.encoder = encoder;
    this.fps = fps;
    this.batchSize = batchSize;
    this.progress = progress;
  }

  /**
   * Featurizes every video of {@code videos} into {@code out}.
   *
   * @throws IllegalArgumentException when {@code videos} is not a directory, or {@code out} holds
   *     features of another encoder, fps or dimension
   */
  public Result run(Path videos, Path out) throws IOException {
    if (!Files.isDirectory(videos)) {
      throw new IllegalArgumentException("video directory does not exist: " + videos);
    }
    Files.createDirectories(out);
    FeatureManifest manifest;
    if (Files.exists(out.resolve(FeatureManifest.FILE_NAME))) {
      manifest = FeatureManifest.read(out);
      if (!manifest.encoderId().equals(encoder.id()) || manifest.fps() != fps || manifest.dim() != encoder.dim()) {
        throw new IllegalArgumentException(out + " holds features of encoder " + manifest.encoderId() + " at "
            + manifest.fps() + " fps, dim " + manifest.dim() + "; this run makes " + encoder.id() + " at " + fps
            + " fps, dim " + encoder.dim() + " (use another --out)");
      }
    } else {
      manifest = new FeatureManifest(encoder.id(), fps, encoder.dim(), null);
    }
    List<Path> files;
    try (Stream<Path> s = Files.list(videos)) {
      files = s.filter(Files::isRegularFile).filter(OfflineFeaturizer::isVideo).sorted().toList();
    }
    List<String> done = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    long frames = 0;
    for (int i = 0; i < files.size(); i++) {
      Path file = files.get(i);
      String uid = uid(file);
      String label = String.format(Locale.ROOT, "[%d/%d] %s", i + 1, files.size(), uid);
      FeatureManifest.Video known = manifest.videos().get(uid);
      if (known != null && rows(FeatureManifest.featureFile(out, uid)) == known.frames()) {
        skipped.add(uid);
        say(label + ": already done (" + known.frames() + " frames), skipped\n");
        continue;
      }
      try {
        FeatureManifest.Video v = featurize(file, FeatureManifest.featureFile(out, uid), label);
        manifest = manifest.with(uid, v);
        manifest.write(out);
        done.add(uid);
        frames += v.frames();
      } catch (IllegalArgumentException e) {
        failed.add(uid);
        say("\r" + label + ": FAILED, skipped: " + e.getMessage() + "\n");
      }
    }
    if (!Files.exists(out.resolve(FeatureManifest.FILE_NAME))) {
      manifest.write(out);
    }
    return new Result(done, skipped, failed, frames);
  }

  /** The video uid of a file: its name without the extension. */
  public static String uid(Path file) {
    String n = file.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot > 0 ? n.substring(0, dot) : n;
  }

  private static boolean isVideo(Path file) {
    String n = file.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return !n.startsWith(".") && dot > 0 && VIDEO_EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
  }

  /** Rows of an existing .npy, or -1 when it is missing or unreadable. */
  private static int rows(Path npy) {
    if (!Files.isRegularFile(npy)) {
      return -1;
    }
    try {
      return Npy.read(npy).rows();
    } catch (IOException | IllegalArgumentException e) {
      return -1;
    }
  }

  /** Samples, encodes and writes one video; rows stream to a side file so memory stays bounded. */
  private FeatureManifest.Video featurize(Path file, Path npy, String label) throws IOException {
    Path data = npy.resolveSibling(npy.getFileName() + ".rows.tmp");
    long start = System.nanoTime();
    int[] written = {0};
    try (OutputStream rows = new BufferedOutputStream(Files.newOutputStream(data), 1 << 16)) {
      List<BufferedImage> batch = new ArrayList<>(batchSize);
      ByteBuffer row = ByteBuffer.allocate(encoder.dim() * 4).order(ByteOrder.LITTLE_ENDIAN);
      Runnable drain = () -> {
        if (batch.isEmpty()) {
          return;
        }
        float[][] vectors = encoder.encode(batch);
        batch.clear();
        try {
          for (float[] v : vectors) {
            row.clear();
            for (float x : v) {
              row.putFloat(x);
            }
            rows.write(row.array());
            written[0]++;
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      };
      long[] lastDraw = {0};
      SampledVideo.Summary summary;
      try {
        summary = SampledVideo.sample(file, fps, sampled -> {
          batch.add(sampled.image());
          if (batch.size() >= batchSize) {
            drain.run();
          }
        }, (sec, len) -> {
          long now = System.nanoTime();
          if (now - lastDraw[0] > 200_000_000L) {
            lastDraw[0] = now;
            bar(label, sec, len, written[0], start);
          }
        });
        drain.run();
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
      rows.flush();
      if (summary.frames() != written[0]) {
        throw new IllegalStateException("sampled " + summary.frames() + " frames but wrote " + written[0]);
      }
      bar(label, summary.durationSec(), summary.durationSec(), written[0], start);
      say("\n");
      writeNpy(npy, data, written[0], encoder.dim());
      return new FeatureManifest.Video(written[0], summary.durationSec());
    } finally {
      Files.deleteIfExists(data);
    }
  }

  private static void writeNpy(Path npy, Path data, int rows, int cols) throws IOException {
    Path tmp = npy.resolveSibling(npy.getFileName() + ".tmp");
    try (OutputStream out = Files.newOutputStream(tmp)) {
      Npy.writeHeader(out, rows, cols);
      out.flush();
      try (FileChannel in = FileChannel.open(data, StandardOpenOption.READ)) {
        in.transferTo(0, in.size(), java.nio.channels.Channels.newChannel(out));
      }
    }
    Files.move(tmp, npy, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private void bar(String label, double sec, double len, int frames, long start) {
    if (progress == null) {
      return;
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    double frac = len > 0 ? Math.min(1, sec / len) : 0;
    int width = 30;
    int filled = (int) Math.round(frac * width);
    progress.printf(Locale.ROOT, "\r%s [%s%s] %3.0f%% %d frames, %.1f frames/s ", label,
        "#".repeat(filled), "-".repeat(width - filled), frac * 100, frames, elapsed > 0 ? frames / elapsed : 0);
    progress.flush();
  }

  private void say(String s) {
    if (progress != null) {
      progress.print(s);
      progress.flush();
    }
  }
}
