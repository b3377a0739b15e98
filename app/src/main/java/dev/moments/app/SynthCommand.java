package dev.moments.app;

import dev.moments.trainer.synth.SynthFeatures;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moments synth}: synthetic datasets in the real formats, for tests and smoke runs. */
@Command(name = "synth", mixinStandardHelpOptions = true,
    description = "Generate synthetic datasets in the real Ego4D / CharadesEgo formats.",
    subcommands = {SynthCommand.Features.class, SynthVideoCommand.class})
final class SynthCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** {@code moments synth features}. */
  @Command(name = "features", mixinStandardHelpOptions = true,
      description = "Frame features + manifest, narration.json, nlq_val.json, a CharadesEgo CSV "
          + "and classes, and a text-embeddings .npz over the same synthetic videos (see docs/eval.md).")
  static final class Features implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--videos", defaultValue = "8",
        description = "Number of videos (default: ${DEFAULT-VALUE}).")
    int videos;

    @Option(names = "--val-videos", defaultValue = "0",
        description = "Held-out videos for nlq_val.json and the CharadesEgo CSV; the rest get "
            + "narrations (default: a quarter of --videos, at least 1).")
    int valVideos;

    @Option(names = "--minutes", defaultValue = "10",
        description = "Length of each video in minutes (default: ${DEFAULT-VALUE}).")
    double minutes;

    @Option(names = "--dim", defaultValue = "64",
        description = "Feature and text-embedding dimension (default: ${DEFAULT-VALUE}).")
    int dim;

    @Option(names = "--fps", defaultValue = "6",
        description = "Feature frames per second (default: ${DEFAULT-VALUE}).")
    double fps;

    @Option(names = "--seed", defaultValue = "7",
        description = "Random seed; the same seed gives the same bytes (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--hard",
        description = "A harder world: look-alike object pairs (cosine 0.8), three times the background "
            + "drift, noisier frames and noisier, vaguer query texts (see docs/eval.md).")
    boolean hard;

    @Override
    public Integer call() throws Exception {
      int val = valVideos > 0 ? valVideos : Math.max(1, videos / 4);
      SynthFeatures.Summary s = SynthFeatures.generate(
          out, new SynthFeatures.Config(videos, val, minutes, dim, fps, seed, hard));
      System.out.printf(java.util.Locale.ROOT,
          "synthetic dataset in %s (encoder id %s)%n"
              + "  features/         %d videos x %d frames x %d dims at %s fps%n"
              + "  narration.json    %d narrations over %d training videos%n"
              + "  nlq_val.json      %d queries (+%d without query text) over %d held-out videos%n"
              + "  CharadesEgo_v1_test.csv, Charades_v1_classes.txt  %d classes%n"
              + "  text_embeddings.npz  %d texts%n",
          out.toAbsolutePath(), s.encoderId(), videos, s.frames(), dim, fps, s.narrations(),
          s.trainVideos().size(), s.queries(), s.skippedQueries(), s.valVideos().size(),
          s.classes(), s.texts());
      return 0;
    }
  }
}
