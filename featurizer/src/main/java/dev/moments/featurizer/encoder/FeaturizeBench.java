package dev.moments.featurizer.encoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The featurizer benchmark: images/s of a TorchScript image tower run by DJL (the model alone on
 * preprocessed tensors, and the full {@link ImageEncoder#encode} path from images) next to the
 * same TorchScript file run by python3-torch ({@code bench/featurize_reference.py}) with the same
 * thread count, per batch size.
 *
 * <p>NOTE: timings depend on what else runs on the machine; run it on an idle one and compare the
 * ratio rather than the absolute numbers.
 */
public final class FeaturizeBench {
  private FeaturizeBench() {}

  /** One batch size's numbers; {@code pythonPerS} is NaN when the reference could not run. */
  public record Row(int batch, double javaModelPerS, double javaEncodePerS, double pythonPerS) {
    public double ratio() {
      return javaModelPerS / pythonPerS;
    }
  }

  /**
   * Runs the benchmark.
   *
   * @param python the python interpreter with torch (Debian's {@code /usr/bin/python3})
   * @param script {@code bench/featurize_reference.py}
   * @throws IllegalArgumentException when the encoder is not TorchScript
   */
  public static List<Row> run(Path encoderDir, int images, int[] batches, Path python, Path script)
      throws IOException, InterruptedException {
    EncoderConfig config = EncoderConfig.read(encoderDir);
    if (config.format() != EncoderConfig.Format.TORCHSCRIPT) {
      throw new IllegalArgumentException(
          "bench featurize compares TorchScript with python3-torch; " + encoderDir + " is " + config.format());
    }
    int threads = Integer.getInteger(Encoders.THREADS_PROPERTY, Runtime.getRuntime().availableProcessors());
    Map<Integer, double[]> java = new LinkedHashMap<>();
    try (TorchScriptEncoders.Image enc = new TorchScriptEncoders.Image(config)) {
      int s = config.imageSize();
      Random rnd = new Random(1);
      for (int b : batches) {
        float[] pixels = new float[b * 3 * s * s];
        for (int i = 0; i < pixels.length; i++) {
          pixels[i] = (float) rnd.nextGaussian();
        }
        List<BufferedImage> imgs = new ArrayList<>();
        for (int i = 0; i < b; i++) {
          BufferedImage img = new BufferedImage(s, s, BufferedImage.TYPE_INT_RGB);
          for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
              img.setRGB(x, y, rnd.nextInt(1 << 24));
            }
          }
          imgs.add(img);
        }
        int steps = Math.max(1, images / b);
        // warm-up: libtorch's TorchScript profiling executor specialises and optimises the graph
        // per input shape over its first runs; 3 runs at batch 32 left most of that in the timed
        // loop (1824 img/s timed over 1024 images vs 13021 over 4096, measured)
        for (int i = 0; i < Math.max(10, 512 / b); i++) {
          enc.forwardPixels(pixels, b);
          enc.encode(imgs);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) {
          enc.forwardPixels(pixels, b);
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < steps; i++) {
          enc.encode(imgs);
        }
        long t2 = System.nanoTime();
        java.put(b, new double[] {steps * b / ((t1 - t0) / 1e9), steps * b / ((t2 - t1) / 1e9)});
      }
    }
    Map<Integer, Double> py = python(config, images, batches, threads, python, script);
    List<Row> rows = new ArrayList<>();
    for (int b : batches) {
      rows.add(new Row(b, java.get(b)[0], java.get(b)[1], py.getOrDefault(b, Double.NaN)));
    }
    return rows;
  }

  private static Map<Integer, Double> python(
      EncoderConfig config, int images, int[] batches, int threads, Path python, Path script)
      throws IOException, InterruptedException {
    if (!Files.isRegularFile(script)) {
      throw new IllegalArgumentException("reference script not found: " + script);
    }
    StringBuilder bs = new StringBuilder();
    for (int b : batches) {
      bs.append(bs.isEmpty() ? "" : ",").append(b);
    }
    List<String> cmd = List.of(python.toString(), script.toString(), "--model", config.image().toString(),
        "--size", Integer.toString(config.imageSize()), "--images", Integer.toString(images),
        "--batches", bs.toString(), "--threads", Integer.toString(threads));
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot run " + python + " (python3 with torch): " + e.getMessage(), e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException("reference " + String.join(" ", cmd) + " failed (exit " + p.exitValue() + ")");
    }
    Map<Integer, Double> result = new LinkedHashMap<>();
    ObjectMapper json = new ObjectMapper();
    for (String line : out.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode n = json.readTree(line);
      result.put(n.get("batch").asInt(), n.get("images_per_s").asDouble());
    }
    return result;
  }
}
