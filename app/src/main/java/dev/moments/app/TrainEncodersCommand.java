package dev.moments.app;

import dev.moments.trainer.encoders.EncoderTrainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moments train encoders}: trains the pocket image/text encoder pair on narrated videos. */
@Command(name = "encoders", mixinStandardHelpOptions = true,
    description = "Train the small pocket image/text encoders (SigLIP loss) on videos and their Ego4D "
        + "narrations; the output folder loads wherever an encoder folder is asked for.")
final class TrainEncodersCommand implements Callable<Integer> {
  @Option(names = "--videos", defaultValue = "data/synth", paramLabel = "DIR",
      description = "Folder with {video_uid}.mp4 (default: ${DEFAULT-VALUE}).")
  Path videos;

  @Option(names = "--narrations", paramLabel = "FILE",
      description = "Ego4D narration.json (default: narration.json in --videos).")
  Path narrations;

  @Option(names = "--out", defaultValue = "data/encoders/pocket", paramLabel = "DIR",
      description = "Output folder: encoder.json, vocab.txt, pocket-0000.params, training.json "
          + "(default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--steps", defaultValue = "600", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--dim", defaultValue = "64", description = "Embedding dimension (default: ${DEFAULT-VALUE}).")
  int dim;

  @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--batch", defaultValue = "64", description = "Pairs per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--lr", defaultValue = "3e-3", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
  double lr;

  @Override
  public Integer call() throws IOException {
    Path nar = narrations != null ? narrations : videos.resolve("narration.json");
    EncoderTrainer.Options o = new EncoderTrainer.Options(videos, nar, out, steps, dim, seed, batch, lr, 1.0);
    EncoderTrainer.Result r = EncoderTrainer.train(o, System.out::println);
    System.out.printf("trained in %.1f s: loss %.4f -> %.4f (first/last 10 steps), temperature %.2f, bias %.2f%n",
        r.seconds(), r.firstLoss(10), r.lastLoss(10), r.temperature(), r.bias());
    System.out.println("encoders saved to " + out.toAbsolutePath());
    return 0;
  }
}
