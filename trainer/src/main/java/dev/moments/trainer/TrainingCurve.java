package dev.moments.trainer;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;

/**
 * The training curve next to the checkpoint: {@code training_curve.csv} ({@code step,loss,lr}),
 * {@code epoch_metrics.csv} (epoch, step, metric, value) when epochs are evaluated, and
 * {@code training_curve.png} (loss per step, with the epoch metrics printed in a legend).
 */
public final class TrainingCurve {
  /** One logged step. */
  public record Point(long step, double loss, double lr) {}

  public static final String CSV = "training_curve.csv";
  public static final String PNG = "training_curve.png";
  public static final String METRICS_CSV = "epoch_metrics.csv";

  private final Path dir;
  private final List<Point> points = new ArrayList<>();
  /** Evaluations by step: the epoch they fell in, and their metrics. */
  private final Map<Long, Map<String, Double>> evalMetrics = new TreeMap<>();
  private final Map<Long, Integer> evalEpochs = new TreeMap<>();

  TrainingCurve(Path dir) {
    this.dir = dir;
  }

  void add(Point p) {
    points.add(p);
  }

  /** Metrics of an evaluation at {@code step} (in {@code epoch}, 1-based). */
  void addEpochMetrics(int epoch, long step, Map<String, Double> metrics) {
    evalMetrics.put(step, new TreeMap<>(metrics));
    evalEpochs.put(step, epoch);
  }

  List<Point> points() {
    return List.copyOf(points);
  }

  /** Reloads the logged steps {@code <= step} of an earlier run (for --resume). */
  void loadUpTo(long step) throws IOException {
    Path csv = dir.resolve(CSV);
    if (!Files.isRegularFile(csv)) {
      return;
    }
    for (String line : Files.readAllLines(csv)) {
      if (line.isBlank() || line.startsWith("step")) {
        continue;
      }
      String[] f = line.split(",");
      Point p = new Point(Long.parseLong(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]));
      if (p.step() <= step) {
        points.add(p);
      }
    }
    Path mcsv = dir.resolve(METRICS_CSV);
    if (Files.isRegularFile(mcsv)) {
      for (String line : Files.readAllLines(mcsv)) {
        if (line.isBlank() || line.startsWith("epoch")) {
          continue;
        }
        String[] f = line.split(",");
        long s = Long.parseLong(f[1]);
        if (s <= step) {
          evalEpochs.put(s, Integer.parseInt(f[0]));
          evalMetrics.computeIfAbsent(s, k -> new TreeMap<>()).put(f[2], Double.parseDouble(f[3]));
        }
      }
    }
  }

  /** Writes the CSV files and the PNG. */
  void write() {
    try {
      StringBuilder sb = new StringBuilder("step,loss,lr\n");
      for (Point p : points) {
        sb.append(p.step()).append(',').append(p.loss()).append(',').append(p.lr()).append('\n');
      }
      Files.writeString(dir.resolve(CSV), sb);
      if (!evalMetrics.isEmpty()) {
        StringBuilder m = new StringBuilder("epoch,step,metric,value\n");
        evalMetrics.forEach((st, ms) -> ms.forEach((k, v) ->
            m.append(evalEpochs.get(st)).append(',').append(st).append(',').append(k).append(',').append(v).append('\n')));
        Files.writeString(dir.resolve(METRICS_CSV), m);
      }
      ImageIO.write(render(points, evalMetrics, 900, 500), "png", dir.resolve(PNG).toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Draws loss against step with labelled axes and ticks and, when evaluations were made, each
   * evaluated metric against step on a 0-100 axis at the right (held-out recall in percent).
   */
  static BufferedImage render(List<Point> points, Map<Long, Map<String, Double>> evalMetrics, int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    int left = 80;
    int right = evalMetrics.isEmpty() ? w - 30 : w - 60;
    int top = 40;
    int bottom = h - 60;
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.drawString("LAVITI training loss", left, 25);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.drawLine(left, bottom, right, bottom);
    g.drawLine(left, top, left, bottom);
    g.drawString("step", (left + right) / 2, h - 15);
    g.rotate(-Math.PI / 2);
    g.drawString("loss", -(top + bottom) / 2, 20);
    g.rotate(Math.PI / 2);
    if (!points.isEmpty()) {
      long s0 = points.get(0).step();
      long s1 = Math.max(s0 + 1, points.get(points.size() - 1).step());
      double lo = points.stream().mapToDouble(Point::loss).min().orElse(0);
      double hi = points.stream().mapToDouble(Point::loss).max().orElse(1);
      if (hi - lo < 1e-9) {
        hi = lo + 1;
      }
      for (int i = 0; i <= 5; i++) {
        // y ticks (loss) and x ticks (step)
        double lv = lo + (hi - lo) * i / 5;
        int y = (int) (bottom - (bottom - top) * (double) i / 5);
        g.drawLine(left - 5, y, left, y);
        g.drawString(String.format(Locale.ROOT, "%.3f", lv), 10, y + 4);
        long sv = s0 + Math.round((s1 - s0) * i / 5.0);
        int x = (int) (left + (right - left) * (double) i / 5);
        g.drawLine(x, bottom, x, bottom + 5);
        g.drawString(Long.toString(sv), x - 10, bottom + 20);
      }
      Path2D line = new Path2D.Double();
      for (int i = 0; i < points.size(); i++) {
        Point p = points.get(i);
        double x = left + (right - left) * (double) (p.step() - s0) / (s1 - s0);
        double y = bottom - (bottom - top) * (p.loss() - lo) / (hi - lo);
        if (i == 0) {
          line.moveTo(x, y);
        } else {
          line.lineTo(x, y);
        }
      }
      g.setColor(new Color(31, 119, 180));
      g.setStroke(new BasicStroke(1.5f));
      g.draw(line);
    }
    if (!evalMetrics.isEmpty() && !points.isEmpty()) {
      long s0 = points.get(0).step();
      long s1 = Math.max(s0 + 1, points.get(points.size() - 1).step());
      g.setColor(Color.BLACK);
      g.drawLine(right, top, right, bottom);
      for (int i = 0; i <= 5; i++) {
        int yy = (int) (bottom - (bottom - top) * (double) i / 5);
        g.drawLine(right, yy, right + 5, yy);
        g.drawString(Integer.toString(20 * i), right + 8, yy + 4);
      }
      g.drawString("%", right + 8, top - 8);
      Color[] colors = {new Color(214, 39, 40), new Color(44, 160, 44), new Color(148, 103, 189),
          new Color(255, 127, 14)};
      java.util.Set<String> names = new java.util.TreeSet<>();
      evalMetrics.values().forEach(m -> names.addAll(m.keySet()));
      int c = 0;
      int ly = top + 15;
      for (String name : names) {
        g.setColor(colors[c++ % colors.length]);
        Path2D path = new Path2D.Double();
        boolean first = true;
        for (Map.Entry<Long, Map<String, Double>> e : evalMetrics.entrySet()) {
          Double v = e.getValue().get(name);
          if (v == null) {
            continue;
          }
          double x = left + (right - left) * (double) (e.getKey() - s0) / (s1 - s0);
          double yv = bottom - (bottom - top) * Math.max(0, Math.min(100, v)) / 100;
          g.fillOval((int) x - 3, (int) yv - 3, 6, 6);
          if (first) {
            path.moveTo(x, yv);
            first = false;
          } else {
            path.lineTo(x, yv);
          }
        }
        g.draw(path);
        Map.Entry<Long, Map<String, Double>> last = null;
        for (Map.Entry<Long, Map<String, Double>> e : evalMetrics.entrySet()) {
          if (e.getValue().containsKey(name)) {
            last = e;
          }
        }
        g.drawString(String.format(Locale.ROOT, "%s (last %.2f at step %d)", name, last.getValue().get(name),
            last.getKey()), right - 330, ly);
        ly += 15;
      }
    }
    g.dispose();
    return img;
  }
}
