package dev.moments.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.model.LavitiConfig;
import dev.moments.trainer.TrainBench;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code moments bench train}: ms per training step of the LAVITI network in DJL (the real
 * trainer step) next to the same architecture in PyTorch ({@code bench/laviti_reference.py} run
 * by {@code /usr/bin/python3}), on synthetic 600 s chunks, CPU.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Time LAVITI training steps (DJL vs the PyTorch reference script) on 600 s chunks.")
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

  @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "Python with torch (default: ${DEFAULT-VALUE}).")
  Path python;

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
    Map<Integer, JsonNode> ref = new HashMap<>();
    boolean paperSizes = cfg.equals(LavitiConfig.paper());
    if (Files.isExecutable(python) && Files.isRegularFile(script) && paperSizes) {
      List<String> cmd = new ArrayList<>(List.of(python.toString(), script.toString(), "--json",
          "--batch", String.join(",", batches.stream().map(String::valueOf).toList()),
          "--steps", String.valueOf(steps), "--warmup", String.valueOf(warmup),
          "--frames", String.valueOf(frames), "--threads", String.valueOf(threads)));
      System.err.println("running " + String.join(" ", cmd));
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      ObjectMapper json = new ObjectMapper();
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          JsonNode n = json.readTree(line);
          ref.put(n.get("batch").asInt(), n);
        }
      }
      if (p.waitFor() != 0) {
        System.err.println("reference script failed (exit " + p.exitValue() + "); printing DJL numbers only");
      }
    } else {
      System.err.println("no PyTorch reference (needs " + python + ", " + script + " and the paper config)");
    }
    System.out.printf(Locale.ROOT, "LAVITI %s config, %d frames x %d features per chunk, %d threads, %d warm-up + %d timed steps%n",
        config, frames, cfg.featureDim(), threads, warmup, steps);
    for (int b : batches) {
      TrainBench.Timing t = TrainBench.run(cfg, b, frames, 100, warmup, steps, work);
      System.out.printf(Locale.ROOT, "batch %d: DJL %.1f ms/step, forward-only %.1f ms/window (%.3f windows/s)%n",
          b, t.msPerStep(), t.forwardMs(), t.windowsPerSec());
      JsonNode n = ref.get(b);
      if (n != null) {
        double pyStep = n.get("ms_per_step").asDouble();
        double pyFwd = n.get("forward_ms_batch1").asDouble();
        System.out.printf(Locale.ROOT, "batch %d: PyTorch %.1f ms/step, forward-only %.1f ms/window (%.3f windows/s)%n",
            b, pyStep, pyFwd, 1000 / pyFwd);
        System.out.printf(Locale.ROOT, "batch %d: DJL/PyTorch step ratio %.2f, forward ratio %.2f%n",
            b, t.msPerStep() / pyStep, t.forwardMs() / pyFwd);
      }
    }
    return 0;
  }
}
