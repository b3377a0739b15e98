package dev.moments.eval;

import dev.moments.featurizer.store.FeatureManifest;
import dev.moments.featurizer.store.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads time spans of per-video feature files through the directory's manifest. */
final class FeatureSpans {
  final Path dir;
  final FeatureManifest manifest;

  FeatureSpans(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("features directory not found: " + dir);
    }
    this.dir = dir;
    this.manifest = FeatureManifest.read(dir);
  }

  double fps() {
    return manifest.fps();
  }

  boolean has(String videoUid) {
    return Files.exists(FeatureManifest.featureFile(dir, videoUid));
  }

  /** The first row of a span from {@code startSec}: the one holding that time. */
  int firstRow(double startSec) {
    return (int) Math.max(0, Math.floor(startSec * fps() + 1e-6));
  }

  /**
   * Where the first row of a span from {@code startSec} starts, relative to {@code startSec}:
   * in (-1 / fps, 0] (a clip starting mid-frame gets that whole frame; 0 for a clip on a frame
   * boundary). Add it to span-relative times to get clip seconds.
   */
  double offsetSec(double startSec) {
    return firstRow(startSec) / fps() - startSec;
  }

  /**
   * Frames of {@code videoUid} covering [startSec, endSec) ({@code endSec} infinite = to the end),
   * or {@code null} when the video has no feature file or the span has no frame.
   */
  float[][] span(String videoUid, double startSec, double endSec) throws IOException {
    Path f = FeatureManifest.featureFile(dir, videoUid);
    if (!Files.exists(f)) {
      return null;
    }
    Npy.Matrix m = Npy.read(f);
    if (m.cols() != manifest.dim()) {
      throw new IllegalStateException(f + " has " + m.cols() + " columns but the manifest says dim "
          + manifest.dim());
    }
    int from = firstRow(startSec);
    int to = Double.isInfinite(endSec) ? m.rows()
        : (int) Math.min(m.rows(), Math.ceil(endSec * fps() - 1e-6));
    if (from >= to) {
      return null;
    }
    return m.rows(from, to);
  }
}
