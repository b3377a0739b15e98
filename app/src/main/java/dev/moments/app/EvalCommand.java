package dev.moments.app;

import dev.moments.eval.Baselines;
import dev.moments.eval.CharadesAnnotations;
import dev.moments.eval.CharadesMap;
import dev.moments.eval.CharadesScores;
import dev.moments.eval.NlqMetrics;
import dev.moments.eval.NlqPredictions;
import dev.moments.eval.Reports;
import dev.moments.trainer.ego4d.NlqAnnotations;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moments eval}: offline evaluation with the official Ego4D NLQ / CharadesEgo metrics. */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = "Score models and prediction files with the official NLQ and CharadesEgo metrics.",
    subcommands = {EvalCommand.ScoreNlq.class, EvalCommand.ScoreCharades.class})
final class EvalCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
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
