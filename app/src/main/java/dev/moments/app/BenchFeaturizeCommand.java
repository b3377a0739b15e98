package dev.moments.app;

import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.FeaturizeBench;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moments bench featurize}: TorchScript image tower images/s in DJL vs python3-torch. */
@Command(name = "featurize", mixinStandardHelpOptions = true,
    description = {
      "Images/s of a TorchScript image tower with batch sizes 1/8/32, run by DJL (libtorch) here and",
      "by python3-torch (bench/featurize_reference.py) with the same thread count, and the ratio.",
      "NOTE: timings depend on the machine's load; compare on an idle machine."
    })
final class BenchFeaturizeCommand implements Callable<Integer> {
  @Option(names = "--encoder", paramLabel = "DIR",
      description = "TorchScript encoder directory (default: the bundled models/tiny-clip).")
  Path encoder;

  @Option(names = "--images", defaultValue = "4096",
      description = "Images timed per batch size (default: ${DEFAULT-VALUE}).")
  int images;

  @Option(names = "--python", defaultValue = "/usr/bin/python3",
      description = "Python with torch for the reference (default: ${DEFAULT-VALUE}).")
  Path python;

  @Override
  public Integer call() throws Exception {
    if (images < 1) {
      throw new IllegalArgumentException("--images must be >= 1, got " + images);
    }
    Path dir = encoder != null ? encoder : Encoders.defaultDir();
    // bench/ sits next to models/ at the repository root.
    Path script = Encoders.defaultDir().getParent().getParent().resolve("bench/featurize_reference.py");
    int threads = Integer.getInteger(Encoders.THREADS_PROPERTY, Runtime.getRuntime().availableProcessors());
    System.out.printf("bench featurize: %s, %d images per batch size, %d libtorch threads (both sides)%n",
        dir, images, threads);
    List<FeaturizeBench.Row> rows = FeaturizeBench.run(dir, images, new int[] {1, 8, 32}, python, script);
    System.out.printf("%6s %18s %20s %18s %8s%n", "batch", "djl model img/s", "djl encode img/s", "python img/s", "ratio");
    for (FeaturizeBench.Row r : rows) {
      System.out.printf("%6d %18.1f %20.1f %18.1f %8.2f%n",
          r.batch(), r.javaModelPerS(), r.javaEncodePerS(), r.pythonPerS(), r.ratio());
    }
    System.out.println("ratio = djl model / python (same TorchScript file, same threads); "
        + "'djl encode' adds JPEG-free preprocessing (bicubic resize, normalize) and L2 normalization.");
    return 0;
  }
}
