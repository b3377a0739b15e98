package dev.moments.app.demo;

import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.featurizer.offline.OfflineFeaturizer;
import dev.moments.featurizer.pocket.PocketEncoders;
import dev.moments.model.LavitiConfig;
import dev.moments.trainer.LavitiTrainer;
import dev.moments.trainer.TimedText;
import dev.moments.trainer.TrainingSet;
import dev.moments.trainer.encoders.EncoderTrainer;
import dev.moments.trainer.encoders.NarrationTexts;
import dev.moments.world.Scene;
import dev.moments.world.SynthWorld;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The offline half of the demo, cached on disk: the synthetic world (rendered scenes with
 * {@code narration.json} and {@code nlq_val.json}), the pocket encoder pair trained on it, the
 * scenes' frame features made with the pocket image encoder, and a small LAVITI model trained on
 * those features and the narrations embedded with the pocket text encoder.
 *
 * <p>Everything lives under {@code dataDir/<key>/} where the key names the parameters that change
 * the result ({@link Spec#key()}: recipe version, seed, videos, minutes), so changing a parameter
 * builds a new set beside the old one and an unchanged one is reused. Each step is skipped when
 * its finished output is there: {@code world/scenes.json} (written last by the renderer),
 * {@code encoders/encoder.json}, every video in {@code features/manifest.json}, and
 * {@code laviti/done.json} (written after the model is saved).
 */
public final class DemoModels {
  /** Bumped whenever the recipe below changes what comes out, so stale caches are not reused. */
  static final int RECIPE = 3;

  /**
   * The demo's window: LAVITI is trained on chunks of this length and the indexer runs windows of
   * it, so that the model sees at serving time what it saw in training. A minute holds several of
   * the demo's scripted actions (each a few seconds) and fits the network's temporal embeddings
   * (360 frames at 6 fps, 52 tokens of 7 frames, of {@link #config}'s 128).
   */
  public static final java.time.Duration WINDOW = java.time.Duration.ofSeconds(60);

  /**
   * The indexer's hop (the distance between window ends): a live stream's moments become
   * searchable a hop (plus the lateness and the processing) after their capture at most. Also the
   * shortest training chunk: a stream's first window holds one hop of frames.
   */
  public static final java.time.Duration HOP = java.time.Duration.ofSeconds(10);

  /** Training chunks per window length of video: each second is seen by about this many chunks. */
  static final double CHUNK_COVERAGE = 4;

  /** Frame rate of the rendered videos and of the features (the indexer's default too). */
  public static final int FPS = 6;

  private DemoModels() {}

  /**
   * What to build.
   *
   * @param videos number of scene videos
   * @param minutes length of each video
   * @param seed world seed (the encoders and the model use seeds derived from it)
   * @param encoderSteps optimizer steps of the pocket encoders
   * @param lavitiSteps LAVITI optimizer steps (batches of 8 random window-length chunks)
   * @param lavitiLr LAVITI peak learning rate
   */
  public record Spec(int videos, double minutes, long seed, int encoderSteps, int lavitiSteps, double lavitiLr) {
    public Spec {
      if (videos < 1) {
        throw new IllegalArgumentException("--videos must be >= 1, got " + videos);
      }
      if (!(minutes * 60 >= 20)) {
        throw new IllegalArgumentException("--minutes must be at least 1/3 (20 s), got " + minutes);
      }
      if (encoderSteps < 1 || lavitiSteps < 1) {
        throw new IllegalArgumentException("training steps must be >= 1");
      }
    }

    /** The demo's defaults for {@code videos} x {@code minutes}. */
    public static Spec of(int videos, double minutes, long seed) {
      return new Spec(videos, minutes, seed, 600, 300, 1e-3);
    }

    /** Cache folder name: recipe, seed, videos, minutes, training budgets. */
    public String key() {
      return String.format(Locale.ROOT, "r%d-s%d-v%d-m%s-e%d-l%d-lr%s", RECIPE, seed, videos,
          trim(minutes), encoderSteps, lavitiSteps, lavitiLr);
    }

    public SynthWorld.Spec world() {
      return new SynthWorld.Spec(videos, seed, minutes, 320, 240, FPS);
    }

    private static String trim(double v) {
      return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
  }

  /** Where the built artifacts are. */
  public record Built(Path root, Path world, Path encoders, Path features, Path model, List<Scene> scenes) {
    public Path narrations() {
      return world.resolve(SynthWorld.NARRATIONS);
    }

    public Path nlq() {
      return world.resolve(SynthWorld.NLQ);
    }
  }

  /** The LAVITI sizes of the demo: a small network whose time resolution fits minutes-long windows. */
  public static LavitiConfig config(int featureDim, int textDim) {
    return new LavitiConfig(featureDim, textDim, 64, 128, 2, 2, 4, 128, 32, 7);
  }

  /**
   * Builds (or reuses) every offline artifact of {@code spec} under {@code dataDir}, reporting each
   * step with its time on {@code log}.
   */
  public static Built build(Path dataDir, Spec spec, Consumer<String> log) throws IOException {
    Path root = dataDir.resolve(spec.key());
    Path world = root.resolve("world");
    Path encoders = root.resolve("encoders");
    Path features = root.resolve("features");
    Path model = root.resolve("laviti");
    Files.createDirectories(root);

    long t = System.nanoTime();
    List<Scene> scenes;
    if (Files.isRegularFile(world.resolve(SynthWorld.SCENES))) {
      scenes = SynthWorld.readScenes(world.resolve(SynthWorld.SCENES));
      log.accept(String.format("scenes: %d videos x %s min cached in %s", scenes.size(), spec.minutes(), world));
    } else {
      scenes = SynthWorld.render(world, spec.world(), Math.max(1, Runtime.getRuntime().availableProcessors()));
      log.accept(String.format("scenes: rendered %d videos x %s min in %s", scenes.size(), spec.minutes(), since(t)));
    }

    t = System.nanoTime();
    if (Files.isRegularFile(encoders.resolve("encoder.json"))) {
      log.accept("encoders: cached in " + encoders);
    } else {
      EncoderTrainer.Result r = EncoderTrainer.train(
          EncoderTrainer.Options.of(world, world.resolve(SynthWorld.NARRATIONS), encoders, spec.encoderSteps(), 64,
              spec.seed()),
          s -> { });
      log.accept(String.format("encoders: trained %d steps (loss %.2f -> %.2f) in %s", spec.encoderSteps(),
          r.firstLoss(10), r.lastLoss(10), since(t)));
    }

    t = System.nanoTime();
    try (PocketEncoders.Pair pair = PocketEncoders.load(encoders)) {
      OfflineFeaturizer.Result fr = new OfflineFeaturizer(pair.image(), FPS, 64, silent()).run(world, features);
      if (!fr.failed().isEmpty()) {
        throw new IllegalStateException("cannot featurize demo videos " + fr.failed() + " in " + world);
      }
      log.accept(fr.done().isEmpty()
          ? "features: cached in " + features
          : String.format("features: %d frames of %d videos in %s", fr.frames(), fr.done().size(), since(t)));

      t = System.nanoTime();
      if (Files.isRegularFile(model.resolve("done.json"))) {
        log.accept("model: cached in " + model);
      } else {
        LavitiTrainer.Result r = trainLaviti(world, features, model, pair.text(), spec);
        Files.writeString(model.resolve("done.json"), String.format(Locale.ROOT,
            "{\"steps\": %d, \"first_loss\": %.4f, \"last_loss\": %.4f}%n", r.steps(), r.meanLoss(true, 5),
            r.meanLoss(false, 5)));
        log.accept(String.format("model: trained LAVITI %d steps (loss %.2f -> %.2f) in %s", r.steps(),
            r.meanLoss(true, 5), r.meanLoss(false, 5), since(t)));
      }
    }
    return new Built(root, world, encoders, features, model, scenes);
  }

  private static LavitiTrainer.Result trainLaviti(Path world, Path features, Path out, TextEncoder text, Spec spec)
      throws IOException {
    Map<String, List<NarrationTexts.Narration>> narrations =
        NarrationTexts.read(world.resolve(SynthWorld.NARRATIONS));
    Map<String, List<TimedText>> timed = new LinkedHashMap<>();
    List<String> distinct = new ArrayList<>();
    for (var e : narrations.entrySet()) {
      List<TimedText> list = new ArrayList<>();
      for (NarrationTexts.Narration n : e.getValue()) {
        list.add(new TimedText(n.timeSec(), n.text()));
        if (!distinct.contains(n.text())) {
          distinct.add(n.text());
        }
      }
      timed.put(e.getKey(), list);
    }
    float[][] embedded = text.encode(distinct);
    Map<String, float[]> table = new HashMap<>();
    for (int i = 0; i < distinct.size(); i++) {
      table.put(distinct.get(i), embedded[i]);
    }
    // random chunks placed as the indexer's windows are: a window's length, less near a video's start
    TrainingSet data = TrainingSet.openRandom(features, timed, table::get, WINDOW.toMillis() / 1000.0,
        HOP.toMillis() / 1000.0, CHUNK_COVERAGE, spec.seed());
    int batch = Math.min(8, data.chunks().size());
    int perEpoch = (data.chunks().size() + batch - 1) / batch;
    LavitiTrainer.Options o = LavitiTrainer.Options.defaults(out)
        .withEpochs((spec.lavitiSteps() + perEpoch - 1) / perEpoch)
        .withMaxSteps(spec.lavitiSteps())
        .withBatch(batch)
        .withLr(spec.lavitiLr())
        .withSeed(spec.seed());
    return LavitiTrainer.train(data, config(data.featureDim(), data.textDim()), o, null, silent());
  }

  private static String since(long t0) {
    return String.format(Locale.ROOT, "%.1f s", (System.nanoTime() - t0) / 1e9);
  }

  private static PrintStream silent() {
    return new PrintStream(OutputStream.nullOutputStream());
  }
}
