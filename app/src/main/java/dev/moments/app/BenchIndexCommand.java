package dev.moments.app;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moments.indexer.stream.InferenceBenchmark;
import dev.moments.model.LavitiConfig;
import dev.moments.model.LavitiModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code moments bench index}: windows/s of the indexer's path from a window of features to its
 * encoded moment records ({@link InferenceBenchmark}) vs the PyTorch reference (forward + start/end
 * argmax) under every PyTorch build found ({@link BenchReferences}).
 */
@Command(name = "index", mixinStandardHelpOptions = true,
    description = "Windows/s of LAVITI inference on a 600 s window (3600 x 1024 random features) "
        + "for the paper-size model, next to the PyTorch reference bench/laviti_reference.py.")
final class BenchIndexCommand implements Callable<Integer> {
  @Option(names = "--model", paramLabel = "DIR",
      description = "Checkpoint to time (default: a random paper-size model, LavitiConfig defaults).")
  Path model;

  @Option(names = "--frames", defaultValue = "3600",
      description = "Frames per window (default: ${DEFAULT-VALUE} = 600 s at 6 fps).")
  int frames;

  @Option(names = "--windows", defaultValue = "5", description = "Timed windows (default: ${DEFAULT-VALUE}).")
  int windows;

  @Option(names = "--warmup", defaultValue = "3",
      description = "Untimed windows before the timed ones, on both sides (default: ${DEFAULT-VALUE}): a running "
          + "indexer is in steady state, and DJL's first windows are slower while libtorch's allocations grow "
          + "(measured 2026-12-01: softmax 4-5 ms a call in the first forwards, 1-2 ms after).")
  int warmup;

  @Option(names = "--reference", defaultValue = "bench/laviti_reference.py", paramLabel = "FILE",
      description = "PyTorch reference script (default: ${DEFAULT-VALUE}).")
  Path reference;

  @Option(names = "--python", split = ",", paramLabel = "PY",
      description = "Pythons with torch to run the reference with (default: /usr/bin/python3 with "
          + "python3-torch and a venv with the 2.x CPU wheel, made on first use).")
  List<Path> python;

  @Override
  public Integer call() throws IOException, InterruptedException {
    int threads = Integer.getInteger("ai.djl.pytorch.num_threads", Runtime.getRuntime().availableProcessors());
    List<BenchReferences.Reference> refs = model == null ? BenchReferences.find(python, threads, System.out)
        : List.of();
    if (model != null) {
      System.out.println("no PyTorch reference: " + reference + " times a random paper-size model only");
    }
    double djl;
    try (LavitiModel m = model != null ? LavitiModel.load(model)
        : LavitiModel.random(LavitiConfig.paper(), "bench", 6.0, 1)) {
      var c = m.config();
      System.out.printf("model: D=%d, %d+%d layers, %d heads, M=%d, C=%d (%s), %d threads%n", c.dModel(),
          c.encoderLayers(), c.decoderLayers(), c.heads(), c.numQueries(), c.featureDim(),
          model != null ? model : "random paper-size", threads);
      String before = BenchReferences.loadavg();
      var r = InferenceBenchmark.run(m, frames, 6.0, warmup, windows, 7);
      djl = r.windowsPerSecond();
      System.out.printf(Locale.ROOT, "%-22s %7.1f ms/window, %.3f windows/s (%d frames x %d, %d moments/window, "
          + "%d timed after %d warm-up; predict + encoded moment records); %s%n", "DJL", r.msPerWindow(),
          r.windowsPerSecond(), r.frames(), r.featureDim(), r.moments(), r.windows(), warmup, BenchReferences.load(before, BenchReferences.loadavg()));
    }
    BenchReferences.Reference best = null;
    double bestRate = 0;
    List<String> args = List.of(BenchReferences.script(reference).toString(), "--forward-only", "--batch", "1",
        "--steps", Integer.toString(windows), "--warmup", Integer.toString(warmup), "--threads", Integer.toString(threads),
        "--frames", Integer.toString(frames));
    for (BenchReferences.Reference ref : refs) {
      String before = BenchReferences.loadavg();
      List<JsonNode> rows = BenchReferences.runJson(ref, args, threads, System.out);
      String load = BenchReferences.load(before, BenchReferences.loadavg());
      if (rows.isEmpty()) {
        continue;
      }
      double rate = rows.get(0).get("windows_per_sec").asDouble();
      System.out.printf(Locale.ROOT, "%-22s %7.1f ms/window, %.3f windows/s (forward + start/end argmax); %s%n",
          ref.name(), 1000 / rate, rate, load);
      if (rate > bestRate) {
        best = ref;
        bestRate = rate;
      }
    }
    if (best != null) {
      System.out.println(BenchReferences.ratio("windows/s", djl, bestRate, best.name()));
    }
    return 0;
  }
}
