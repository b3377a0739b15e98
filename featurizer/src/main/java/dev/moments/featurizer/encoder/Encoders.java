package dev.moments.featurizer.encoder;

import dev.moments.featurizer.pocket.PocketEncoders;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads encoders from a model directory holding {@code encoder.json} (see {@link EncoderConfig})
 * and the model files it names (TorchScript, ONNX or the pocket encoders), and finds the bundled
 * default encoder.
 */
public final class Encoders {
  /** libtorch intra-op threads (DJL's property); ONNX Runtime sessions use the same number. */
  public static final String THREADS_PROPERTY = "ai.djl.pytorch.num_threads";

  /** libtorch inter-op threads (DJL's property). */
  public static final String INTEROP_THREADS_PROPERTY = "ai.djl.pytorch.num_interop_threads";

  /** The repository root; the launcher sets it so that the bundled models are found anywhere. */
  public static final String HOME_PROPERTY = "moments.home";

  /** The bundled default encoder, relative to the repository root. */
  public static final String DEFAULT_RELATIVE = "models/tiny-clip";

  private Encoders() {}

  /**
   * Loads the image and text towers of {@code dir}.
   *
   * @throws IllegalArgumentException when the directory, {@code encoder.json} or a file it names
   *     is missing, the format is unknown, or a model's output dimension differs from {@code dim}
   */
  public static EncoderPair load(Path dir) {
    EncoderConfig config = EncoderConfig.read(dir);
    ImageEncoder image = image(config);
    if (!config.hasText()) {
      return new EncoderPair(image, null);
    }
    try {
      return new EncoderPair(image, text(config));
    } catch (RuntimeException e) {
      image.close();
      throw e;
    }
  }

  /** Loads only the image tower of {@code dir} (what the featurizer needs). */
  public static ImageEncoder loadImage(Path dir) {
    return image(EncoderConfig.read(dir));
  }

  /**
   * Loads only the text tower of {@code dir}; a {@code .npz} file instead of a directory is a
   * precomputed text table ({@link TableTextEncoder}).
   *
   * @throws IllegalArgumentException also when {@code encoder.json} names no text model
   */
  public static TextEncoder loadText(Path dir) {
    if (Files.isRegularFile(dir) && dir.getFileName().toString().endsWith(".npz")) {
      return new TableTextEncoder(dir);
    }
    return text(EncoderConfig.read(dir));
  }

  private static ImageEncoder image(EncoderConfig c) {
    return switch (c.format()) {
      case TORCHSCRIPT -> new TorchScriptEncoders.Image(c);
      case ONNX -> new OnnxEncoders.Image(c);
      case POCKET -> new PocketEncoders.Image(c.dir());
    };
  }

  private static TextEncoder text(EncoderConfig c) {
    return switch (c.format()) {
      case TORCHSCRIPT -> new TorchScriptEncoders.Text(c);
      case ONNX -> new OnnxEncoders.Text(c);
      case POCKET -> new PocketEncoders.Text(c.dir());
    };
  }

  /**
   * The bundled default encoder directory: {@code $moments.home/models/tiny-clip} when the
   * system property is set, otherwise the first {@code models/tiny-clip} found in the working
   * directory or one of its parents (so tests running in a module folder find it too).
   *
   * @throws IllegalStateException when it cannot be found
   */
  public static Path defaultDir() {
    String home = System.getProperty(HOME_PROPERTY);
    if (home != null && !home.isBlank()) {
      Path p = Path.of(home).resolve(DEFAULT_RELATIVE);
      if (Files.isRegularFile(p.resolve(EncoderConfig.FILE_NAME))) {
        return p;
      }
      throw new IllegalStateException(
          "no bundled encoder at " + p + " (" + HOME_PROPERTY + "=" + home + "); pass --encoder DIR");
    }
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path p = d.resolve(DEFAULT_RELATIVE);
      if (Files.isRegularFile(p.resolve(EncoderConfig.FILE_NAME))) {
        return p;
      }
    }
    throw new IllegalStateException(
        "cannot find the bundled encoder " + DEFAULT_RELATIVE + " from " + Path.of("").toAbsolutePath()
            + "; set -D" + HOME_PROPERTY + "=<repo root> or pass --encoder DIR");
  }

  /**
   * Sets libtorch's thread counts before the engine starts, when the launcher or surefire did
   * not: intra-op threads = available processors, inter-op threads = 1 (one batch at a time is
   * run per encoder, so inter-op parallelism only adds contention).
   */
  static synchronized void configureTorchThreads() {
    if (System.getProperty(THREADS_PROPERTY) == null) {
      System.setProperty(THREADS_PROPERTY, Integer.toString(Runtime.getRuntime().availableProcessors()));
    }
    if (System.getProperty(INTEROP_THREADS_PROPERTY) == null) {
      System.setProperty(INTEROP_THREADS_PROPERTY, "1");
    }
  }
}
