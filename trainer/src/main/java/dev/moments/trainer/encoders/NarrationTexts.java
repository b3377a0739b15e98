package dev.moments.trainer.encoders;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The texts the pocket encoders are trained on: Ego4D narrations, cleaned of their tags
 * ({@code "#C C puts the keys on the shelf"} becomes {@code "C puts the keys on the shelf"}),
 * plus question paraphrases for put-down narrations ({@code "where did I put the keys"}), so that
 * a question lands near the frames that answer it.
 */
public final class NarrationTexts {
  private static final Pattern PUT = Pattern.compile(
      "^c (?:puts|places|keeps|drops|leaves|sets) (?:the |a |an |his |her |some )?(.+?) "
          + "(?:on|in|into|onto|inside|at|under) (?:the |a |an )?(.+)$");

  private NarrationTexts() {}

  /** One narration: video, time, cleaned text. */
  public record Narration(String videoUid, double timeSec, String text) {}

  /**
   * Reads every narration (all passes) of an Ego4D {@code narration.json}, cleaned, sorted by
   * time per video; empty texts are dropped.
   *
   * @throws IllegalArgumentException when the file is missing or has no narration at all
   */
  public static Map<String, List<Narration>> read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("no narration file " + file);
    }
    JsonNode root = new ObjectMapper().readTree(file.toFile());
    Map<String, List<Narration>> out = new LinkedHashMap<>();
    int n = 0;
    for (var video : (Iterable<Map.Entry<String, JsonNode>>) root::fields) {
      List<Narration> list = new ArrayList<>();
      for (var pass : (Iterable<Map.Entry<String, JsonNode>>) video.getValue()::fields) {
        if (!pass.getKey().startsWith("narration_pass")) {
          continue;
        }
        for (JsonNode nar : pass.getValue().path("narrations")) {
          String text = clean(nar.path("narration_text").asText(""));
          if (!text.isEmpty() && nar.has("timestamp_sec")) {
            list.add(new Narration(video.getKey(), nar.get("timestamp_sec").asDouble(), text));
          }
        }
      }
      list.sort(Comparator.comparingDouble(Narration::timeSec));
      n += list.size();
      out.put(video.getKey(), List.copyOf(list));
    }
    if (n == 0) {
      throw new IllegalArgumentException("no narrations in " + file);
    }
    return out;
  }

  /** {@code "#C C opens the door #unsure"} -> {@code "C opens the door"}. */
  public static String clean(String raw) {
    StringBuilder b = new StringBuilder();
    for (String w : raw.trim().split("\\s+")) {
      if (!w.startsWith("#") && !w.isEmpty()) {
        if (!b.isEmpty()) {
          b.append(' ');
        }
        b.append(w);
      }
    }
    return b.toString();
  }

  /**
   * The texts that describe a narrated moment: the narration itself and, for a put-down, the
   * questions it answers ("where did I put the X", "where did I leave the X", "where is the X").
   */
  public static Set<String> textsFor(String cleaned) {
    Set<String> out = new LinkedHashSet<>();
    out.add(cleaned);
    Matcher m = PUT.matcher(cleaned.toLowerCase(Locale.ROOT));
    if (m.matches()) {
      String x = m.group(1);
      out.add("where did I put the " + x);
      out.add("where did I leave the " + x);
      out.add("where is the " + x);
    }
    return out;
  }
}
