package dev.moments.app;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.FeaturizeBench;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moments bench featurize}: TorchScript image tower images/s in DJL vs each PyTorch found. */
@Command(name = "featurize", mixinStandardHelpOptions = true,
    description = {
      "Images/s of a TorchScript image tower with batch sizes 1/8/32, run by DJL (libtorch) here and",
      "by bench/featurize_reference.py under each PyTorch build found, with the same thread count,",
      "and the ratio against the best of them.",
      "NOTE: timings depend on the machine's load (printed); compare on an idle machine."
    })
final class BenchFeaturizeCommand implements Callable<Integer> {
  private static final int[] BATCHES = {1, 8, 32};

  @Option(names = "--encoder", paramLabel = "DIR",
      description = "TorchScript encoder directory (default: the bundled models/tiny-clip).")
  Path encoder;

  @Option(names = "--images", defaultValue = "4096",
      description = "Images timed per batch size (default: ${DEFAULT-VALUE}).")
  int images;

  @Option(names = "--python", split = ",", paramLabel = "PY",
      description = "Pythons with torch to run the reference with (default: /usr/bin/python3 with "
          + "python3-torch and a venv with the 2.x CPU wheel, made on first use).")
  List<Path> python;

  @Override
  public Integer call() throws Exception {
    if (images < 1) {
      throw new IllegalArgumentException("--images must be >= 1, got " + images);
    }
    Path dir = encoder != null ? encoder : Encoders.defaultDir();
    Path script = BenchReferences.root().resolve("bench/featurize_reference.py");
    int threads = Integer.getInteger(Encoders.THREADS_PROPERTY, Runtime.getRuntime().availableProcessors());
    List<BenchReferences.Reference> refs = BenchReferences.find(python, threads, System.out);
    System.out.printf("bench featurize: %s, %d images per batch size, %d threads (every side)%n",
        dir, images, threads);
    String before = BenchReferences.loadavg();
    List<FeaturizeBench.Row> rows = FeaturizeBench.run(dir, images, BATCHES);
    System.out.println("DJL: " + BenchReferences.load(before, BenchReferences.loadavg()));
    List<String> args = new ArrayList<>(List.of(script.toString()));
    args.addAll(FeaturizeBench.referenceArgs(dir, images, BATCHES, threads));
    Map<BenchReferences.Reference, Map<Integer, Double>> ref = new LinkedHashMap<>();
    for (BenchReferences.Reference r : refs) {
      before = BenchReferences.loadavg();
      Map<Integer, Double> perBatch = new HashMap<>();
      for (JsonNode n : BenchReferences.runJson(r, args, threads, System.out)) {
        perBatch.put(n.get("batch").asInt(), n.get("images_per_s").asDouble());
      }
      ref.put(r, perBatch);
      System.out.println(r.name() + ": " + BenchReferences.load(before, BenchReferences.loadavg()));
    }
    StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%6s %16s %17s", "batch", "DJL model img/s",
        "DJL encode img/s"));
    for (BenchReferences.Reference r : ref.keySet()) {
      head.append(String.format(Locale.ROOT, " %22s", r.name() + " img/s"));
    }
    System.out.println(head.append(ref.isEmpty() ? "" : "  ratio vs best"));
    for (FeaturizeBench.Row row : rows) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%6d %16.1f %17.1f", row.batch(),
          row.javaModelPerS(), row.javaEncodePerS()));
      double best = 0;
      String bestName = null;
      for (var e : ref.entrySet()) {
        double v = e.getValue().getOrDefault(row.batch(), Double.NaN);
        line.append(String.format(Locale.ROOT, " %22.1f", v));
        if (v > best) {
          best = v;
          bestName = e.getKey().name();
        }
      }
      if (bestName != null) {
        line.append(String.format(Locale.ROOT, "  %.2f (%s)", row.javaModelPerS() / best, bestName));
      }
      System.out.println(line);
    }
    System.out.println("ratio = DJL model img/s / best reference img/s (same TorchScript file, same threads; "
        + ">1: DJL faster); 'DJL encode' adds JPEG-free preprocessing (bicubic resize, normalize) and L2 "
        + "normalization.");
    return 0;
  }
}
