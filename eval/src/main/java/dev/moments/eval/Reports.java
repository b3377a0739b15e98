package dev.moments.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Locale;
import java.util.Map;

/** Human-readable tables and the one-line JSON of the eval commands. */
public final class Reports {
  /** LAVITI zero-shot NLQ (paper): R@1/R@5 at IoU 0.3 and 0.5, percent. */
  public static final double PAPER_R1_03 = 2.50;
  public static final double PAPER_R5_03 = 8.52;
  public static final double PAPER_R1_05 = 1.08;
  public static final double PAPER_R5_05 = 3.36;
  /** LAVITI CharadesEgo mAP (paper), zero-shot and fine-tuned, percent. */
  public static final double PAPER_CHARADES_ZS = 34.5;
  public static final double PAPER_CHARADES_FT = 38.0;

  private static final ObjectMapper JSON = new ObjectMapper();

  private Reports() {}

  /** One JSON object on one line (numbers at full precision). */
  public static String json(Map<String, Object> metrics) {
    try {
      return JSON.writeValueAsString(metrics);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The NLQ table: one row per scored predictor, then the paper's figures. */
  public static String nlqTable(Map<String, NlqMetrics.Scores> rows) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-34s %8s %8s %8s %8s %8s %8s %8s%n", "",
        "R@1 0.3", "R@3 0.3", "R@5 0.3", "R@1 0.5", "R@3 0.5", "R@5 0.5", "mIoU"));
    for (Map.Entry<String, NlqMetrics.Scores> e : rows.entrySet()) {
      NlqMetrics.Scores s = e.getValue();
      sb.append(String.format(Locale.ROOT, "%-34s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f%n",
          e.getKey(), 100 * s.recall(1, 0.3), 100 * s.recall(3, 0.3), 100 * s.recall(5, 0.3),
          100 * s.recall(1, 0.5), 100 * s.recall(3, 0.5), 100 * s.recall(5, 0.5), 100 * s.meanIou()));
    }
    sb.append(String.format(Locale.ROOT, "%-34s %8.2f %8s %8.2f %8.2f %8s %8.2f %8s%n",
        "paper (LAVITI, ZS)", PAPER_R1_03, "-", PAPER_R5_03, PAPER_R1_05, "-", PAPER_R5_05, "-"));
    return sb.toString();
  }

  /** The counts line under an NLQ table. */
  public static String nlqCounts(NlqMetrics.Scores s) {
    return String.format(Locale.ROOT,
        "evaluated %d predictions; %d ground-truth queries, %d without a prediction, %d skipped "
            + "for a missing query text",
        s.evaluated(), s.groundTruthQueries(), s.withoutPrediction(), s.missingQueryText());
  }

  /** The CharadesEgo table: one row per scored predictor, then the paper's figures. */
  public static String charadesTable(Map<String, CharadesMap.Result> rows) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-34s %8s%n", "", "mAP"));
    for (Map.Entry<String, CharadesMap.Result> e : rows.entrySet()) {
      sb.append(String.format(Locale.ROOT, "%-34s %8.2f%n", e.getKey(), 100 * e.getValue().map()));
    }
    sb.append(String.format(Locale.ROOT, "%-34s %8.2f%n", "paper (LAVITI, ZS)", PAPER_CHARADES_ZS));
    sb.append(String.format(Locale.ROOT, "%-34s %8.2f%n", "paper (LAVITI, FT)", PAPER_CHARADES_FT));
    return sb.toString();
  }

  /** The counts line under a CharadesEgo table. */
  public static String charadesCounts(CharadesMap.Result r) {
    return String.format(Locale.ROOT,
        "%d videos (%d without a label, scored -inf); %d classes scored, %d without a positive "
            + "excluded%s",
        r.videos(), r.videosWithoutLabel(), r.ap().length - r.excluded().size(), r.excluded().size(),
        r.excluded().isEmpty() ? "" : " (" + String.join(", ", r.excluded().subList(0,
            Math.min(10, r.excluded().size()))) + (r.excluded().size() > 10 ? ", ..." : "") + ")");
  }
}
