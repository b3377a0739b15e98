package dev.moments.eval;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CharadesEgo annotations (DESIGN §5): the classes of {@code Charades_v1_classes.txt} ({@code c000
 * Holding some clothes}, one per line) and the video-level labels of a CharadesEgo CSV (columns
 * {@code id, ..., actions, length}; {@code actions} is {@code c092 11.90 21.20;c147 0.00 12.60} or
 * empty). A video's labels are the classes named in its actions.
 */
public final class CharadesAnnotations {
  /** One class: its id ({@code c000}) and name. */
  public record ChClass(String id, String name) {}

  private final List<ChClass> classes;
  private final Map<String, Set<Integer>> labels;

  private CharadesAnnotations(List<ChClass> classes, Map<String, Set<Integer>> labels) {
    this.classes = List.copyOf(classes);
    this.labels = Collections.unmodifiableMap(labels);
  }

  /**
   * Reads the classes file and the annotation CSV.
   *
   * @throws IllegalArgumentException on a missing file, a CSV without {@code id}/{@code actions}
   *     columns, or an action naming a class the classes file lacks
   */
  public static CharadesAnnotations read(Path csv, Path classesFile) throws IOException {
    List<ChClass> classes = readClasses(classesFile);
    Map<String, Integer> classIndex = new HashMap<>();
    for (int i = 0; i < classes.size(); i++) {
      classIndex.put(classes.get(i).id(), i);
    }
    List<String> lines = lines(csv, "CharadesEgo annotations");
    if (lines.isEmpty()) {
      throw new IllegalArgumentException(csv + ": empty CSV (expected a header with id and actions)");
    }
    List<String> header = Csv.split(stripBom(lines.get(0)));
    int id = header.indexOf("id");
    int actions = header.indexOf("actions");
    if (id < 0 || actions < 0) {
      throw new IllegalArgumentException(csv + ": header must have \"id\" and \"actions\" columns, got " + header);
    }
    Map<String, Set<Integer>> labels = new LinkedHashMap<>();
    for (int ln = 1; ln < lines.size(); ln++) {
      String line = lines.get(ln);
      if (line.isBlank()) {
        continue;
      }
      List<String> cells = Csv.split(line);
      if (cells.size() <= Math.max(id, actions)) {
        throw new IllegalArgumentException(csv + ":" + (ln + 1) + ": expected " + header.size()
            + " cells, got " + cells.size());
      }
      Set<Integer> set = new LinkedHashSet<>();
      String acts = cells.get(actions).strip();
      if (!acts.isEmpty()) {
        for (String a : acts.split(";")) {
          String[] parts = a.strip().split("\\s+");
          if (parts.length != 3) {
            throw new IllegalArgumentException(csv + ":" + (ln + 1) + ": action \"" + a
                + "\" is not \"cNNN start end\"");
          }
          Integer c = classIndex.get(parts[0]);
          if (c == null) {
            throw new IllegalArgumentException(csv + ":" + (ln + 1) + ": action class " + parts[0]
                + " is not in " + classesFile);
          }
          set.add(c);
        }
      }
      if (labels.put(cells.get(id), Collections.unmodifiableSet(set)) != null) {
        throw new IllegalArgumentException(csv + ":" + (ln + 1) + ": video " + cells.get(id) + " appears twice");
      }
    }
    return new CharadesAnnotations(classes, labels);
  }

  /** Builds annotations in memory (tests, synthetic data). */
  public static CharadesAnnotations of(List<ChClass> classes, Map<String, Set<Integer>> labels) {
    return new CharadesAnnotations(classes, new LinkedHashMap<>(labels));
  }

  static List<ChClass> readClasses(Path file) throws IOException {
    List<ChClass> out = new ArrayList<>();
    int ln = 0;
    for (String line : lines(file, "classes")) {
      ln++;
      String s = stripBom(line).strip();
      if (s.isEmpty()) {
        continue;
      }
      int sp = s.indexOf(' ');
      if (sp <= 0 || !s.substring(0, sp).matches("c\\d{3}")) {
        throw new IllegalArgumentException(file + ":" + ln + ": expected \"cNNN class name\", got \"" + s + "\"");
      }
      out.add(new ChClass(s.substring(0, sp), s.substring(sp + 1).strip()));
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(file + ": no classes");
    }
    return out;
  }

  private static List<String> lines(Path file, String what) throws IOException {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(what + " file not found: " + file, e);
    }
  }

  private static String stripBom(String s) {
    return s.startsWith("\uFEFF") ? s.substring(1) : s;
  }

  /** Classes in file order. */
  public List<ChClass> classes() {
    return classes;
  }

  /** Video id -> indexes into {@link #classes()} of its labels (empty set: no label), CSV order. */
  public Map<String, Set<Integer>> labels() {
    return labels;
  }
}
