package dev.moments.app;

import dev.moments.eval.Baselines;
import dev.moments.eval.CharadesAnnotations;
import dev.moments.eval.CharadesMap;
import dev.moments.eval.CharadesScores;
import dev.moments.eval.NlqMetrics;
import dev.moments.eval.NlqPredictions;
import dev.moments.eval.Reports;
import dev.moments.model.rank.Rankers;
import dev.moments.model.rank.SpanRanker;
import dev.moments.trainer.ego4d.NlqAnnotations;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code moments eval}: offline evaluation with the official Ego4D NLQ / CharadesEgo metrics. */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = "Score models and prediction files with the official NLQ and CharadesEgo metrics.",
    subcommands = {EvalCommand.Nlq.class, EvalCommand.ScoreNlq.class, EvalCommand.Charades.class,
        EvalCommand.ScoreCharades.class})
final class EvalCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** The options every model evaluation shares: features, checkpoint, texts and windows. */
  static final class ModelRun {
    @Option(names = "--features", required = true, paramLabel = "DIR",
        description = "Frame features: {video_uid}.npy + manifest.json.")
    Path features;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "LAVITI checkpoint directory.")
    Path model;

    @Option(names = "--text-embeddings", paramLabel = "NPZ",
        description = "Text embeddings of the queries / class names (texts.npy + embeddings.npy); default: "
            + "encode them with --text-encoder.")
    Path textEmbeddings;

    @Option(names = "--text-encoder", paramLabel = "DIR",
        description = "Text encoder directory (default: the bundled models/tiny-clip).")
    Path textEncoder;

    @Option(names = "--window-sec", paramLabel = "SEC",
        description = "Window length (default: the model's training chunk length, else 600).")
    Double windowSec;

    @Option(names = "--stride-sec", paramLabel = "SEC",
        description = "Window stride over longer clips or videos (default: half the window).")
    Double strideSec;

    /** Loads the checkpoint and checks it reads these features (dimension, encoder id). */
    dev.moments.model.LavitiModel loadModel() throws java.io.IOException {
      dev.moments.featurizer.store.FeatureManifest manifest = dev.moments.featurizer.store.FeatureManifest.read(features);
      dev.moments.model.LavitiModel m = dev.moments.model.LavitiModel.load(model);
      try {
        m.checkCompatible(manifest.encoderId(), manifest.dim());
        return m;
      } catch (RuntimeException e) {
        m.close();
        throw e;
      }
    }

    double window(dev.moments.model.LavitiModel m) {
      return EvalCommand.window(m, windowSec);
    }

    double stride(dev.moments.model.LavitiModel m) {
      return strideSec != null ? strideSec : window(m) / 2;
    }
  }

  /**
   * The text tower for queries / class names: the {@code --text-embeddings} table when given
   * (looked up, {@code TableTextEncoder}), else the {@code --text-encoder} (default: bundled).
   */
  static dev.moments.featurizer.encoder.TextEncoder textEncoder(Path table, Path encoderDir) {
    if (table != null) {
      return new dev.moments.featurizer.encoder.TableTextEncoder(table);
    }
    return dev.moments.featurizer.encoder.Encoders.loadText(
        encoderDir != null ? encoderDir : dev.moments.featurizer.encoder.Encoders.defaultDir());
  }

  /** The window: as given, else the model's training chunk length, else the paper's 600 s. */
  static double window(dev.moments.model.LavitiModel m, Double given) {
    return given != null ? given : m.metadata().trainingChunkSec().orElse(600);
  }


  /** {@code moments eval nlq}: zero-shot NLQ of a LAVITI checkpoint, next to the baselines. */
  @Command(name = "nlq", mixinStandardHelpOptions = true,
      description = "Zero-shot Ego4D NLQ: every query ranked from the same evidence (the clip's frame "
          + "features pooled per second, the model's moments) by four rankers side by side: the model "
          + "alone (LAVITI-only), frame similarity alone (frame-only), both fused (what the served search "
          + "returns) and random intervals, then the fused ranker with the model's weight at 0 (how much of "
          + "the fusion is the frame contrast alone); prints R@{1,3,5} x IoU{0.3,0.5} and mean IoU of each.")
  static final class Nlq implements Callable<Integer> {
    @Option(names = "--annotations", required = true, paramLabel = "FILE", description = "nlq_val.json (official layout).")
    Path annotations;

    @Mixin ModelRun run;

    @Option(names = "--predictions-out", paramLabel = "FILE",
        description = "Write the fused ranker's predictions (the official prediction JSON) here.")
    Path predictionsOut;

    @Option(names = "--json", description = "Print the fused ranker's metrics as one JSON object (percent).")
    boolean json;

    @Option(names = "--hop-sec", paramLabel = "SEC",
        description = "Place windows as the live indexer does over each clip replayed as a stream: ending every "
            + "SEC after its first frame (early ones partial), pending ones and the rest at its end; with "
            + "replay's --hop-sec (default there: the window) this is exactly replay's offline row. Default: "
            + "sliding windows every --stride-sec.")
    Double hopSec;

    @Option(names = "--lateness-sec", paramLabel = "SEC",
        description = "With --hop-sec: the indexer's lateness (default: the indexer's, ${DEFAULT-VALUE}).",
        defaultValue = "10")
    double latenessSec;

    @Option(names = "--copies", paramLabel = "N", defaultValue = "" + dev.moments.model.rank.CentredMoments.DEFAULT_COPIES,
        description = "With --hop-sec: rank the moments the index keeps, each stretch from the N windows nearest it "
            + "(index's and replay's --copies); 0: every moment of every window (default: ${DEFAULT-VALUE}).")
    int copies;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      NlqAnnotations gt = NlqAnnotations.read(annotations);
      Path features = run.features;
      if (hopSec != null && run.strideSec != null) {
        throw new IllegalArgumentException("give --hop-sec (the live indexer's windows) or --stride-sec (sliding "
            + "windows), not both");
      }
      try (dev.moments.model.LavitiModel m = run.loadModel();
          dev.moments.featurizer.encoder.TextEncoder encoder = textEncoder(run.textEmbeddings, run.textEncoder)) {
        dev.moments.eval.QueryText text = dev.moments.eval.QueryText.fromEncoder(encoder);
        double window = run.window(m);
        dev.moments.eval.NlqEvaluator.Options options = hopSec != null
            ? dev.moments.eval.NlqEvaluator.Options.live(window, hopSec, latenessSec, copies, 5, Rankers.NMS_IOU)
            : new dev.moments.eval.NlqEvaluator.Options(window, run.stride(m), 5, Rankers.NMS_IOU);
        java.io.PrintWriter err = spec != null ? spec.commandLine().getErr() : new java.io.PrintWriter(System.err, true);
        err.println(windowsNote(window, run.stride(m), hopSec, latenessSec, copies));
        Map<String, SpanRanker> rankers = new LinkedHashMap<>();
        rankers.put(m.modelId() + " (LAVITI-only)", Rankers.laviti());
        rankers.put("frame-only", Rankers.frames());
        rankers.put(FUSED, Rankers.fused());
        rankers.put("random intervals", Rankers.random(0));
        rankers.put("(fused without LAVITI)", Rankers.fused(0));
        dev.moments.eval.NlqEvaluator.Ranked result = new dev.moments.eval.NlqEvaluator(m, text, options)
            .runRanked(gt, features, rankers);
        List<NlqPredictions.Result> fused = result.predictions().get(FUSED);
        if (predictionsOut != null) {
          NlqPredictions.write(predictionsOut, fused);
        }
        NlqMetrics.Scores scores = NlqMetrics.score(gt, fused);
        if (json) {
          System.out.println(Reports.json(scores.asMap()));
          return 0;
        }
        Map<String, NlqMetrics.Scores> rows = new LinkedHashMap<>();
        for (Map.Entry<String, List<NlqPredictions.Result>> e : result.predictions().entrySet()) {
          rows.put(e.getKey(), NlqMetrics.score(gt, e.getValue()));
        }
        System.out.print(Reports.nlqTable(rows));
        System.out.println(Reports.nlqCounts(scores));
        if (predictionsOut != null) {
          System.out.println("predictions (fused): " + predictionsOut);
        }
        return 0;
      }
    }

    private static final String FUSED = "fused";
  }

  /**
   * What windows and suppression {@code eval nlq} used, and when they differ from {@code replay}'s
   * (the live pipeline's), the flag that makes them the same.
   */
  static String windowsNote(double window, double stride, Double hop, double lateness, int copies) {
    String nms = "";
    if (hop != null) {
      return String.format(java.util.Locale.ROOT, "windows: the live indexer's, %.0f s ending every %.0f s after "
          + "each clip's first frame, lateness %.0f s, each stretch's moments from %s: replay --window-sec %.0f "
          + "--hop-sec %.0f --copies %d runs the same%s",
          window, hop, lateness, dev.moments.model.rank.CentredMoments.describe(copies), window, hop, copies, nms);
    }
    return String.format(java.util.Locale.ROOT, "windows: sliding, %.0f s every %.0f s from each clip's first frame "
        + "plus one aligned to its end; the live indexer (and replay's offline row) ends windows every hop after "
        + "a stream's first frame, early ones partial: --hop-sec HOP gives replay's windows (its default hop: "
        + "the window)%s", window, stride, nms);
  }

  /** {@code moments eval score-nlq}. */
  @Command(name = "score-nlq", mixinStandardHelpOptions = true,
      description = "Score an Ego4D NLQ prediction file (official semantics: IoU strictly above "
          + "the threshold, averaged over the submitted predictions).")
  static final class ScoreNlq implements Callable<Integer> {
    @Option(names = "--annotations", required = true, paramLabel = "FILE",
        description = "nlq_val.json (official layout).")
    Path annotations;

    @Option(names = "--predictions", required = true, paramLabel = "FILE",
        description = "Prediction JSON (version 1.0, ego4d_nlq_challenge).")
    Path predictions;

    @Option(names = "--json", description = "Print the metrics as one JSON object (percent).")
    boolean json;

    @Option(names = "--seed", defaultValue = "0",
        description = "Seed of the random-interval baseline (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
      NlqAnnotations gt = NlqAnnotations.read(annotations);
      List<NlqPredictions.Result> preds = NlqPredictions.read(predictions);
      NlqMetrics.Scores scores = NlqMetrics.score(gt, preds);
      if (json) {
        System.out.println(Reports.json(scores.asMap()));
        return 0;
      }
      Map<String, NlqMetrics.Scores> rows = new LinkedHashMap<>();
      rows.put("predictions", scores);
      int k = preds.stream().mapToInt(p -> p.predictedTimes().size()).max().orElse(5);
      rows.put("random intervals", NlqMetrics.score(gt, Baselines.randomIntervals(gt, k, seed)));
      System.out.print(Reports.nlqTable(rows));
      System.out.println(Reports.nlqCounts(scores));
      return 0;
    }
  }

  /** {@code moments eval charades}: zero-shot CharadesEgo of a LAVITI checkpoint. */
  @Command(name = "charades", mixinStandardHelpOptions = true,
      description = "Zero-shot CharadesEgo of a model: per video, the mean similarity of its moments with each "
          + "class name; writes the score CSV and prints video-level mAP next to the random-score and "
          + "frame-similarity baselines.")
  static final class Charades implements Callable<Integer> {
    @Option(names = "--annotations", required = true, paramLabel = "CSV",
        description = "CharadesEgo annotation CSV (id, ..., actions, length).")
    Path annotations;

    @Option(names = "--classes", required = true, paramLabel = "TXT", description = "Charades_v1_classes.txt.")
    Path classes;

    @Mixin ModelRun run;

    @Option(names = "--scores-out", paramLabel = "FILE", description = "Write the score CSV (id,c000,...) here.")
    Path scoresOut;

    @Option(names = "--json", description = "Print the model's metrics as one JSON object (percent).")
    boolean json;

    @Override
    public Integer call() throws Exception {
      CharadesAnnotations gt = CharadesAnnotations.read(annotations, classes);
      Path features = run.features;
      try (dev.moments.model.LavitiModel m = run.loadModel();
          dev.moments.featurizer.encoder.TextEncoder encoder = textEncoder(run.textEmbeddings, run.textEncoder)) {
        dev.moments.eval.QueryText text = dev.moments.eval.QueryText.fromEncoder(encoder);
        Map<String, double[]> modelScores =
            new dev.moments.eval.CharadesEvaluator(m, text, run.window(m), run.stride(m)).scores(gt, features);
        List<String> ids = gt.classes().stream().map(CharadesAnnotations.ChClass::id).toList();
        if (scoresOut != null) {
          CharadesScores.write(scoresOut, ids, modelScores);
        }
        CharadesMap.Result r = CharadesMap.compute(gt, modelScores);
        if (json) {
          System.out.println(Reports.json(r.asMap()));
          return 0;
        }
        Map<String, CharadesMap.Result> rows = new LinkedHashMap<>();
        rows.put(m.modelId(), r);
        rows.put("random scores", CharadesMap.compute(gt, Baselines.randomScores(gt, 0)));
        rows.put("frame similarity", CharadesMap.compute(gt, Baselines.frameSimilarityScores(gt, features, text)));
        System.out.print(Reports.charadesTable(rows));
        System.out.println(Reports.charadesCounts(r));
        if (scoresOut != null) {
          System.out.println("scores: " + scoresOut);
        }
        return 0;
      }
    }
  }

  /** {@code moments eval score-charades}. */
  @Command(name = "score-charades", mixinStandardHelpOptions = true,
      description = "Score a CharadesEgo score CSV (id,c000,...,c156) with video-level mAP "
          + "(LaViLa/EgoVLP charades_map).")
  static final class ScoreCharades implements Callable<Integer> {
    @Option(names = "--annotations", required = true, paramLabel = "CSV",
        description = "CharadesEgo annotation CSV (id, ..., actions, length).")
    Path annotations;

    @Option(names = "--classes", required = true, paramLabel = "TXT",
        description = "Charades_v1_classes.txt.")
    Path classes;

    @Option(names = "--scores", required = true, paramLabel = "CSV", description = "Score CSV.")
    Path scores;

    @Option(names = "--json", description = "Print the metrics as one JSON object (percent).")
    boolean json;

    @Option(names = "--seed", defaultValue = "0",
        description = "Seed of the random-score baseline (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
      CharadesAnnotations gt = CharadesAnnotations.read(annotations, classes);
      List<String> ids = gt.classes().stream().map(CharadesAnnotations.ChClass::id).toList();
      CharadesMap.Result r = CharadesMap.compute(gt, CharadesScores.read(scores, ids));
      if (json) {
        System.out.println(Reports.json(r.asMap()));
        return 0;
      }
      Map<String, CharadesMap.Result> rows = new LinkedHashMap<>();
      rows.put("scores", r);
      rows.put("random scores", CharadesMap.compute(gt, Baselines.randomScores(gt, seed)));
      System.out.print(Reports.charadesTable(rows));
      System.out.println(Reports.charadesCounts(r));
      return 0;
    }
  }
}
