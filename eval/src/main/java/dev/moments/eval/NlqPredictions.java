package dev.moments.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moments.trainer.ego4d.NlqAnnotations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The official Ego4D NLQ prediction file (DESIGN §6): {@code {"version": "1.0", "challenge":
 * "ego4d_nlq_challenge", "results": [{clip_uid, annotation_uid, query_idx, predicted_times:
 * [[s, e], ...]}]}} with clip-relative seconds, best first.
 */
public final class NlqPredictions {
  public static final String VERSION = "1.0";
  public static final String CHALLENGE = "ego4d_nlq_challenge";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The ranked windows predicted for one query. */
  public record Result(String clipUid, String annotationUid, int queryIdx, List<double[]> predictedTimes) {
    public Result {
      predictedTimes = List.copyOf(predictedTimes);
    }

    public NlqAnnotations.Key key() {
      return new NlqAnnotations.Key(clipUid, annotationUid, queryIdx);
    }
  }

  private NlqPredictions() {}

  /**
   * Reads a prediction file, checking {@code version} and {@code challenge} as the official script
   * does.
   *
   * @throws IllegalArgumentException when the file is missing, not JSON, or not in the layout (the
   *     message names the file and the bad entry)
   */
  public static List<Result> read(Path file) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (NoSuchFileException | java.io.FileNotFoundException e) {
      throw new IllegalArgumentException("predictions file not found: " + file, e);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IllegalArgumentException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(file + ": predictions must be a JSON object");
    }
    if (!VERSION.equals(root.path("version").asText(null))) {
      throw new IllegalArgumentException(file + ": \"version\" must be \"" + VERSION + "\", got "
          + root.get("version"));
    }
    if (!CHALLENGE.equals(root.path("challenge").asText(null))) {
      throw new IllegalArgumentException(file + ": \"challenge\" must be \"" + CHALLENGE + "\", got "
          + root.get("challenge"));
    }
    JsonNode results = root.get("results");
    if (results == null || !results.isArray()) {
      throw new IllegalArgumentException(file + ": no \"results\" array");
    }
    List<Result> out = new ArrayList<>();
    int i = 0;
    for (JsonNode r : results) {
      String where = file + ": results[" + i++ + "]";
      JsonNode clip = r.get("clip_uid");
      JsonNode ann = r.get("annotation_uid");
      JsonNode idx = r.get("query_idx");
      JsonNode times = r.get("predicted_times");
      if (clip == null || !clip.isTextual() || ann == null || !ann.isTextual()
          || idx == null || !idx.canConvertToInt() || !idx.isIntegralNumber()) {
        throw new IllegalArgumentException(
            where + " needs string clip_uid, string annotation_uid and integer query_idx");
      }
      if (times == null || !times.isArray() || times.isEmpty()) {
        throw new IllegalArgumentException(where + " needs a non-empty predicted_times array");
      }
      List<double[]> windows = new ArrayList<>();
      for (JsonNode w : times) {
        if (!w.isArray() || w.size() != 2 || !w.get(0).isNumber() || !w.get(1).isNumber()) {
          throw new IllegalArgumentException(where + ": each predicted time must be [start, end], got " + w);
        }
        windows.add(new double[] {w.get(0).asDouble(), w.get(1).asDouble()});
      }
      out.add(new Result(clip.asText(), ann.asText(), idx.asInt(), windows));
    }
    return out;
  }

  /** Writes results in the official layout, atomically. */
  public static void write(Path file, List<Result> results) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", VERSION);
    root.put("challenge", CHALLENGE);
    ArrayNode arr = root.putArray("results");
    for (Result r : results) {
      ObjectNode n = arr.addObject();
      n.put("clip_uid", r.clipUid());
      n.put("annotation_uid", r.annotationUid());
      n.put("query_idx", r.queryIdx());
      ArrayNode times = n.putArray("predicted_times");
      for (double[] w : r.predictedTimes()) {
        times.addArray().add(w[0]).add(w[1]);
      }
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    JSON.writeValue(tmp.toFile(), root);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
