package dev.moments.app;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moments.model.LavitiConfig;
import dev.moments.trainer.TrainBench;
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

/**
 * {@code moments bench train}: ms per training step of the LAVITI network in DJL (the real
 * trainer step) next to the same architecture in PyTorch ({@code bench/laviti_reference.py}) under
 * every PyTorch build found ({@link BenchReferences}), on synthetic 600 s chunks, CPU; the ratio
 * is taken against the best reference.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Time LAVITI training steps (DJL vs the PyTorch reference script under each PyTorch "
        + "build found) on 600 s chunks.")
final class BenchTrainCommand implements Callable<Integer> {
  @Option(names = "--batch", defaultValue = "1,8", split = ",", description = "Batch sizes (default: ${DEFAULT-VALUE}).")
  List<Integer> batches;

  @Option(names = "--steps", defaultValue = "3", description = "Timed steps per batch size (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--warmup", defaultValue = "1", description = "Untimed warm-up steps (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--frames", defaultValue = "3600", description = "Frames per chunk, 600 s at 6 fps (default: ${DEFAULT-VALUE}).")
  int frames;

  @Option(names = "--config", defaultValue = "paper", description = "paper, tiny or a config JSON file (default: ${DEFAULT-VALUE}).")
  String config;

  @Option(names = "--python", split = ",", paramLabel = "PY",
      description = "Pythons with torch to run the reference with (default: /usr/bin/python3 with "
          + "python3-torch and a venv with the 2.x CPU wheel, made on first use).")
  List<Path> python;

  @Option(names = "--script", defaultValue = "bench/laviti_reference.py", description = "Reference script (default: ${DEFAULT-VALUE}).")
  Path script;

  @Option(names = "--work", defaultValue = "target/bench-train", description = "Scratch directory (default: ${DEFAULT-VALUE}).")
  Path work;

  @Override
  public Integer call() throws Exception {
    LavitiConfig cfg = switch (config) {
      case "paper" -> LavitiConfig.paper();
      case "tiny" -> LavitiConfig.tiny(1024, 1024);
      default -> LavitiConfig.read(Path.of(config));
    };
    int threads = Integer.getInteger("ai.djl.pytorch.num_threads", Runtime.getRuntime().availableProcessors());
    List<BenchReferences.Reference> refs = List.of();
    if (cfg.equals(LavitiConfig.paper())) {
      refs = BenchReferences.find(python, threads, System.out);
    } else {
      System.out.println("no PyTorch reference: " + script + " implements the paper config only");
    }
    System.out.printf(Locale.ROOT, "LAVITI %s config, %d frames x %d features per chunk, %d threads, %d warm-up + %d timed steps%n",
        config, frames, cfg.featureDim(), threads, warmup, steps);
    Map<Integer, TrainBench.Timing> djl = new LinkedHashMap<>();
    for (int b : batches) {
      String before = BenchReferences.loadavg();
      TrainBench.Timing t = TrainBench.run(cfg, b, frames, 100, warmup, steps, work);
      djl.put(b, t);
      System.out.printf(Locale.ROOT, "batch %d: DJL %.1f ms/step, forward-only %.1f ms/window (%.3f windows/s); %s%n",
          b, t.msPerStep(), t.forwardMs(), t.windowsPerSec(), BenchReferences.load(before, BenchReferences.loadavg()));
      System.out.println("batch " + b + ": DJL step phases (mean ms): " + t.phases());
    }
    Map<BenchReferences.Reference, Map<Integer, JsonNode>> ref = new LinkedHashMap<>();
    List<String> args = new ArrayList<>(List.of(BenchReferences.script(script).toString(), "--json",
        "--batch", String.join(",", batches.stream().map(String::valueOf).toList()),
        "--steps", String.valueOf(steps), "--warmup", String.valueOf(warmup),
        "--frames", String.valueOf(frames), "--threads", String.valueOf(threads)));
    for (BenchReferences.Reference r : refs) {
      String before = BenchReferences.loadavg();
      Map<Integer, JsonNode> rows = new HashMap<>();
      for (JsonNode n : BenchReferences.runJson(r, args, threads, System.out)) {
        rows.put(n.get("batch").asInt(), n);
      }
      ref.put(r, rows);
      System.out.println(r.name() + ": " + BenchReferences.load(before, BenchReferences.loadavg()));
    }
    for (int b : batches) {
      TrainBench.Timing t = djl.get(b);
      System.out.printf(Locale.ROOT, "batch %d: %-22s %8.1f ms/step, forward-only %7.1f ms/window%n",
          b, "DJL", t.msPerStep(), t.forwardMs());
      BenchReferences.Reference bestStep = null;
      BenchReferences.Reference bestFwd = null;
      for (var e : ref.entrySet()) {
        JsonNode n = e.getValue().get(b);
        if (n == null) {
          continue;
        }
        System.out.printf(Locale.ROOT, "batch %d: %-22s %8.1f ms/step, forward-only %7.1f ms/window%n",
            b, e.getKey().name(), n.get("ms_per_step").asDouble(), n.get("forward_ms_batch1").asDouble());
        if (bestStep == null || n.get("ms_per_step").asDouble() < ref.get(bestStep).get(b).get("ms_per_step").asDouble()) {
          bestStep = e.getKey();
        }
        if (bestFwd == null
            || n.get("forward_ms_batch1").asDouble() < ref.get(bestFwd).get(b).get("forward_ms_batch1").asDouble()) {
          bestFwd = e.getKey();
        }
      }
      if (bestStep != null) {
        System.out.println("batch " + b + ": " + BenchReferences.ratio("step", 1 / t.msPerStep(),
            1 / ref.get(bestStep).get(b).get("ms_per_step").asDouble(), bestStep.name()));
        System.out.println("batch " + b + ": " + BenchReferences.ratio("forward", 1 / t.forwardMs(),
            1 / ref.get(bestFwd).get(b).get("forward_ms_batch1").asDouble(), bestFwd.name()));
      }
    }
    return 0;
  }
}
