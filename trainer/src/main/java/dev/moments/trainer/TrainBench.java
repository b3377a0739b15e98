package dev.moments.trainer;

import dev.moments.featurizer.store.FeatureManifest;
import dev.moments.featurizer.store.Npy;
import dev.moments.model.LavitiConfig;
import dev.moments.model.LavitiModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The training benchmark behind {@code ./moments bench train}: the real training step
 * ({@link LavitiTrainer}: memory-mapped chunk read, forward, Hungarian matching, sigmoid loss,
 * backward, clipped Adam) of a given config on synthetic 600 s chunks (T frames of C random unit
 * features, G narrations each), plus forward-only inference ({@link LavitiModel#predict}) of one
 * window.
 */
public final class TrainBench {
  /** Timings of one batch size. */
  public record Timing(int batch, int steps, double msPerStep, double forwardMs, double[] phaseMs, double[] phaseCpuMs) {
    public double windowsPerSec() {
      return 1000.0 / forwardMs;
    }

    /**
     * The mean wall ms of each timed step's phases ({@link LavitiTrainer.Result#PHASES}) and the
     * process CPU ms in them (all threads), one line.
     */
    public String phases() {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < phaseMs.length; i++) {
        b.append(i == 0 ? "" : ", ").append(LavitiTrainer.Result.PHASES.get(i))
            .append(String.format(java.util.Locale.ROOT, " %.0f (CPU %.0f)", phaseMs[i], phaseCpuMs[i]));
      }
      return b.toString();
    }
  }

  private TrainBench() {}

  public static Timing run(LavitiConfig cfg, int batch, int frames, int narrations, int warmup, int steps, Path work)
      throws IOException {
    Path features = work.resolve("features-b" + batch);
    Files.createDirectories(features);
    Random rnd = new Random(1);
    double fps = 6.0;
    FeatureManifest manifest = new FeatureManifest("bench", fps, cfg.featureDim(), Map.of());
    Map<String, List<TimedText>> narr = new HashMap<>();
    Map<String, float[]> texts = new HashMap<>();
    for (int v = 0; v < batch; v++) {
      float[][] rows = new float[frames][];
      for (int t = 0; t < frames; t++) {
        rows[t] = unit(rnd, cfg.featureDim());
      }
      String uid = "bench" + v;
      Npy.write(FeatureManifest.featureFile(features, uid), rows);
      manifest = manifest.with(uid, new FeatureManifest.Video(frames, frames / fps));
      List<TimedText> list = new ArrayList<>();
      for (int i = 0; i < narrations; i++) {
        String text = uid + "-n" + i;
        list.add(new TimedText((i + 0.5) * frames / fps / narrations, text));
        texts.put(text, unit(rnd, cfg.textDim()));
      }
      narr.put(uid, list);
    }
    manifest.write(features);
    TrainingSet data = TrainingSet.open(features, narr, texts::get, frames / fps + 1);
    LavitiTrainer.Options o = LavitiTrainer.Options.defaults(work.resolve("out-b" + batch))
        .withEpochs(warmup + steps).withBatch(batch).withMaxSteps(warmup + steps).withSeed(1);
    LavitiTrainer.Result r = LavitiTrainer.train(data, cfg, o, null, System.err);
    double ms = r.stepMillis().subList(warmup, r.stepMillis().size()).stream()
        .mapToDouble(Double::doubleValue).average().orElseThrow();
    double[] phases = mean(r.phaseMillis().subList(warmup, r.phaseMillis().size()));
    double[] cpu = mean(r.phaseCpuMillis().subList(warmup, r.phaseCpuMillis().size()));
    double fwd;
    try (LavitiModel model = LavitiModel.load(r.checkpoint())) {
      float[][] window = data.frames(data.chunks().get(0));
      model.predict(window, fps);
      long t0 = System.nanoTime();
      int reps = Math.max(1, steps);
      for (int i = 0; i < reps; i++) {
        model.predict(window, fps);
      }
      fwd = (System.nanoTime() - t0) / 1e6 / reps;
    }
    deleteTree(work.resolve("out-b" + batch));
    deleteTree(features);
    return new Timing(batch, steps, ms, fwd, phases, cpu);
  }

  private static double[] mean(List<double[]> rows) {
    double[] m = new double[LavitiTrainer.Result.PHASES.size()];
    for (double[] p : rows) {
      for (int i = 0; i < m.length; i++) {
        m[i] += p[i] / rows.size();
      }
    }
    return m;
  }

  private static float[] unit(Random r, int d) {
    float[] v = new float[d];
    double n = 0;
    for (int i = 0; i < d; i++) {
      v[i] = (float) r.nextGaussian();
      n += v[i] * v[i];
    }
    for (int i = 0; i < d; i++) {
      v[i] /= (float) Math.sqrt(n);
    }
    return v;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
