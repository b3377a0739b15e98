package dev.moments.app;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.FeaturizeBench;
import dev.moments.ingest.FfmpegTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moments bench featurize}: TorchScript image tower images/s in DJL vs each PyTorch found. */
@Command(name = "featurize", mixinStandardHelpOptions = true,
    description = {
      "Images/s of a TorchScript image tower with batch sizes 1/8/32, run by DJL (libtorch) here and",
      "by bench/featurize_reference.py under each PyTorch build found, with the same thread count,",
      "and the ratio against the best of them.",
      "With --model vit-b16 (or --pipeline): the whole pipeline on 640x360 JPEGs instead - JPEG",
      "decode + preprocessing (resize/crop, normalise) + model - at batch 1 and 8, alternating DJL and",
      "the references for --rounds rounds, medians; the ViT-B/16 tower (random weights) is made under",
      "target/bench-models by bench/export_vit_b16.py on first use, the JPEGs with the bundled ffmpeg.",
      "NOTE: timings depend on the machine's load (printed); compare on an idle machine."
    })
final class BenchFeaturizeCommand implements Callable<Integer> {
  private static final int[] BATCHES = {1, 8, 32};
  private static final int[] PIPELINE_BATCHES = {1, 8};
  /** Frames of the JPEG set: 8 s of a 6 fps 640x360 camera (ffmpeg's testsrc2 with noise). */
  static final int JPEG_COUNT = 48;
  /** Camera frame rate for "camera streams per core". */
  static final double CAMERA_FPS = 6.0;

  @Option(names = "--encoder", paramLabel = "DIR",
      description = "TorchScript encoder directory (default: the bundled models/tiny-clip).")
  Path encoder;

  @Option(names = "--model", paramLabel = "NAME",
      description = "vit-b16: a CLIP ViT-B/16 image tower at 224 px with random weights (made under "
          + "target/bench-models/vit-b16 by bench/export_vit_b16.py when missing); implies --pipeline.")
  String model;

  @Option(names = "--pipeline",
      description = "Time JPEG decode + preprocessing + model on 640x360 JPEGs (batch 1 and 8) instead of "
          + "the model alone on random tensors.")
  boolean pipeline;

  @Option(names = "--jpegs", paramLabel = "DIR",
      description = "With --pipeline: the *.jpg files to use (default: " + JPEG_COUNT + " 640x360 frames made "
          + "under target/bench-models/jpegs-640x360 with the bundled ffmpeg).")
  Path jpegs;

  @Option(names = "--rounds", defaultValue = "3",
      description = "With --pipeline: rounds of DJL then each reference; medians are reported "
          + "(default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--images",
      description = "Images timed per batch size (default: 4096, with --pipeline 32).")
  Integer images;

  @Option(names = "--python", split = ",", paramLabel = "PY",
      description = "Pythons with torch to run the reference with (default: /usr/bin/python3 with "
          + "python3-torch and a venv with the 2.x CPU wheel, made on first use).")
  List<Path> python;

  @Override
  public Integer call() throws Exception {
    if (model != null && !model.equals("vit-b16")) {
      throw new IllegalArgumentException("--model: unknown model '" + model + "' (known: vit-b16)");
    }
    if (model != null && encoder != null) {
      throw new IllegalArgumentException("--model and --encoder exclude each other");
    }
    boolean whole = pipeline || model != null || jpegs != null;
    int images = this.images != null ? this.images : whole ? 32 : 4096;
    if (images < 1) {
      throw new IllegalArgumentException("--images must be >= 1, got " + images);
    }
    if (rounds < 1) {
      throw new IllegalArgumentException("--rounds must be >= 1, got " + rounds);
    }
    Path dir = model != null ? vitB16() : encoder != null ? encoder : Encoders.defaultDir();
    Path script = BenchReferences.root().resolve("bench/featurize_reference.py");
    int threads = Integer.getInteger(Encoders.THREADS_PROPERTY, Runtime.getRuntime().availableProcessors());
    List<BenchReferences.Reference> refs = BenchReferences.find(python, threads, System.out);
    if (whole) {
      Path jpegDir = jpegs != null ? jpegs : defaultJpegs();
      return pipeline(dir, jpegDir, script, refs, threads, images);
    }
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

  /** Warm-up images: max(2, WARMUP_IMAGES / batch) untimed calls per batch size, on both sides. */
  static final int WARMUP_IMAGES = 8;

  static int warmup(int batch) {
    return Math.max(2, WARMUP_IMAGES / batch);
  }

  private int pipeline(Path dir, Path jpegDir, Path script, List<BenchReferences.Reference> refs, int threads,
      int images) throws Exception {
    List<byte[]> data = readJpegs(jpegDir);
    System.out.printf(Locale.ROOT, "bench featurize --pipeline: %s, %d JPEGs of %s (%d KB mean), %d images per batch "
        + "size, batches %s, %d threads (every side), %d round(s) alternating DJL and the references%n", dir,
        data.size(), jpegDir, data.stream().mapToLong(b -> b.length).sum() / data.size() / 1024, images,
        Arrays.toString(PIPELINE_BATCHES), threads, rounds);
    System.out.println("uptime before: " + uptime());
    StringBuilder bs = new StringBuilder();
    for (int b : PIPELINE_BATCHES) {
      bs.append(bs.isEmpty() ? "" : ",").append(b);
    }
    dev.moments.featurizer.encoder.EncoderConfig config = dev.moments.featurizer.encoder.EncoderConfig.read(dir);
    List<String> args = new ArrayList<>(List.of(script.toString(), "--model", config.image().toString(), "--size",
        Integer.toString(config.imageSize()), "--images", Integer.toString(images), "--batches", bs.toString(),
        "--threads", Integer.toString(threads), "--jpegs", jpegDir.toString(), "--warmup",
        Integer.toString(WARMUP_IMAGES), "--mean", csv(config.mean()), "--std", csv(config.std())));
    // side name -> batch -> rows of each round
    Map<String, Map<Integer, List<FeaturizeBench.PipelineRow>>> rows = new LinkedHashMap<>();
    try (FeaturizeBench.Pipeline djl = new FeaturizeBench.Pipeline(dir)) {
      for (int round = 1; round <= rounds; round++) {
        String before = BenchReferences.loadavg();
        for (int b : PIPELINE_BATCHES) {
          add(rows, "DJL", djl.time(data, b, images, warmup(b)));
        }
        System.out.printf("round %d DJL: %s%n", round, BenchReferences.load(before, BenchReferences.loadavg()));
        for (BenchReferences.Reference r : refs) {
          before = BenchReferences.loadavg();
          for (JsonNode n : BenchReferences.runJson(r, args, threads, System.out)) {
            add(rows, r.name(), new FeaturizeBench.PipelineRow(n.get("batch").asInt(), n.get("images").asInt(),
                n.get("seconds").asDouble(), n.get("cpu_seconds").asDouble(), n.get("decode_s").asDouble(),
                n.get("preprocess_s").asDouble(), n.get("model_s").asDouble()));
          }
          System.out.printf("round %d %s: %s%n", round, r.name(),
              BenchReferences.load(before, BenchReferences.loadavg()));
        }
      }
    }
    System.out.println("uptime after: " + uptime());
    System.out.printf("%-22s %5s %9s %9s %10s %9s %9s %9s %12s%n", "side", "batch", "img/s", "min-max", "CPU s/img",
        "decode", "preproc", "model", "streams/core");
    for (int b : PIPELINE_BATCHES) {
      for (var e : rows.entrySet()) {
        List<FeaturizeBench.PipelineRow> rs = e.getValue().getOrDefault(b, List.of());
        if (rs.isEmpty()) {
          continue;
        }
        double ips = median(rs.stream().mapToDouble(FeaturizeBench.PipelineRow::imagesPerS).toArray());
        double lo = rs.stream().mapToDouble(FeaturizeBench.PipelineRow::imagesPerS).min().orElse(0);
        double hi = rs.stream().mapToDouble(FeaturizeBench.PipelineRow::imagesPerS).max().orElse(0);
        double cpu = median(rs.stream().mapToDouble(r -> r.cpuSeconds() / r.images()).toArray());
        double dec = median(rs.stream().mapToDouble(r -> r.decodeS() / r.images() * 1000).toArray());
        double pre = median(rs.stream().mapToDouble(r -> r.preprocessS() / r.images() * 1000).toArray());
        double mod = median(rs.stream().mapToDouble(r -> r.modelS() / r.images() * 1000).toArray());
        System.out.printf(Locale.ROOT, "%-22s %5d %9.2f %4.1f-%-4.1f %10.3f %6.1f ms %6.1f ms %6.0f ms %12.2f%n",
            e.getKey(), b, ips, lo, hi, cpu, dec, pre, mod, ips / CAMERA_FPS / threads);
      }
      double djl = median(rows.getOrDefault("DJL", Map.of()).getOrDefault(b, List.of()).stream()
          .mapToDouble(FeaturizeBench.PipelineRow::imagesPerS).toArray());
      double best = 0;
      String bestName = null;
      for (var e : rows.entrySet()) {
        if (e.getKey().equals("DJL") || e.getValue().getOrDefault(b, List.of()).isEmpty()) {
          continue;
        }
        double v = median(e.getValue().get(b).stream().mapToDouble(FeaturizeBench.PipelineRow::imagesPerS).toArray());
        if (v > best) {
          best = v;
          bestName = e.getKey();
        }
      }
      if (bestName != null) {
        System.out.println("batch " + b + ": " + BenchReferences.ratio("JPEG decode + preprocessing + model",
            djl, best, bestName));
      }
    }
    System.out.println("img/s: median over rounds (min-max); CPU s/img: process CPU time over the timed loop per "
        + "image; decode/preproc/model: wall ms per image in each stage (model includes the L2 normalisation); "
        + "streams/core: img/s / " + (int) CAMERA_FPS + " fps / " + threads + " threads. DJL: ImageIO decode, "
        + "Java PIL-style bicubic resize + crop + normalise, libtorch via DJL; references: PIL decode, torch ops "
        + "(antialiased bicubic interpolate, crop, normalise) on the batch, the same TorchScript file.");
    return 0;
  }

  private static void add(Map<String, Map<Integer, List<FeaturizeBench.PipelineRow>>> rows, String side,
      FeaturizeBench.PipelineRow row) {
    rows.computeIfAbsent(side, k -> new LinkedHashMap<>()).computeIfAbsent(row.batch(), k -> new ArrayList<>())
        .add(row);
  }

  static double median(double[] v) {
    if (v.length == 0) {
      return Double.NaN;
    }
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static String csv(float[] v) {
    StringBuilder b = new StringBuilder();
    for (float f : v) {
      b.append(b.isEmpty() ? "" : ",").append(f);
    }
    return b.toString();
  }

  private static String uptime() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).strip() + " (1/5/15-min load, runnable/threads, last pid)";
    } catch (IOException e) {
      return "?";
    }
  }

  static List<byte[]> readJpegs(Path dir) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".jpg")).sorted().toList();
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException("no *.jpg in " + dir);
    }
    List<byte[]> data = new ArrayList<>();
    for (Path p : files) {
      data.add(Files.readAllBytes(p));
    }
    return data;
  }

  /**
   * target/bench-models/jpegs-640x360: {@link #JPEG_COUNT} camera-like frames (ffmpeg's testsrc2,
   * a moving test picture, with temporal noise like a sensor's, at 6 fps, MJPEG quality 3 as the
   * ingest encodes), made with the bundled ffmpeg when missing.
   */
  static Path defaultJpegs() throws IOException {
    Path dir = BenchReferences.root().resolve("target/bench-models/jpegs-640x360");
    if (Files.isDirectory(dir)) {
      try (Stream<Path> s = Files.list(dir)) {
        if (s.filter(p -> p.getFileName().toString().endsWith(".jpg")).count() == JPEG_COUNT) {
          return dir;
        }
      }
    }
    Path tmp = dir.resolveSibling(dir.getFileName() + ".making");
    deleteTree(tmp);
    Files.createDirectories(tmp);
    System.out.println("making " + JPEG_COUNT + " 640x360 JPEGs in " + dir + " with the bundled ffmpeg");
    FfmpegTools.run(tmp, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=6,noise=alls=12:allf=t",
        "-frames:v", Integer.toString(JPEG_COUNT), "-q:v", "3", "frame_%03d.jpg");
    deleteTree(dir);
    Files.move(tmp, dir);
    return dir;
  }

  /**
   * target/bench-models/vit-b16 (encoder.json + image.pt), made by bench/export_vit_b16.py with
   * Debian's python3-torch when missing (its TorchScript loads in DJL's newer libtorch).
   */
  static Path vitB16() throws IOException, InterruptedException {
    Path root = BenchReferences.root();
    Path dir = root.resolve("target/bench-models/vit-b16");
    if (Files.isRegularFile(dir.resolve("encoder.json")) && Files.isRegularFile(dir.resolve("image.pt"))) {
      return dir;
    }
    Path script = root.resolve("bench/export_vit_b16.py");
    String cmd = BenchReferences.DEBIAN_PYTHON + " " + script + " --out " + dir;
    if (!Files.isExecutable(BenchReferences.DEBIAN_PYTHON)) {
      throw new IllegalStateException("--model vit-b16 needs " + BenchReferences.DEBIAN_PYTHON
          + " with torch to make the model (apt-get install python3-torch), then: " + cmd);
    }
    System.out.println("making the ViT-B/16 tower (random weights, ~345 MB) in " + dir + ": " + cmd);
    Process p = new ProcessBuilder(BenchReferences.DEBIAN_PYTHON.toString(), script.toString(), "--out",
        dir.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IllegalStateException("making the ViT-B/16 tower took over 10 minutes: " + cmd);
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException("making the ViT-B/16 tower failed (exit " + p.exitValue() + "): " + out
          + (out.contains("No module named 'torch'") ? "\ninstall torch for it: apt-get install python3-torch" : "")
          + "\nrun by hand: " + cmd);
    }
    System.out.println(out);
    return dir;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
