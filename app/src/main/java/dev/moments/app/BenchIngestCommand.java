package dev.moments.app;

import dev.moments.ingest.IngestBench;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code moments bench ingest}: decode + sample throughput next to the ffmpeg CLI bundled with JavaCV. */
@Command(name = "ingest", mixinStandardHelpOptions = true,
    description = "Decode and sample FILE as ingest does (no Kafka, no JPEG) and time it next to "
        + "'ffmpeg -i FILE -vf fps=F -f null -' on the same file; prints frames decoded/s, "
        + "sampled frames/s, x real time and the ratio.")
final class BenchIngestCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE", description = "A video file.")
  Path file;

  @Option(names = "--fps", defaultValue = "6",
      description = "Sampling rate, also given to ffmpeg's fps filter (default: ${DEFAULT-VALUE}).")
  double fps;

  @Option(names = "--max-side", defaultValue = "0", paramLabel = "N",
      description = "Downscale sampled frames like ingest does; 0 keeps the decoded size, as the "
          + "ffmpeg reference does (default: ${DEFAULT-VALUE}).")
  int maxSide;

  @Override
  public Integer call() {
    String before = BenchReferences.loadavg();
    String report = IngestBench.run(file, fps, maxSide).report();
    System.out.println(report);
    System.out.println(BenchReferences.load(before, BenchReferences.loadavg())
        + " (both timed parts: this decoder and the ffmpeg reference)");
    return 0;
  }
}
