package dev.moments.eval;

import dev.moments.model.MomentPredictor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Zero-shot CharadesEgo with a moment model (DESIGN §4): per video, the model runs over all of its
 * frame features (windows as in {@link WindowedMoments}); a class's score is the average over the
 * video's moments of cosine(class-name text embedding, moment embedding).
 */
public final class CharadesEvaluator {
  private final WindowedMoments windows;
  private final QueryText text;

  public CharadesEvaluator(MomentPredictor predictor, QueryText text, double windowSec, double strideSec) {
    this.windows = new WindowedMoments(predictor, windowSec, strideSec);
    this.text = text;
  }

  /**
   * Scores every annotated video.
   *
   * @throws IllegalArgumentException when an annotated video has no feature file
   */
  public Map<String, double[]> scores(CharadesAnnotations gt, Path featuresDir) throws IOException {
    FeatureSpans features = new FeatureSpans(featuresDir);
    float[][] classes = classEmbeddings(gt, text);
    Map<String, double[]> out = new LinkedHashMap<>();
    for (String v : gt.labels().keySet()) {
      float[][] frames = features.span(v, 0, Double.POSITIVE_INFINITY);
      if (frames == null) {
        throw new IllegalArgumentException("no features for CharadesEgo video " + v + " in " + featuresDir);
      }
      List<WindowedMoments.Moment> moments = windows.run(frames, features.fps());
      double[] s = new double[classes.length];
      for (WindowedMoments.Moment m : moments) {
        for (int c = 0; c < classes.length; c++) {
          s[c] += Vectors.cosine(classes[c], m.embedding());
        }
      }
      for (int c = 0; c < s.length; c++) {
        s[c] = moments.isEmpty() ? Double.NEGATIVE_INFINITY : s[c] / moments.size();
      }
      out.put(v, s);
    }
    return out;
  }

  static float[][] classEmbeddings(CharadesAnnotations gt, QueryText text) {
    float[][] out = new float[gt.classes().size()][];
    for (int c = 0; c < out.length; c++) {
      out[c] = text.embed(gt.classes().get(c).name());
    }
    return out;
  }
}
