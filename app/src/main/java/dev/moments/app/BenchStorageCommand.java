package dev.moments.app;

import dev.moments.indexer.index.StorageBenchmark;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moments bench storage}: bytes and moments per camera-hour in the moment index. */
@Command(name = "storage", mixinStandardHelpOptions = true,
    description = "Index one camera's moments (windows of --window every --hop, M per window, random embeddings, "
        + "times spread over each window) as the indexer's records give them, once per --copies, and its frame "
        + "evidence; print moments kept, bytes on disk and bytes per moment (docs/scale.md \"Bytes per camera-hour\").")
final class BenchStorageCommand implements Callable<Integer> {
  /** One camera-hour of the paper config before int8 vectors and bands (docs/scale.md, at 3e359a0). */
  static final long FLOAT32_EVERY_MOMENT_BYTES = 50_845_476L;

  @Option(names = "--hours", defaultValue = "1", description = "Camera-hours (default: ${DEFAULT-VALUE}).")
  double hours;

  @Option(names = "--window", defaultValue = "600s", converter = DurationConverter.class,
      description = "Window length (default: ${DEFAULT-VALUE}).")
  Duration window;

  @Option(names = "--hop", defaultValue = "30s", converter = DurationConverter.class,
      description = "Distance between window ends (default: ${DEFAULT-VALUE}).")
  Duration hop;

  @Option(names = "--moments-per-window", defaultValue = "100", paramLabel = "M",
      description = "Moments per window, the model's query slots (default: ${DEFAULT-VALUE}).")
  int perWindow;

  @Option(names = "--dim", defaultValue = "1024", description = "Embedding dimension (default: ${DEFAULT-VALUE}).")
  int dim;

  @Option(names = "--copies", defaultValue = "0,1,2,3,5,7", split = ",", paramLabel = "N[,N...]",
      description = "The index's copies to measure (index --copies; 0: every moment) (default: ${DEFAULT-VALUE}).")
  List<Integer> copies;

  @Option(names = "--fps", defaultValue = "6", description = "Frames per second of the evidence (default: ${DEFAULT-VALUE}).")
  double fps;

  @Option(names = "--seed", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--dir", defaultValue = "${java.io.tmpdir}", paramLabel = "DIR",
      description = "Where the temporary indexes are built (deleted afterwards; default: ${DEFAULT-VALUE}).")
  Path dir;

  @Override
  public Integer call() {
    StorageBenchmark b = new StorageBenchmark(new StorageBenchmark.Params(hours, window.toMillis(), hop.toMillis(),
        perWindow, dim, fps, seed, dir));
    System.out.printf("bench storage: %.2f camera-hour(s), windows of %d s every %d s, %d moments each, dim %d%n",
        hours, window.toSeconds(), hop.toSeconds(), perWindow, dim);
    String before = BenchReferences.loadavg();
    long evidence = b.evidenceBytes();
    System.out.printf("frame evidence: %,d B per camera-hour (%.0f fps in, one int8 vector per second)%n",
        Math.round(evidence / hours), fps);
    boolean paper = window.toSeconds() == 600 && hop.toSeconds() == 30 && perWindow == 100 && dim == 1024;
    System.out.printf("%7s %12s %16s %14s %12s %18s%n", "copies", "moments kept", "bytes/camera-h", "B per moment",
        paper ? "vs 50.8 MB" : "", paper ? "with evidence" : "");
    for (int c : copies) {
      StorageBenchmark.Moments m = b.moments(c);
      double perHour = m.bytes() / hours;
      System.out.printf("%7s %,12d %,16d %,14.0f %12s %18s%n", c == 0 ? "all" : Integer.toString(c),
          Math.round(m.kept() / hours), Math.round(perHour), m.bytes() / (double) Math.max(1, m.kept()),
          paper ? String.format("%.1fx", FLOAT32_EVERY_MOMENT_BYTES / perHour) : "",
          paper ? String.format("%.1fx", (FLOAT32_EVERY_MOMENT_BYTES + evidence / hours) / (perHour + evidence / hours))
              : "");
    }
    if (paper) {
      System.out.println("(vs 50.8 MB: one camera-hour's 12,000 moments with float32 vectors, measured before the int8"
          + " vectors and bands; with evidence: against that plus the same frame evidence)");
    }
    System.out.println(BenchReferences.load(before, BenchReferences.loadavg()));
    return 0;
  }
}
