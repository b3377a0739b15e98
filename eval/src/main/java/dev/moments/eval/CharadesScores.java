package dev.moments.eval;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CharadesEgo score file (DESIGN §6): CSV with header {@code id,c000,c001,...}, one row per
 * video, one score per class; {@code -inf} allowed (also {@code inf}, {@code nan} as numpy writes
 * them).
 */
public final class CharadesScores {
  private CharadesScores() {}

  /** Writes {@code scores} (video id -> one score per class, in {@code classIds} order). */
  public static void write(Path file, List<String> classIds, Map<String, double[]> scores) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      w.write("id," + String.join(",", classIds) + "\n");
      for (Map.Entry<String, double[]> e : scores.entrySet()) {
        if (e.getValue().length != classIds.size()) {
          throw new IllegalArgumentException("video " + e.getKey() + " has " + e.getValue().length
              + " scores for " + classIds.size() + " classes");
        }
        StringBuilder sb = new StringBuilder(e.getKey());
        for (double v : e.getValue()) {
          sb.append(',').append(format(v));
        }
        w.write(sb.append('\n').toString());
      }
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static String format(double v) {
    if (v == Double.NEGATIVE_INFINITY) {
      return "-inf";
    }
    if (v == Double.POSITIVE_INFINITY) {
      return "inf";
    }
    return Double.isNaN(v) ? "nan" : Double.toString(v);
  }

  /**
   * Reads a score file; its class columns must be exactly {@code classIds} in order.
   *
   * @throws IllegalArgumentException on a missing file, other class columns, a short row or a cell
   *     that is not a number
   */
  public static Map<String, double[]> read(Path file, List<String> classIds) throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("scores file not found: " + file, e);
    }
    if (lines.isEmpty()) {
      throw new IllegalArgumentException(file + ": empty (expected header id,c000,...)");
    }
    List<String> header = Csv.split(lines.get(0).replace("\uFEFF", "").strip());
    if (!header.get(0).equals("id") || !header.subList(1, header.size()).equals(classIds)) {
      throw new IllegalArgumentException(file + ": header must be id followed by the " + classIds.size()
          + " class ids of the classes file in order (" + classIds.get(0) + ", ...), got "
          + (header.size() > 4 ? header.subList(0, 4) + "..." : header));
    }
    Map<String, double[]> out = new LinkedHashMap<>();
    for (int ln = 1; ln < lines.size(); ln++) {
      String line = lines.get(ln).strip();
      if (line.isEmpty()) {
        continue;
      }
      List<String> cells = Csv.split(line);
      if (cells.size() != header.size()) {
        throw new IllegalArgumentException(file + ":" + (ln + 1) + ": expected " + header.size()
            + " cells, got " + cells.size());
      }
      double[] v = new double[classIds.size()];
      for (int c = 0; c < v.length; c++) {
        v[c] = parse(file, ln + 1, cells.get(c + 1));
      }
      if (out.put(cells.get(0), v) != null) {
        throw new IllegalArgumentException(file + ":" + (ln + 1) + ": video " + cells.get(0) + " appears twice");
      }
    }
    return out;
  }

  private static double parse(Path file, int line, String s) {
    String t = s.strip().toLowerCase(java.util.Locale.ROOT);
    switch (t) {
      case "-inf", "-infinity" -> {
        return Double.NEGATIVE_INFINITY;
      }
      case "inf", "+inf", "infinity" -> {
        return Double.POSITIVE_INFINITY;
      }
      case "nan" -> {
        return Double.NaN;
      }
      default -> {
        try {
          return Double.parseDouble(t);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(file + ":" + line + ": \"" + s + "\" is not a score", e);
        }
      }
    }
  }
}
