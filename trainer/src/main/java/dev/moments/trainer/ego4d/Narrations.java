package dev.moments.trainer.ego4d;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The narrations of Ego4D's {@code narration.json} (DESIGN §5), cleaned and sorted by time per
 * video.
 *
 * <p>Layout read: {@code {video_uid: {narration_pass_1: {narrations: [{timestamp_sec,
 * narration_text, annotation_uid, ...}], summaries: [...]}, narration_pass_2: {...}}}}. Summaries
 * are ignored. A video without any usable narration (e.g. an entry that carries only {@code
 * status}) is left out. The file is parsed one video at a time, so the real ~100 MB file does not
 * become one tree in memory.
 *
 * <p>Tag clean-up rule ({@link #clean(String)}): every token that starts with {@code #} followed by
 * letters ({@code #C}, {@code #c}, {@code #O}, {@code #unsure}, {@code #Unsure}, {@code #summary})
 * is removed, whitespace is collapsed and trimmed, a space left before punctuation is removed, and a narration
 * with no letter or digit left is dropped.
 * So {@code "#C C opens a door"} becomes {@code "C opens a door"}, {@code "#O man X holds a cup"}
 * becomes {@code "man X holds a cup"}, {@code "#C C picks #unsure"} becomes {@code "C picks"}, and
 * {@code "#unsure"} alone is dropped. The subject letter ({@code C}) is kept, as LaViLa's
 * narrations keep it.
 */
public final class Narrations {
  /** A narration pass of the Ego4D layout. */
  public enum Pass {
    PASS_1("narration_pass_1"),
    PASS_2("narration_pass_2");

    private final String key;

    Pass(String key) {
      this.key = key;
    }

    /** The JSON key of the pass, e.g. {@code narration_pass_1}. */
    public String key() {
      return key;
    }
  }

  /** A narration as written in the file, before clean-up (used by the writer). */
  public record Raw(double timestampSec, String narrationText) {}

  private static final Pattern TAG = Pattern.compile("(?<!\\S)#[A-Za-z]+\\b");
  private static final Pattern SPACES = Pattern.compile("\\s+");
  private static final Pattern SPACE_BEFORE_PUNCT = Pattern.compile(" ([.,;:!?])");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, List<Narration>> byVideo;
  private final int kept;
  private final int dropped;

  private Narrations(Map<String, List<Narration>> byVideo, int kept, int dropped) {
    this.byVideo = Collections.unmodifiableMap(byVideo);
    this.kept = kept;
    this.dropped = dropped;
  }

  /** Reads both passes of {@code file}. */
  public static Narrations read(Path file) throws IOException {
    return read(file, EnumSet.allOf(Pass.class));
  }

  /**
   * Reads the given passes of {@code file}; narrations of several passes are merged and sorted by
   * timestamp (ties keep pass order).
   *
   * @throws IllegalArgumentException when the file is missing or not in the narration.json layout
   */
  public static Narrations read(Path file, Set<Pass> passes) throws IOException {
    if (passes.isEmpty()) {
      throw new IllegalArgumentException("at least one narration pass must be selected");
    }
    Map<String, List<Narration>> out = new TreeMap<>();
    int kept = 0;
    int dropped = 0;
    try (InputStream in = Files.newInputStream(file);
        JsonParser p = new JsonFactory(JSON).createParser(in)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException(file + ": narration.json must be a JSON object keyed by video_uid");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String uid = p.currentName();
        p.nextToken();
        JsonNode video = p.readValueAsTree();
        if (video == null || !video.isObject()) {
          throw new IllegalArgumentException(file + ": entry of video " + uid + " is not an object");
        }
        List<Narration> list = new ArrayList<>();
        for (Pass pass : Pass.values()) {
          if (!passes.contains(pass)) {
            continue;
          }
          JsonNode narrations = video.path(pass.key()).path("narrations");
          if (narrations.isMissingNode() || narrations.isNull()) {
            continue;
          }
          if (!narrations.isArray()) {
            throw new IllegalArgumentException(
                file + ": " + uid + "." + pass.key() + ".narrations is not an array");
          }
          for (JsonNode n : narrations) {
            JsonNode ts = n.get("timestamp_sec");
            JsonNode text = n.get("narration_text");
            if (ts == null || !ts.isNumber() || text == null || !text.isTextual()) {
              throw new IllegalArgumentException(file + ": a narration of video " + uid
                  + " lacks a numeric timestamp_sec or a narration_text: " + n);
            }
            String cleaned = clean(text.asText());
            if (cleaned == null) {
              dropped++;
            } else {
              list.add(new Narration(ts.asDouble(), cleaned, pass.ordinal()));
              kept++;
            }
          }
        }
        if (!list.isEmpty()) {
          list.sort(Comparator.comparingDouble(Narration::timestampSec));
          out.put(uid, List.copyOf(list));
        }
      }
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("narrations file not found: " + file, e);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IllegalArgumentException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
    return new Narrations(out, kept, dropped);
  }

  /**
   * Applies the tag clean-up rule of this class.
   *
   * @return the cleaned text, or {@code null} when nothing is left (the narration is dropped)
   */
  public static String clean(String raw) {
    if (raw == null) {
      return null;
    }
    String s = TAG.matcher(raw).replaceAll(" ");
    s = SPACES.matcher(s).replaceAll(" ").strip();
    s = SPACE_BEFORE_PUNCT.matcher(s).replaceAll("$1");
    return s.isEmpty() || s.chars().noneMatch(Character::isLetterOrDigit) ? null : s;
  }

  /** Cleaned narrations per video uid, each list sorted by time; videos in uid order. */
  public Map<String, List<Narration>> byVideo() {
    return byVideo;
  }

  /**
   * The training targets: per video uid (in uid order), each narration as a {@link
   * dev.moments.trainer.TimedText} (time, text, pass), sorted by time.
   */
  public Map<String, List<dev.moments.trainer.TimedText>> timedByVideo() {
    Map<String, List<dev.moments.trainer.TimedText>> out = new LinkedHashMap<>();
    byVideo.forEach((video, list) -> out.put(video, list.stream()
        .map(n -> new dev.moments.trainer.TimedText(n.timestampSec(), n.text(), n.pass())).toList()));
    return out;
  }

  /** The narrations of one video (empty when it has none). */
  public List<Narration> of(String videoUid) {
    return byVideo.getOrDefault(videoUid, List.of());
  }

  /** Narrations kept after clean-up. */
  public int kept() {
    return kept;
  }

  /** Narrations dropped because nothing was left after tag clean-up. */
  public int dropped() {
    return dropped;
  }

  /**
   * Writes {@code videos} (uid -> pass -> raw narrations) in the narration.json layout, with
   * {@code timestamp_frame} at 30 fps, a deterministic {@code annotation_uid} per pass and empty
   * {@code summaries}. Written atomically.
   */
  public static void write(Path file, Map<String, Map<Pass, List<Raw>>> videos) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    for (Map.Entry<String, Map<Pass, List<Raw>>> v : new TreeMap<>(videos).entrySet()) {
      ObjectNode video = root.putObject(v.getKey());
      for (Map.Entry<Pass, List<Raw>> e : new LinkedHashMap<>(v.getValue()).entrySet()) {
        String annotationUid = UUID.nameUUIDFromBytes(
            (v.getKey() + "/" + e.getKey().key()).getBytes(StandardCharsets.UTF_8)).toString();
        ObjectNode pass = video.putObject(e.getKey().key());
        ArrayNode arr = pass.putArray("narrations");
        for (Raw r : e.getValue()) {
          ObjectNode n = arr.addObject();
          n.put("timestamp_sec", r.timestampSec());
          n.put("timestamp_frame", (long) Math.floor(r.timestampSec() * 30.0));
          n.put("narration_text", r.narrationText());
          n.put("annotation_uid", annotationUid);
        }
        pass.putArray("summaries");
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
