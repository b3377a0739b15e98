package dev.moments.app;

import dev.moments.ingest.IngestBench;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code moments bench ingest}: decode + sample throughput next to the ffmpeg CLI bundled with JavaCV. */
@Command(name = "ingest", mixinStandardHelpOptions = true,
    description = "Decode and sample FILE as ingest does (no Kafka) and time it next to "
        + "'ffmpeg -i FILE -vf fps=F -f null -' on the same file, without JPEG on both sides and with "
        + "JPEG on both sides (ffmpeg's MJPEG encoder); ours decoding every frame and skipping the "
        + "frames no sample needs. Without FILE, makes (once, in --dir) and measures the two standard "
        + "files: 1280x720 30 fps 20 s and 1920x1080 30 fps 120 s H.264 (the bundled ffmpeg's "
        + "libopenh264, a key frame every --gop frames). Prints medians of --repeat runs, the load "
        + "before and after, and the ratios.")
final class BenchIngestCommand implements Callable<Integer> {
  @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "A video file (default: the two standard files).")
  Path file;

  @Option(names = "--fps", defaultValue = "6",
      description = "Sampling rate, also given to ffmpeg's fps filter (default: ${DEFAULT-VALUE}).")
  double fps;

  @Option(names = "--max-side", defaultValue = "0", paramLabel = "N",
      description = "Downscale sampled frames like ingest does; 0 keeps the decoded size, as the "
          + "ffmpeg reference does (default: ${DEFAULT-VALUE}).")
  int maxSide;

  @Option(names = "--repeat", defaultValue = "3", paramLabel = "N",
      description = "Timed runs of each variant, in turn; medians are reported (default: ${DEFAULT-VALUE}).")
  int repeat;

  @Option(names = "--gop", defaultValue = "30", paramLabel = "N",
      description = "Key frame interval of the standard files (default: ${DEFAULT-VALUE}, 1 s as IP cameras often use).")
  int gop;

  @Option(names = "--dir", defaultValue = "target/bench-ingest", paramLabel = "DIR",
      description = "Where the standard files are made and kept (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Override
  public Integer call() {
    List<Path> files = new ArrayList<>();
    if (file != null) {
      files.add(file);
    } else {
      files.add(IngestBench.makeFile(dir, 1280, 720, 30, 20, gop));
      files.add(IngestBench.makeFile(dir, 1920, 1080, 30, 120, gop));
    }
    for (Path f : files) {
      String before = BenchReferences.loadavg();
      String report = IngestBench.run(f, fps, maxSide, repeat).report();
      System.out.println(report);
      System.out.println("  " + BenchReferences.load(before, BenchReferences.loadavg())
          + " (all timed parts: ours and the ffmpeg references, in turn)");
    }
    return 0;
  }
}
