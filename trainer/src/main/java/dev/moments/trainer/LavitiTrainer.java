package dev.moments.trainer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.moments.model.CheckpointMetadata;
import dev.moments.model.LavitiConfig;
import dev.moments.model.LavitiModel;
import dev.moments.model.TemporalEmbeddings;
import dev.moments.model.WindowBatch;
import dev.moments.model.nn.LavitiBlock;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The LAVITI training loop (DESIGN §4): batches of chunks, narration intervals, Hungarian
 * matching, SigLIP sigmoid loss, Adam with warm-up + cosine decay and global-norm clipping.
 *
 * <p>Layout of {@code out}: the model checkpoint ({@code config.json}, {@code laviti.params},
 * {@code metadata.json}, always the latest), {@code trainer-state/} (optimizer moments and loop
 * position), {@code training_curve.csv} (step, loss, lr) and {@code training_curve.png}. A
 * checkpoint is written after every epoch and when the run stops (end or {@code maxSteps}).
 *
 * <p>Numbers that training cannot go on from stop it with a {@link TrainingStoppedException} naming
 * the step: non-finite frame features, model outputs or loss. A step whose gradient norm is not
 * finite is skipped (parameters and optimizer state untouched, one line on {@code err});
 * {@value #MAX_SKIPPED_IN_A_ROW} such steps in a row stop training too.
 *
 * <p>Exact resume: all randomness is a pure function of the seed and the position in the loop
 * (epoch order from {@code (seed, epoch)}, interval sampling and narration subsampling from
 * {@code (seed, step)}), and the optimizer state is saved bit-for-bit, so a resumed run takes the
 * same steps with the same data as an uninterrupted one. The losses agree up to libtorch's
 * floating-point rounding, which may differ for a restored (differently aligned) tensor and which
 * Adam amplifies over later steps.
 */
public final class LavitiTrainer {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  static final String STATE_DIR = "trainer-state";
  /** Non-finite gradients skipped in a row before training stops (one is rounding bad luck, more is divergence). */
  static final int MAX_SKIPPED_IN_A_ROW = 3;

  /**
   * Training options.
   *
   * @param out checkpoint directory
   * @param epochs passes over the chunks
   * @param maxSteps stop after this many optimizer steps in total (smoke mode); Long.MAX_VALUE for none
   * @param batch chunks per step
   * @param lr peak learning rate
   * @param warmup warm-up steps; negative means 5% of the planned steps
   * @param clipNorm global gradient-norm clip (<= 0: none)
   * @param seed seed of the initialisation and of all sampling
   * @param resume continue from the checkpoint in {@code out}
   * @param progress draw a progress bar on stderr
   * @param evalEvery call the listener every this many steps and at the last one; 0: at the end of
   *     each epoch; negative: ten times over the run
   */
  public record Options(Path out, int epochs, long maxSteps, int batch, double lr, long warmup, double clipNorm,
      long seed, boolean resume, boolean progress, long evalEvery) {
    public Options {
      if (epochs < 1 || batch < 1 || maxSteps < 1) {
        throw new IllegalArgumentException("epochs, batch and max steps must be >= 1, got " + epochs + ", " + batch + ", " + maxSteps);
      }
      if (!(lr > 0)) {
        throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
      }
    }

    public static Options defaults(Path out) {
      return new Options(out, 20, Long.MAX_VALUE, 8, 1e-4, -1, 1.0, 0, false, false, 0);
    }

    public Options withEpochs(int e) {
      return new Options(out, e, maxSteps, batch, lr, warmup, clipNorm, seed, resume, progress, evalEvery);
    }

    public Options withMaxSteps(long s) {
      return new Options(out, epochs, s, batch, lr, warmup, clipNorm, seed, resume, progress, evalEvery);
    }

    public Options withBatch(int b) {
      return new Options(out, epochs, maxSteps, b, lr, warmup, clipNorm, seed, resume, progress, evalEvery);
    }

    public Options withLr(double l) {
      return new Options(out, epochs, maxSteps, batch, l, warmup, clipNorm, seed, resume, progress, evalEvery);
    }

    public Options withWarmup(long w) {
      return new Options(out, epochs, maxSteps, batch, lr, w, clipNorm, seed, resume, progress, evalEvery);
    }

    public Options withSeed(long s) {
      return new Options(out, epochs, maxSteps, batch, lr, warmup, clipNorm, s, resume, progress, evalEvery);
    }

    public Options withResume(boolean r) {
      return new Options(out, epochs, maxSteps, batch, lr, warmup, clipNorm, seed, r, progress, evalEvery);
    }

    public Options withEvalEvery(long n) {
      return new Options(out, epochs, maxSteps, batch, lr, warmup, clipNorm, seed, resume, progress, n);
    }

    public Options withProgress(boolean p) {
      return new Options(out, epochs, maxSteps, batch, lr, warmup, clipNorm, seed, resume, p, evalEvery);
    }
  }

  /** Position of the loop, saved in {@code trainer-state/state.json}. */
  record State(long step, int epoch, int batchInEpoch, long seed, long totalSteps, long warmup, double lr, int batch) {}

  /**
   * The outcome of a run: every logged step of this and earlier (resumed) runs, the wall time of
   * each step taken in this run (data loading, forward, matching, loss, backward, Adam), and what
   * each of those steps trained on ({@code batches}: one 64-bit fingerprint per step of its chunks,
   * sampled intervals and kept narrations, so two runs can be compared on their data exactly
   * without keeping the data).
   */
  public record Result(long steps, List<TrainingCurve.Point> curve, Path checkpoint, List<Double> stepMillis,
      List<Long> batches, List<double[]> phaseMillis, List<double[]> phaseCpuMillis) {
    /** The phases of a step that {@link #phaseMillis} times, in this order. */
    public static final List<String> PHASES = List.of("data", "forward", "loss", "backward", "free", "optimizer");

    /** Mean loss of the first / last {@code n} logged steps. */
    public double meanLoss(boolean first, int n) {
      List<TrainingCurve.Point> pts = first ? curve.subList(0, Math.min(n, curve.size()))
          : curve.subList(Math.max(0, curve.size() - n), curve.size());
      return pts.stream().mapToDouble(TrainingCurve.Point::loss).average().orElse(Double.NaN);
    }
  }

  /** Observes the end of each epoch (e.g. to evaluate the current model). */
  public interface EpochListener {
    /** Returns metrics to store with the checkpoint (may be empty). */
    Map<String, Double> onEpochEnd(int epoch, LavitiModel model);

    /** The same at an evaluation after optimizer step {@code step} (1-based), in {@code epoch}. */
    default Map<String, Double> onEvaluation(int epoch, long step, LavitiModel model) {
      return onEpochEnd(epoch, model);
    }
  }

  private LavitiTrainer() {}

  /** Trains {@code cfg} (ignored on resume: the checkpoint's config is used) on {@code data}. */
  public static Result train(TrainingSet data, LavitiConfig cfg, Options o) throws IOException {
    return train(data, cfg, o, null, System.err);
  }

  public static Result train(TrainingSet data, LavitiConfig cfg, Options o, EpochListener listener, PrintStream err)
      throws IOException {
    Path stateDir = o.out().resolve(STATE_DIR);
    Path stateFile = stateDir.resolve("state.json");
    boolean resuming = o.resume() && Files.isRegularFile(stateFile);
    if (o.resume() && !resuming) {
      throw new IllegalArgumentException("--resume: no trainer state in " + o.out());
    }
    int stepsPerEpoch = (data.chunks().size() + o.batch() - 1) / o.batch();
    long total = (long) o.epochs() * stepsPerEpoch;
    State state;
    LavitiModel model;
    if (resuming) {
      state = JSON.readValue(stateFile.toFile(), State.class);
      model = LavitiModel.load(o.out());
    } else {
      long warmup = o.warmup() >= 0 ? o.warmup() : Math.max(1, Math.round(0.05 * total));
      state = new State(0, 0, 0, o.seed(), total, warmup, o.lr(), o.batch());
      model = LavitiModel.random(cfg, data.encoderId(), data.fps(), o.seed());
    }
    try (model) {
      model.checkCompatible(data.encoderId(), data.featureDim());
      if (model.config().textDim() != data.textDim()) {
        throw new IllegalArgumentException(
            "model text dim " + model.config().textDim() + " != narration text embedding dim " + data.textDim());
      }
      return new Run(data, model, o, state, stepsPerEpoch, listener, err).loop(resuming);
    }
  }

  /** One training run over a model. */
  private static final class Run {
    private final TrainingSet data;
    private final LavitiModel model;
    private final LavitiBlock block;
    private final Options o;
    private final int stepsPerEpoch;
    private final EpochListener listener;
    private final LrSchedule schedule;
    private final List<Parameter> params = new ArrayList<>();
    private final Adam adam;
    private final TrainingCurve curve;
    private final ProgressBar bar;
    private State state;
    private Map<String, Double> metrics = new LinkedHashMap<>();
    private final List<Double> stepMillis = new ArrayList<>();
    private final List<Long> batches = new ArrayList<>();
    private final List<double[]> phaseMillis = new ArrayList<>();
    private final List<double[]> phaseCpuMillis = new ArrayList<>();
    private final PrintStream err;
    private int skipped;
    private int skippedInARow;
    private long checkpointStep = -1;
    private long evaluatedStep = -1;

    Run(TrainingSet data, LavitiModel model, Options o, State state, int stepsPerEpoch, EpochListener listener,
        PrintStream err) {
      this.data = data;
      this.model = model;
      this.block = model.block();
      this.o = o;
      this.state = state;
      this.stepsPerEpoch = stepsPerEpoch;
      this.listener = listener;
      this.err = err;
      this.schedule = new LrSchedule(state.lr(), state.warmup(), state.totalSteps());
      for (Pair<String, Parameter> p : block.getParameters()) {
        // loaded parameters come without autograd; every parameter is trained
        p.getValue().getArray().setRequiresGradient(true);
        params.add(p.getValue());
      }
      this.adam = new Adam(params, model.manager());
      this.curve = new TrainingCurve(o.out());
      this.bar = o.progress() ? new ProgressBar(err) : null;
    }

    Result loop(boolean resuming) throws IOException {
      if (resuming) {
        adam.load(o.out().resolve(STATE_DIR).resolve("adam.ndlist"), model.manager());
        curve.loadUpTo(state.step());
        checkpointStep = state.step();
      }
      Files.createDirectories(o.out());
      long t0 = System.nanoTime();
      long startStep = state.step();
      long planned = Math.min(state.totalSteps(), o.maxSteps());
      long every = o.evalEvery() < 0 ? Math.max(1, planned / 10) : o.evalEvery();
      for (int epoch = state.epoch(); epoch < o.epochs(); epoch++) {
        List<Integer> order = epochOrder(epoch);
        for (int b = epoch == state.epoch() ? state.batchInEpoch() : 0; b < stepsPerEpoch; b++) {
          if (state.step() >= o.maxSteps()) {
            state = new State(state.step(), epoch, b, state.seed(), state.totalSteps(), state.warmup(), state.lr(), state.batch());
            if (every > 0) {
              evaluate(epoch + 1);
            }
            checkpoint();
            return result();
          }
          List<TrainingSet.Chunk> batch = new ArrayList<>();
          for (int i = b * o.batch(); i < Math.min(order.size(), (b + 1) * o.batch()); i++) {
            batch.add(data.chunks().get(order.get(i)));
          }
          double lr = schedule.at(state.step());
          long s0 = System.nanoTime();
          double loss;
          try {
            loss = step(batch, state.step(), lr);
          } catch (TrainingStoppedException e) {
            if (bar != null) {
              bar.finish();
            }
            throw e;
          }
          stepMillis.add((System.nanoTime() - s0) / 1e6);
          long done = state.step() + 1;
          curve.add(new TrainingCurve.Point(done, loss, lr));
          state = new State(done, epoch, b + 1, state.seed(), state.totalSteps(), state.warmup(), state.lr(), state.batch());
          if (every > 0 && done % every == 0) {
            evaluate(epoch + 1);
          }
          if (bar != null) {
            double secs = (System.nanoTime() - t0) / 1e9;
            bar.update(done, Math.min(state.totalSteps(), o.maxSteps()), epoch + 1, o.epochs(), loss, lr,
                (done - startStep) * o.batch() / Math.max(secs, 1e-9));
          }
        }
        state = new State(state.step(), epoch + 1, 0, state.seed(), state.totalSteps(), state.warmup(), state.lr(), state.batch());
        if (every <= 0 || epoch + 1 == o.epochs()) {
          evaluate(epoch + 1);
        }
        checkpoint();
      }
      return result();
    }

    /** Asks the listener for metrics of the model as it is now (once per step at most). */
    private void evaluate(int epoch) {
      if (listener == null || state.step() == evaluatedStep) {
        return;
      }
      evaluatedStep = state.step();
      metrics = new LinkedHashMap<>(listener.onEvaluation(epoch, state.step(), model));
      curve.addEpochMetrics(epoch, state.step(), metrics);
    }

    private Result result() {
      if (bar != null) {
        bar.finish();
      }
      return new Result(state.step(), curve.points(), o.out(), List.copyOf(stepMillis), List.copyOf(batches),
          List.copyOf(phaseMillis), List.copyOf(phaseCpuMillis));
    }

    private List<Integer> epochOrder(int epoch) {
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < data.chunks().size(); i++) {
        order.add(i);
      }
      Collections.shuffle(order, new Random(state.seed() * 1_000_003L + epoch));
      return order;
    }

    /** One optimizer step; returns the batch loss. */
    private double step(List<TrainingSet.Chunk> batch, long step, double lr) {
      long t0 = System.nanoTime();
      long c0 = cpuNanos();
      long[] at = new long[Result.PHASES.size()];
      long[] cpu = new long[at.length];
      LavitiConfig cfg = model.config();
      Random rnd = new Random(state.seed() ^ (0x9E3779B97F4A7C15L * (step + 1)));
      List<float[][]> windows = new ArrayList<>();
      List<float[][]> texts = new ArrayList<>();
      List<double[][]> positions = new ArrayList<>();
      long seen = step + 1;
      for (TrainingSet.Chunk c : batch) {
        windows.add(data.frames(c));
        // narrations -> sampled intervals -> relative positions; at most M narrations per chunk
        double duration = c.frames() / data.fps();
        double[][] iv = Intervals.sample(c.times(), c.sequences(), 0, duration, rnd);
        int[] keep = subsample(c.times().length, cfg.numQueries(), rnd);
        float[][] t = new float[keep.length][];
        double[][] pos = new double[2][keep.length];
        for (int j = 0; j < keep.length; j++) {
          t[j] = c.textEmbeddings()[keep[j]];
          pos[0][j] = TemporalEmbeddings.timePosition(iv[keep[j]][0], c.frames(), data.fps());
          pos[1][j] = TemporalEmbeddings.timePosition(iv[keep[j]][1], c.frames(), data.fps());
        }
        texts.add(t);
        positions.add(pos);
        seen = mix(mix(seen, c.videoUid().hashCode()), c.from());
        for (int k : keep) {
          seen = mix(mix(mix(seen, k), Double.doubleToLongBits(iv[k][0])), Double.doubleToLongBits(iv[k][1]));
        }
      }
      batches.add(seen);
      for (int i = 0; i < batch.size(); i++) {
        checkFinite(step, batch.get(i), windows.get(i));
      }
      double lossValue;
      try (NDScope scope = new NDScope();
          NDManager sub = model.manager().newSubManager()) {
        scope.suppressNotUsedWarning();
        NDList in = WindowBatch.inputs(sub, cfg, windows);
        at[0] = System.nanoTime();
        cpu[0] = cpuNanos();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDList out = block.forward(new ParameterStore(sub, false), in, true);
          at[1] = System.nanoTime();
          cpu[1] = cpuNanos();
          NDArray te = block.temporalEmbeddings().getArray();
          NDArray scale = block.logitScale().getArray().exp();
          NDArray bias = block.logitBias().getArray();
          NDArray total = null;
          for (int i = 0; i < batch.size(); i++) {
            float[][] t = texts.get(i);
            int g = t.length;
            float[] flat = new float[g * cfg.textDim()];
            for (int j = 0; j < g; j++) {
              System.arraycopy(t[j], 0, flat, j * cfg.textDim(), cfg.textDim());
            }
            NDArray text = WindowBatch.owned(sub, flat, new Shape(g, cfg.textDim()));
            // GT TEs: the TE table interpolated at the sampled start/end positions, L2-normalized
            NDArray sGt = LavitiBlock.l2(WindowBatch.owned(sub, TemporalEmbeddings.weights(positions.get(i)[0], cfg.teLength()),
                new Shape(g, cfg.teLength())).matMul(te));
            NDArray eGt = LavitiBlock.l2(WindowBatch.owned(sub, TemporalEmbeddings.weights(positions.get(i)[1], cfg.teLength()),
                new Shape(g, cfg.teLength())).matMul(te));
            NDArray cosV = out.get(0).get(i).matMul(text.transpose());
            NDArray cosS = out.get(1).get(i).matMul(sGt.transpose());
            NDArray cosE = out.get(2).get(i).matMul(eGt.transpose());
            float[] v = cosV.toFloatArray();
            float[] s = cosS.toFloatArray();
            float[] e = cosE.toFloatArray();
            checkFinite(step, batch.get(i), v, s, e);
            int[] match = Hungarian.solve(SigmoidLoss.matchCost(v, s, e, cfg.numQueries(), g));
            NDArray l = SigmoidLoss.loss(sub, cosV, cosS, cosE, match, scale, bias);
            total = total == null ? l : total.add(l);
          }
          NDArray loss = total.div(batch.size());
          at[2] = System.nanoTime();
          cpu[2] = cpuNanos();
          gc.backward(loss);
          lossValue = loss.getFloat();
          at[3] = System.nanoTime();
          cpu[3] = cpuNanos();
        }
      }
      at[4] = System.nanoTime();
      cpu[4] = cpuNanos();
      if (!Double.isFinite(lossValue)) {
        throw stop(step, "loss is " + lossValue + " (lr " + lr + "); lower --lr");
      }
      double norm = adam.step(step + 1, lr, o.clipNorm());
      at[5] = System.nanoTime();
      cpu[5] = cpuNanos();
      double[] phases = new double[at.length];
      double[] cpuPhases = new double[at.length];
      for (int i = 0; i < at.length; i++) {
        phases[i] = (at[i] - (i == 0 ? t0 : at[i - 1])) / 1e6;
        cpuPhases[i] = (cpu[i] - (i == 0 ? c0 : cpu[i - 1])) / 1e6;
      }
      phaseMillis.add(phases);
      phaseCpuMillis.add(cpuPhases);
      if (!Double.isFinite(norm)) {
        skipped++;
        skippedInARow++;
        if (skippedInARow >= MAX_SKIPPED_IN_A_ROW) {
          throw stop(step, "gradient norm is " + norm + " in " + skippedInARow + " steps in a row (steps "
              + (step + 2 - skippedInARow) + " to " + (step + 1) + ", updates skipped, loss " + lossValue + ", lr "
              + lr + "); lower --lr");
        }
        err.println("step " + (step + 1) + ": gradient norm is " + norm + ", update skipped (" + skipped
            + " so far)");
      } else {
        skippedInARow = 0;
      }
      return lossValue;
    }

    /** CPU time of the whole process (libtorch's threads and the JVM's), for the bench's phase split. */
    private static long cpuNanos() {
      return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
          .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Stops at a bad step: the exception names the step (1-based) and the last checkpoint. */
    private TrainingStoppedException stop(long step, String cause) {
      String saved = checkpointStep < 0 ? "no checkpoint written by this run"
          : "the checkpoint in " + o.out() + " is from step " + checkpointStep;
      return new TrainingStoppedException(step + 1, cause + "; " + saved);
    }

    /** Frame features must be finite: a NaN or infinity there poisons the whole window. */
    private void checkFinite(long step, TrainingSet.Chunk c, float[][] frames) {
      for (int f = 0; f < frames.length; f++) {
        for (int x = 0; x < frames[f].length; x++) {
          if (!Float.isFinite(frames[f][x])) {
            throw stop(step, "the frame features of video " + c.videoUid() + " hold " + frames[f][x] + " (frame "
                + (c.from() + f) + ", feature " + x + "); fix or drop that video");
          }
        }
      }
    }

    /** The model's similarities must be finite (finite features and non-finite outputs: the weights diverged). */
    private void checkFinite(long step, TrainingSet.Chunk c, float[] v, float[] s, float[] e) {
      String[] what = {"visual/language embeddings", "start TEs", "end TEs"};
      float[][] all = {v, s, e};
      for (int k = 0; k < all.length; k++) {
        for (float x : all[k]) {
          if (!Float.isFinite(x)) {
            throw stop(step, "the model's " + what[k] + " are " + x + " for video " + c.videoUid() + " from frame "
                + c.from() + " (the weights diverged); lower --lr");
          }
        }
      }
    }

    /** One step of a 64-bit mixing hash (the fingerprint of a step's data). */
    private static long mix(long h, long v) {
      long x = (h ^ v) * 0x9E3779B97F4A7C15L;
      return x ^ (x >>> 31);
    }

    private static int[] subsample(int n, int max, Random rnd) {
      if (n <= max) {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
          all[i] = i;
        }
        return all;
      }
      List<Integer> idx = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        idx.add(i);
      }
      Collections.shuffle(idx, rnd);
      return idx.subList(0, max).stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    private void checkpoint() throws IOException {
      Map<String, Double> m = new LinkedHashMap<>(metrics);
      if (!curve.points().isEmpty()) {
        m.put("loss", curve.points().get(curve.points().size() - 1).loss());
      }
      Map<String, Object> summary = new LinkedHashMap<>(data.summary());
      summary.put("epochs_done", state.epoch());
      summary.put("batch", o.batch());
      summary.put("lr", state.lr());
      summary.put("seed", state.seed());
      CheckpointMetadata meta = new CheckpointMetadata(
          data.encoderId(), data.featureDim(), data.textDim(), data.fps(), summary, state.step(), m);
      model.save(o.out(), meta);
      checkpointStep = state.step();
      Path stateDir = o.out().resolve(STATE_DIR);
      Files.createDirectories(stateDir);
      adam.save(stateDir.resolve("adam.ndlist"));
      JSON.writeValue(stateDir.resolve("state.json").toFile(), state);
      try {
        curve.write();
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
    }
  }
}
