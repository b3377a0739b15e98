package dev.moments.app;

import dev.moments.world.Scene;
import dev.moments.world.SynthWorld;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moments synth video}: renders the synthetic demo world with its Ego4D annotations. */
@Command(name = "video", mixinStandardHelpOptions = true,
    description = "Render synthetic first-person room videos (H.264 mp4) with Ego4D-format "
        + "narration.json and nlq_val.json, and the ground-truth scenes.json.")
final class SynthVideoCommand implements Callable<Integer> {
  @Option(names = "--out", defaultValue = "data/synth", paramLabel = "DIR",
      description = "Output folder (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--videos", defaultValue = "6", description = "Number of videos (default: ${DEFAULT-VALUE}).")
  int videos;

  @Option(names = "--seed", defaultValue = "1", description = "World seed; same seed, same world (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--minutes", defaultValue = "3", description = "Length of each video in minutes (default: ${DEFAULT-VALUE}).")
  double minutes;

  @Option(names = "--size", defaultValue = "320x240", paramLabel = "WxH",
      description = "Frame size, even numbers (default: ${DEFAULT-VALUE}).")
  String size;

  @Option(names = "--fps", defaultValue = "6", description = "Frames per second (default: ${DEFAULT-VALUE}).")
  int fps;

  @Option(names = "--threads", defaultValue = "0",
      description = "Videos encoded at once; 0 = number of cores (default: ${DEFAULT-VALUE}).")
  int threads;

  @Override
  public Integer call() throws IOException {
    String[] wh = size.toLowerCase(java.util.Locale.ROOT).split("x");
    if (wh.length != 2 || !wh[0].matches("\\d+") || !wh[1].matches("\\d+")) {
      throw new IllegalArgumentException("--size must be WIDTHxHEIGHT such as 320x240, got '" + size + "'");
    }
    SynthWorld.Spec spec = new SynthWorld.Spec(videos, seed, minutes, Integer.parseInt(wh[0]),
        Integer.parseInt(wh[1]), fps);
    int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    long start = System.nanoTime();
    List<Scene> scenes = SynthWorld.render(out, spec, t);
    double secs = (System.nanoTime() - start) / 1e9;
    int queries = scenes.stream().mapToInt(s -> s.queries().size()).sum();
    long narrations = scenes.stream().flatMap(s -> s.events().stream()).filter(e -> e.narration() != null).count();
    System.out.printf("rendered %d videos x %.1f min (%dx%d @ %d fps) in %.1f s into %s%n", videos, minutes,
        spec.width(), spec.height(), fps, secs, out.toAbsolutePath());
    System.out.printf("%d narrations -> %s, %d NLQ queries -> %s, ground truth -> %s%n", narrations,
        SynthWorld.NARRATIONS, queries, SynthWorld.NLQ, SynthWorld.SCENES);
    return 0;
  }
}
