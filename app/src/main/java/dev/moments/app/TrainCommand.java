package dev.moments.app;

import dev.moments.eval.Baselines;
import dev.moments.eval.NlqEvaluator;
import dev.moments.eval.NlqMetrics;
import dev.moments.eval.QueryText;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.featurizer.store.TextEmbeddings;
import dev.moments.model.LavitiConfig;
import dev.moments.trainer.LavitiTrainer;
import dev.moments.trainer.TimedText;
import dev.moments.trainer.TrainingSet;
import dev.moments.trainer.ego4d.Narration;
import dev.moments.trainer.ego4d.NlqAnnotations;
import dev.moments.trainer.ego4d.Narrations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moments train}: pre-train LAVITI on narrations and frame features. */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Pre-train a LAVITI model on Ego4D-format narrations and frame features; checkpoints "
        + "each epoch and at the end, with the loss curve as CSV and PNG next to it.",
    subcommands = {TrainEncodersCommand.class})
final class TrainCommand implements Callable<Integer> {
  @Option(names = "--narrations", required = true, paramLabel = "FILE", description = "Ego4D narration.json.")
  Path narrations;

  @Option(names = "--features", required = true, paramLabel = "DIR", description = "{video_uid}.npy + manifest.json.")
  Path features;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Checkpoint directory.")
  Path out;

  @Option(names = "--text-embeddings", paramLabel = "NPZ",
      description = "Narration text embeddings (texts.npy + embeddings.npy); default: encode with --text-encoder.")
  Path textEmbeddings;

  @Option(names = "--text-encoder", paramLabel = "DIR",
      description = "Text encoder for the narrations (default: the bundled models/tiny-clip); the table is "
          + "cached as OUT/text_embeddings.npz.")
  Path textEncoder;

  @Option(names = "--config", defaultValue = "paper", paramLabel = "tiny|small|paper|FILE",
      description = "Model size: tiny, small, paper (DESIGN §4) or a config JSON (default: ${DEFAULT-VALUE}).")
  String config;

  @Option(names = "--epochs", defaultValue = "20", description = "Epochs (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--steps", defaultValue = "0", paramLabel = "N",
      description = "Budget the run in optimizer steps: as many epochs as N steps take, the learning-rate schedule "
          + "spanning them (instead of --epochs); 0 = use --epochs (default: ${DEFAULT-VALUE}).")
  long steps;

  @Option(names = "--max-steps", defaultValue = "0", description = "Stop after this many steps; 0 = no limit.")
  long maxSteps;

  @Option(names = "--batch", defaultValue = "8", description = "Chunks per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--lr", defaultValue = "1e-4", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--chunk-sec", defaultValue = "600", description = "Chunk length in seconds (default: ${DEFAULT-VALUE}).")
  double chunkSec;

  @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--eval-nlq", paramLabel = "FILE",
      description = "Held-out NLQ annotations (nlq_val.json) over --features: R@1/R@5 at IoU 0.3 of the model as it "
          + "trains, every --eval-every steps, printed and kept in epoch_metrics.csv and training_curve.png.")
  Path evalNlq;

  @Option(names = "--eval-every", defaultValue = "0", paramLabel = "STEPS",
      description = "Steps between --eval-nlq evaluations; 0 = ten over the run (default: ${DEFAULT-VALUE}).")
  long evalEvery;

  @Option(names = "--resume", description = "Continue the run saved in --out exactly where it stopped.")
  boolean resume;

  @Override
  public Integer call() throws Exception {
    Map<String, List<TimedText>> timed = Narrations.read(narrations).timedByVideo();
    Set<String> texts = new LinkedHashSet<>();
    timed.values().forEach(list -> list.forEach(t -> texts.add(t.text())));
    if (texts.isEmpty()) {
      throw new IllegalArgumentException(narrations + " has no usable narration");
    }
    TextEmbeddings table = textTable(texts);
    TrainingSet data = TrainingSet.open(features, timed, table::get, chunkSec);
    if (data.chunks().isEmpty()) {
      throw new IllegalArgumentException("no narrated video of " + narrations + " has features in " + features);
    }
    LavitiConfig cfg = switch (config) {
      case "tiny" -> LavitiConfig.tiny(data.featureDim(), data.textDim());
      case "small" -> LavitiConfig.small(data.featureDim(), data.textDim());
      case "paper" -> LavitiConfig.paper(data.featureDim(), data.textDim());
      default -> LavitiConfig.read(Path.of(config));
    };
    if (cfg.featureDim() != data.featureDim() || cfg.textDim() != data.textDim()) {
      throw new IllegalArgumentException("config expects features of dim " + cfg.featureDim() + " and text of dim "
          + cfg.textDim() + ", the data has " + data.featureDim() + " and " + data.textDim());
    }
    long perEpoch = (data.chunks().size() + batch - 1) / batch;
    int runEpochs = steps > 0 ? (int) Math.min(Integer.MAX_VALUE, (steps + perEpoch - 1) / perEpoch) : epochs;
    long stopAt = steps > 0 ? (maxSteps > 0 ? Math.min(steps, maxSteps) : steps) : maxSteps;
    LavitiTrainer.Options o = LavitiTrainer.Options.defaults(out).withEpochs(runEpochs).withBatch(batch).withLr(lr)
        .withSeed(seed).withResume(resume).withProgress(true);
    if (stopAt > 0) {
      o = o.withMaxSteps(stopAt);
    }
    long planned = Math.min((long) runEpochs * perEpoch, stopAt > 0 ? stopAt : Long.MAX_VALUE);
    if (steps > 0) {
      System.err.printf(Locale.ROOT, "budget: %d steps = %d epochs of %d steps (%d chunks, batch %d)%n", planned,
          runEpochs, perEpoch, data.chunks().size(), batch);
    }
    if (planned < 500) {
      System.err.printf(Locale.ROOT, "note: %d optimizer steps planned (%d epochs x %d steps of %d chunks); small "
          + "datasets need more: budget the run in steps with --steps N, and check the verdict at the end and %s%n",
          planned, runEpochs, perEpoch, batch, out.resolve("training_curve.png"));
    }
    LavitiTrainer.Result r;
    if (evalNlq != null) {
      NlqAnnotations gt = NlqAnnotations.read(evalNlq);
      try (TextEncoder encoder = EvalCommand.textEncoder(textEmbeddings, textEncoder)) {
        QueryText text = QueryText.fromEncoder(encoder);
        NlqMetrics.Scores frames = NlqMetrics.score(gt, Baselines.frameSimilarity(gt, features, text, 5));
        System.out.printf(Locale.ROOT, "held-out NLQ (%s, %d queries): frame similarity R@1 %.2f R@5 %.2f "
            + "(IoU 0.3); the model's below as it trains%n", evalNlq, gt.queries().size(),
            100 * frames.recall(1, 0.3), 100 * frames.recall(5, 0.3));
        LavitiTrainer.EpochListener listener = new LavitiTrainer.EpochListener() {
          @Override
          public Map<String, Double> onEpochEnd(int epoch, dev.moments.model.LavitiModel model) {
            return onEvaluation(epoch, -1, model);
          }

          @Override
          public Map<String, Double> onEvaluation(int epoch, long step, dev.moments.model.LavitiModel model) {
            try {
              NlqMetrics.Scores s = NlqMetrics.score(gt, new NlqEvaluator(model, text,
                  new NlqEvaluator.Options(chunkSec, chunkSec / 2, 5, 0.95)).run(gt, features).predictions());
              Map<String, Double> m = new LinkedHashMap<>();
              m.put("heldout_R@1_IoU0.3", 100 * s.recall(1, 0.3));
              m.put("heldout_R@5_IoU0.3", 100 * s.recall(5, 0.3));
              System.out.printf(Locale.ROOT, "%nheld-out NLQ at step %d (epoch %d): R@1 %.2f R@5 %.2f (IoU 0.3)%n",
                  step, epoch, m.get("heldout_R@1_IoU0.3"), m.get("heldout_R@5_IoU0.3"));
              return m;
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          }
        };
        r = LavitiTrainer.train(data, cfg, o.withEvalEvery(evalEvery > 0 ? evalEvery : -1), listener, System.err);
      }
    } else {
      r = LavitiTrainer.train(data, cfg, o, null, System.err);
    }
    System.out.printf(Locale.ROOT, "trained %d steps on %d chunks; loss %.4f -> %.4f; checkpoint %s%n",
        r.steps(), data.chunks().size(), r.meanLoss(true, 5), r.meanLoss(false, 5), r.checkpoint());
    System.out.println(verdict(r.curve()));
    return 0;
  }

  /**
   * Whether the loss still falls at the end: the mean of the last tenth of the steps (at least 5)
   * against the tenth before it; more than 3 % lower says more steps would likely help.
   */
  static String verdict(List<dev.moments.trainer.TrainingCurve.Point> curve) {
    int n = curve.size();
    int w = Math.max(5, n / 10);
    if (n < 2 * w) {
      return "convergence: too few steps to tell (" + n + ")";
    }
    double last = curve.subList(n - w, n).stream().mapToDouble(p -> p.loss()).average().orElseThrow();
    double prev = curve.subList(n - 2 * w, n - w).stream().mapToDouble(p -> p.loss()).average().orElseThrow();
    double drop = (prev - last) / Math.abs(prev);
    if (drop > 0.03) {
      return String.format(Locale.ROOT, "convergence: NOT converged, the loss still fell %.1f%% over the last %d steps "
          + "(mean %.4f -> %.4f): more steps would likely help (--steps)", 100 * drop, w, prev, last);
    }
    return String.format(Locale.ROOT, "convergence: the loss is flat over the last %d steps (mean %.4f -> %.4f, "
        + "%+.1f%%)", w, prev, last, -100 * drop);
  }

  private TextEmbeddings textTable(Set<String> texts) throws Exception {
    if (textEmbeddings != null) {
      TextEmbeddings t = TextEmbeddings.read(textEmbeddings);
      long missing = texts.stream().filter(x -> t.get(x) == null).count();
      if (missing > 0) {
        System.err.println("warning: " + missing + " of " + texts.size() + " narration texts have no embedding in "
            + textEmbeddings + "; those narrations are left out");
      }
      return t;
    }
    Path cache = out.resolve("text_embeddings.npz");
    if (Files.exists(cache)) {
      TextEmbeddings t = TextEmbeddings.read(cache);
      if (t.texts().containsAll(texts)) {
        return t;
      }
    }
    try (TextEncoder enc = Encoders.loadText(textEncoder != null ? textEncoder : Encoders.defaultDir())) {
      List<String> list = List.copyOf(texts);
      Map<String, float[]> table = new LinkedHashMap<>();
      for (int i = 0; i < list.size(); i += 256) {
        List<String> part = list.subList(i, Math.min(list.size(), i + 256));
        float[][] v = enc.encode(part);
        for (int j = 0; j < part.size(); j++) {
          table.put(part.get(j), v[j]);
        }
      }
      Files.createDirectories(out);
      TextEmbeddings.write(cache, table);
      return TextEmbeddings.read(cache);
    }
  }
}
