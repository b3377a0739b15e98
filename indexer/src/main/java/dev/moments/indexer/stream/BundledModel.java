package dev.moments.indexer.stream;

import dev.moments.model.LavitiConfig;
import dev.moments.model.LavitiModel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The bundled default indexer checkpoint {@code models/laviti-tiny}: until the demo's trained
 * model exists, a randomly initialised tiny LAVITI ({@code LavitiConfig.tiny(64, 64)}, seed 42)
 * for the bundled {@code models/tiny-clip} encoder (id {@value #ENCODER_ID}, dim 64, 6 fps).
 * {@link #main} (re)creates it.
 */
public final class BundledModel {
  public static final String DEFAULT_RELATIVE = "models/laviti-tiny";
  public static final String ENCODER_ID = "moments-tiny-clip-v1";
  public static final String HOME_PROPERTY = "moments.home";

  private BundledModel() {}

  /** The checkpoint: a pure function of the seed, so re-creating it gives the same model id. */
  public static LavitiModel create() {
    return LavitiModel.random(LavitiConfig.tiny(64, 64), ENCODER_ID, 6.0, 42);
  }

  /**
   * The bundled checkpoint directory: {@code $moments.home/models/laviti-tiny} when the system
   * property is set, else the first {@code models/laviti-tiny} in the working directory or a
   * parent.
   *
   * @throws IllegalStateException when it cannot be found
   */
  public static Path defaultDir() {
    String home = System.getProperty(HOME_PROPERTY);
    if (home != null && !home.isBlank()) {
      Path p = Path.of(home).resolve(DEFAULT_RELATIVE);
      if (Files.isRegularFile(p.resolve(LavitiModel.CONFIG_FILE))) {
        return p;
      }
      throw new IllegalStateException("no bundled model at " + p + "; pass --model DIR");
    }
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path p = d.resolve(DEFAULT_RELATIVE);
      if (Files.isRegularFile(p.resolve(LavitiModel.CONFIG_FILE))) {
        return p;
      }
    }
    throw new IllegalStateException("cannot find the bundled model " + DEFAULT_RELATIVE + " from "
        + Path.of("").toAbsolutePath() + "; pass --model DIR");
  }

  /** Writes the bundled checkpoint to {@code args[0]} (default {@value #DEFAULT_RELATIVE}). */
  public static void main(String[] args) {
    Path dir = Path.of(args.length > 0 ? args[0] : DEFAULT_RELATIVE);
    try (LavitiModel m = create()) {
      m.save(dir, m.metadata());
      System.out.println("wrote " + dir + " (" + m.modelId() + ")");
    }
  }
}
