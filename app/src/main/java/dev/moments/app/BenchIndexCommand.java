package dev.moments.app;

import dev.moments.indexer.stream.InferenceBenchmark;
import dev.moments.model.LavitiConfig;
import dev.moments.model.LavitiModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moments bench index}: windows/s of the indexer's model inference vs PyTorch. */
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

  @Option(names = "--reference", defaultValue = "bench/laviti_reference.py", paramLabel = "FILE",
      description = "PyTorch reference script, run with /usr/bin/python3 (default: ${DEFAULT-VALUE}).")
  Path reference;

  @Override
  public Integer call() throws IOException, InterruptedException {
    try (LavitiModel m = model != null ? LavitiModel.load(model)
        : LavitiModel.random(LavitiConfig.paper(), "bench", 6.0, 1)) {
      var c = m.config();
      System.out.printf("model: D=%d, %d+%d layers, %d heads, M=%d, C=%d (%s)%n", c.dModel(),
          c.encoderLayers(), c.decoderLayers(), c.heads(), c.numQueries(), c.featureDim(),
          model != null ? model : "random paper-size");
      var r = InferenceBenchmark.run(m, frames, 6.0, 1, windows, 7);
      System.out.printf("DJL:     %.1f ms/window, %.3f windows/s (%d frames x %d, %d moments/window, "
          + "%d timed)%n", r.msPerWindow(), r.windowsPerSecond(), r.frames(), r.featureDim(),
          r.moments(), r.windows());
      Double ref = reference();
      if (ref != null) {
        System.out.printf("PyTorch: %.1f ms/window, %.3f windows/s; DJL/PyTorch = %.2f%n",
            1000 / ref, ref, r.windowsPerSecond() / ref);
      }
    }
    return 0;
  }

  /** Windows/s of the reference's forward-only batch-1 timing, or null when it cannot run. */
  private Double reference() throws IOException, InterruptedException {
    Path python = Path.of("/usr/bin/python3");
    if (!Files.isRegularFile(reference) || !Files.isExecutable(python)) {
      System.out.println("PyTorch: not run (" + reference + " or " + python + " missing)");
      return null;
    }
    Process p = new ProcessBuilder(List.of(python.toString(), reference.toString(), "--batch", "1",
        "--steps", "1", "--warmup", "1", "--threads",
        Integer.toString(Runtime.getRuntime().availableProcessors()), "--frames",
        Integer.toString(frames), "--json")).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int rc = p.waitFor();
    Matcher m = Pattern.compile("\"windows_per_sec\":\\s*([0-9.eE+-]+)").matcher(out);
    if (rc != 0 || !m.find()) {
      System.out.println("PyTorch: reference failed (exit " + rc + "): " + out.strip());
      return null;
    }
    return Double.parseDouble(m.group(1));
  }
}
