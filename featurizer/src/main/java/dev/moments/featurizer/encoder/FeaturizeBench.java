package dev.moments.featurizer.encoder;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * The featurizer benchmark: images/s of a TorchScript image tower run by DJL (the model alone on
 * preprocessed tensors, and the full {@link ImageEncoder#encode} path from images), per batch
 * size; {@link #referenceArgs} are the arguments of {@code bench/featurize_reference.py}, which
 * runs the same TorchScript file under PyTorch with the same thread count (the app's {@code bench
 * featurize} runs it under every PyTorch build found).
 *
 * <p>NOTE: timings depend on what else runs on the machine; run it on an idle one and compare the
 * ratio rather than the absolute numbers.
 */
public final class FeaturizeBench {
  private FeaturizeBench() {}

  /** One batch size's DJL numbers: the model alone, and the whole encode path. */
  public record Row(int batch, double javaModelPerS, double javaEncodePerS) {}

  /**
   * Runs the DJL side of the benchmark.
   *
   * @throws IllegalArgumentException when the encoder is not TorchScript
   */
  public static List<Row> run(Path encoderDir, int images, int[] batches) throws IOException {
    EncoderConfig config = EncoderConfig.read(encoderDir);
    if (config.format() != EncoderConfig.Format.TORCHSCRIPT) {
      throw new IllegalArgumentException(
          "bench featurize compares TorchScript with python3-torch; " + encoderDir + " is " + config.format());
    }
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
    List<Row> rows = new ArrayList<>();
    for (int b : batches) {
      rows.add(new Row(b, java.get(b)[0], java.get(b)[1]));
    }
    return rows;
  }

  /**
   * The arguments after the script of {@code bench/featurize_reference.py} for the same model,
   * images, batch sizes and threads; it prints one JSON line per batch size with
   * {@code images_per_s}.
   */
  public static List<String> referenceArgs(Path encoderDir, int images, int[] batches, int threads)
      throws IOException {
    EncoderConfig config = EncoderConfig.read(encoderDir);
    StringBuilder bs = new StringBuilder();
    for (int b : batches) {
      bs.append(bs.isEmpty() ? "" : ",").append(b);
    }
    return List.of("--model", config.image().toString(), "--size", Integer.toString(config.imageSize()),
        "--images", Integer.toString(images), "--batches", bs.toString(), "--threads", Integer.toString(threads));
  }

  /**
   * One batch size of the whole pipeline: images timed, wall seconds, process CPU seconds over the
   * timed loop, and the wall seconds per stage (JPEG decode, preprocessing, model with the L2
   * normalisation of its output).
   */
  public record PipelineRow(int batch, int images, double seconds, double cpuSeconds, double decodeS,
      double preprocessS, double modelS) {
    public double imagesPerS() {
      return images / seconds;
    }
  }

  /**
   * The featurizer service's path from JPEG bytes to embeddings, with a TorchScript image tower:
   * {@link ImageIO#read} (what {@code FeaturizerService} decodes frames with), {@link
   * ImagePreprocessor} (PIL-style bicubic resize and centre crop, CLIP normalisation) and the model
   * through DJL, then {@link Vectors#normalizedRows}. The JPEGs are taken in order and cycled, as
   * {@code bench/featurize_reference.py --jpegs} does.
   */
  public static final class Pipeline implements AutoCloseable {
    private final TorchScriptEncoders.Image enc;
    private final ImagePreprocessor pre;
    private final int dim;

    public Pipeline(Path encoderDir) {
      EncoderConfig config = EncoderConfig.read(encoderDir);
      if (config.format() != EncoderConfig.Format.TORCHSCRIPT) {
        throw new IllegalArgumentException(
            "bench featurize compares TorchScript with PyTorch; " + encoderDir + " is " + config.format());
      }
      ImageIO.setUseCache(false);
      this.enc = new TorchScriptEncoders.Image(config);
      this.pre = ImagePreprocessor.of(config);
      this.dim = config.dim();
    }

    /** Embeddings of {@code b} JPEGs starting at {@code first} (cycled); adds stage nanos to {@code ns}. */
    public float[][] run(List<byte[]> jpegs, int first, int b, long[] ns) {
      long t0 = System.nanoTime();
      List<BufferedImage> imgs = new ArrayList<>(b);
      for (int i = 0; i < b; i++) {
        byte[] jpeg = jpegs.get((first + i) % jpegs.size());
        try {
          BufferedImage img = ImageIO.read(new ByteArrayInputStream(jpeg));
          if (img == null) {
            throw new IllegalArgumentException("not a JPEG: " + jpeg.length + " bytes");
          }
          imgs.add(img);
        } catch (IOException e) {
          throw new UncheckedIOException("undecodable JPEG", e);
        }
      }
      long t1 = System.nanoTime();
      float[] pixels = pre.batch(imgs);
      long t2 = System.nanoTime();
      float[][] out = Vectors.normalizedRows(enc.forwardPixels(pixels, b), b, dim);
      long t3 = System.nanoTime();
      if (ns != null) {
        ns[0] += t1 - t0;
        ns[1] += t2 - t1;
        ns[2] += t3 - t2;
      }
      return out;
    }

    /**
     * Times {@code max(1, images / batch)} batches after {@code warmup} untimed ones, as the
     * reference script does with the same arguments.
     */
    public PipelineRow time(List<byte[]> jpegs, int batch, int images, int warmup) {
      for (int i = 0; i < warmup; i++) {
        run(jpegs, i * batch, batch, null);
      }
      int steps = Math.max(1, images / batch);
      long[] ns = new long[3];
      long cpu0 = processCpuNanos();
      long t0 = System.nanoTime();
      for (int s = 0; s < steps; s++) {
        run(jpegs, s * batch, batch, ns);
      }
      long wall = System.nanoTime() - t0;
      long cpu = processCpuNanos() - cpu0;
      return new PipelineRow(batch, steps * batch, wall / 1e9, cpu / 1e9, ns[0] / 1e9, ns[1] / 1e9, ns[2] / 1e9);
    }

    @Override
    public void close() {
      enc.close();
    }
  }

  /** CPU time of this process (all threads: libtorch's, the JIT's, the GC's), or -1 if unknown. */
  static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }
}
