package dev.moments.world;

import dev.moments.featurizer.pocket.PocketEncoders;
import dev.moments.world.Scene.Kind;
import dev.moments.world.Scene.SceneEvent;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.Java2DFrameConverter;

/**
 * Scores "where did I put the X?" against every decoded frame of a rendered world: per item,
 * the precision of the top R frames where R is the number of frames inside X's put-down
 * intervals (R-precision), next to chance (R / all frames).
 */
final class PutRetrieval {
  record ItemScore(Item item, int relevant, double precision, double chance) {}

  static List<ItemScore> evaluate(Path worldDir, List<Scene> scenes, Path encoderDir) throws Exception {
    List<BufferedImage> frames = new ArrayList<>();
    List<double[]> at = new ArrayList<>(); // {scene index, time}
    for (int s = 0; s < scenes.size(); s++) {
      try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(worldDir.resolve(scenes.get(s).videoUid() + ".mp4").toFile());
          Java2DFrameConverter c = new Java2DFrameConverter()) {
        g.start();
        Frame f;
        while ((f = g.grabImage()) != null) {
          BufferedImage src = c.convert(f);
          BufferedImage copy = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
          copy.getGraphics().drawImage(src, 0, 0, null);
          frames.add(copy);
          at.add(new double[] {s, g.getTimestamp() / 1e6});
        }
      }
    }
    List<ItemScore> out = new ArrayList<>();
    try (PocketEncoders.Pair enc = PocketEncoders.load(encoderDir)) {
      float[][] img = enc.image().encode(frames);
      for (Item item : Item.values()) {
        boolean[] positive = new boolean[frames.size()];
        int npos = 0;
        for (int i = 0; i < frames.size(); i++) {
          Scene sc = scenes.get((int) at.get(i)[0]);
          double t = at.get(i)[1];
          for (SceneEvent e : sc.events()) {
            if (e.kind() == Kind.PUT_DOWN && e.item() == item && t >= e.startSec() && t <= e.endSec()) {
              positive[i] = true;
            }
          }
          npos += positive[i] ? 1 : 0;
        }
        if (npos == 0) {
          continue;
        }
        float[] q = enc.text().encode("where did I put the " + item.word() + "?");
        Integer[] order = new Integer[frames.size()];
        for (int i = 0; i < order.length; i++) {
          order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> -dot(img[i], q)));
        int hits = 0;
        for (int k = 0; k < npos; k++) {
          hits += positive[order[k]] ? 1 : 0;
        }
        ItemScore score = new ItemScore(item, npos, (double) hits / npos, (double) npos / frames.size());
        System.out.printf("%s: R-precision %.2f over %d frames (chance %.3f)%n", item.word(), score.precision(),
            npos, score.chance());
        out.add(score);
      }
    }
    return out;
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  private PutRetrieval() {}
}
