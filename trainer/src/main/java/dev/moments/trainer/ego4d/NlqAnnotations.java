package dev.moments.trainer.ego4d;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Ego4D NLQ annotations ({@code nlq_train.json} / {@code nlq_val.json}, DESIGN §5).
 *
 * <p>Layout: {@code {"version", "videos": [{video_uid, clips: [{clip_uid, video_start_sec,
 * video_end_sec, annotations: [{annotation_uid, language_queries: [{clip_start_sec,
 * clip_end_sec, query, template, ...}]}]}]}]}}. Query times are relative to the clip;
 * {@code query_idx} is the index of a query in its {@code language_queries} list, counted over all
 * entries including those without a {@code query} text (as the official scorer indexes them). Such
 * queries are kept for scoring but left out of {@link #queries()} and counted by {@link
 * #missingQueryText()}.
 */
public final class NlqAnnotations {
  /** One clip with its annotations. */
  public record Clip(
      String videoUid, String clipUid, double videoStartSec, double videoEndSec,
      List<Annotation> annotations) {
    public Clip {
      annotations = List.copyOf(annotations);
    }

    /** Clip length in seconds. */
    public double durationSec() {
      return videoEndSec - videoStartSec;
    }
  }

  /** One annotation (a set of language queries) of a clip. */
  public record Annotation(String annotationUid, List<LanguageQuery> languageQueries) {
    public Annotation {
      languageQueries = List.copyOf(languageQueries);
    }
  }

  /**
   * One language query of an annotation.
   *
   * @param query the question, or {@code null} when the annotation has none (such queries are
   *     skipped at evaluation and counted)
   * @param template the query template, or {@code null}
   */
  public record LanguageQuery(double clipStartSec, double clipEndSec, String query, String template) {}

  /**
   * A flattened query with everything eval needs.
   *
   * @param clipVideoStartSec where the clip starts in its video (seconds)
   * @param clipVideoEndSec where the clip ends in its video (seconds)
   * @param gtStartSec ground-truth start, clip-relative seconds
   * @param gtEndSec ground-truth end, clip-relative seconds
   * @param query the question; {@code null} only in {@link #allQueries()}
   */
  public record Query(
      String videoUid, String clipUid, double clipVideoStartSec, double clipVideoEndSec,
      String annotationUid, int queryIdx, String query, String template,
      double gtStartSec, double gtEndSec) {

    /** The key the official scorer looks a prediction up by. */
    public Key key() {
      return new Key(clipUid, annotationUid, queryIdx);
    }
  }

  /** (clip_uid, annotation_uid, query_idx): identifies a query in predictions. */
  public record Key(String clipUid, String annotationUid, int queryIdx) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<Clip> clips;
  private final List<Query> all;
  private final List<Query> withText;
  private final Map<Key, Query> byKey;

  private NlqAnnotations(List<Clip> clips) {
    this.clips = List.copyOf(clips);
    List<Query> a = new ArrayList<>();
    for (Clip c : clips) {
      for (Annotation an : c.annotations()) {
        for (int i = 0; i < an.languageQueries().size(); i++) {
          LanguageQuery q = an.languageQueries().get(i);
          a.add(new Query(c.videoUid(), c.clipUid(), c.videoStartSec(), c.videoEndSec(),
              an.annotationUid(), i, q.query(), q.template(), q.clipStartSec(), q.clipEndSec()));
        }
      }
    }
    this.all = List.copyOf(a);
    this.withText = a.stream().filter(q -> q.query() != null).toList();
    Map<Key, Query> m = new HashMap<>();
    for (Query q : a) {
      m.put(q.key(), q); // like the official scorer, a repeated (clip, annotation) key: last wins
    }
    this.byKey = m;
  }

  /** Wraps clips built in memory (e.g. by the synthetic generator). */
  public static NlqAnnotations of(List<Clip> clips) {
    return new NlqAnnotations(clips);
  }

  /**
   * Reads an official NLQ annotation file.
   *
   * @throws IllegalArgumentException when the file is missing, not JSON, or not in the NLQ layout
   *     (the message names the file and the offending entry)
   */
  public static NlqAnnotations read(Path file) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (NoSuchFileException | java.io.FileNotFoundException e) {
      throw new IllegalArgumentException("NLQ annotations file not found: " + file, e);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IllegalArgumentException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.path("videos").isArray()) {
      throw new IllegalArgumentException(file + ": not an NLQ annotation file (no \"videos\" array)");
    }
    List<Clip> clips = new ArrayList<>();
    for (JsonNode v : root.get("videos")) {
      String videoUid = text(file, v, "video_uid", true);
      for (JsonNode c : array(file, v, "clips", videoUid)) {
        String clipUid = text(file, c, "clip_uid", true);
        double vs = number(file, c, "video_start_sec", clipUid);
        double ve = number(file, c, "video_end_sec", clipUid);
        List<Annotation> anns = new ArrayList<>();
        for (JsonNode a : array(file, c, "annotations", clipUid)) {
          String annUid = text(file, a, "annotation_uid", true);
          List<LanguageQuery> qs = new ArrayList<>();
          for (JsonNode q : array(file, a, "language_queries", annUid)) {
            qs.add(new LanguageQuery(
                number(file, q, "clip_start_sec", annUid),
                number(file, q, "clip_end_sec", annUid),
                blankToNull(text(file, q, "query", false)),
                text(file, q, "template", false)));
          }
          anns.add(new Annotation(annUid, qs));
        }
        clips.add(new Clip(videoUid, clipUid, vs, ve, anns));
      }
    }
    return new NlqAnnotations(clips);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  private static String text(Path file, JsonNode n, String field, boolean required) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw new IllegalArgumentException(file + ": missing \"" + field + "\" in " + abbreviate(n));
      }
      return null;
    }
    if (!v.isTextual()) {
      throw new IllegalArgumentException(file + ": \"" + field + "\" is not a string in " + abbreviate(n));
    }
    return v.asText();
  }

  private static double number(Path file, JsonNode n, String field, String owner) {
    JsonNode v = n.get(field);
    if (v == null || !v.isNumber()) {
      throw new IllegalArgumentException(
          file + ": missing or non-numeric \"" + field + "\" under " + owner);
    }
    return v.asDouble();
  }

  private static Iterable<JsonNode> array(Path file, JsonNode n, String field, String owner) {
    JsonNode v = n.get(field);
    if (v == null || !v.isArray()) {
      throw new IllegalArgumentException(file + ": missing \"" + field + "\" array under " + owner);
    }
    return v;
  }

  private static String abbreviate(JsonNode n) {
    String s = n.toString();
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  /** The clips in file order. */
  public List<Clip> clips() {
    return clips;
  }

  /** The queries that have a query text, in file order. */
  public List<Query> queries() {
    return withText;
  }

  /** Every language query, including those without a query text. */
  public List<Query> allQueries() {
    return all;
  }

  /** Number of language queries in the file (what the official scorer calls num_gt_queries). */
  public int totalQueries() {
    return all.size();
  }

  /** Number of language queries without a {@code query} text (skipped by evaluation). */
  public int missingQueryText() {
    return all.size() - withText.size();
  }

  /** The query a prediction names, or {@code null} when the annotations have no such query. */
  public Query find(Key key) {
    return byKey.get(key);
  }

  /**
   * Writes clips in the official layout ({@code version}, {@code videos -> clips -> annotations ->
   * language_queries}), adding the derived video-absolute times and 30 fps frame numbers the
   * official files carry. A query with a {@code null} text is written without a {@code query}
   * field. Written atomically.
   */
  public static void write(Path file, String split, List<Clip> clips) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1");
    root.put("description", "Ego4D NLQ annotations (" + split + ")");
    ArrayNode videos = root.putArray("videos");
    Map<String, ArrayNode> clipsByVideo = new java.util.LinkedHashMap<>();
    for (Clip c : clips) {
      ArrayNode arr = clipsByVideo.computeIfAbsent(c.videoUid(), uid -> {
        ObjectNode v = videos.addObject();
        v.put("video_uid", uid);
        v.put("split", split);
        return v.putArray("clips");
      });
      ObjectNode cn = arr.addObject();
      cn.put("clip_uid", c.clipUid());
      cn.put("video_start_sec", c.videoStartSec());
      cn.put("video_end_sec", c.videoEndSec());
      cn.put("video_start_frame", Math.round(c.videoStartSec() * 30));
      cn.put("video_end_frame", Math.round(c.videoEndSec() * 30));
      cn.put("clip_start_sec", 0.0);
      cn.put("clip_end_sec", c.durationSec());
      ArrayNode anns = cn.putArray("annotations");
      for (Annotation a : c.annotations()) {
        ObjectNode an = anns.addObject();
        ArrayNode lqs = an.putArray("language_queries");
        for (LanguageQuery q : a.languageQueries()) {
          ObjectNode qn = lqs.addObject();
          qn.put("clip_start_sec", q.clipStartSec());
          qn.put("clip_end_sec", q.clipEndSec());
          qn.put("video_start_sec", c.videoStartSec() + q.clipStartSec());
          qn.put("video_end_sec", c.videoStartSec() + q.clipEndSec());
          qn.put("video_start_frame", Math.round((c.videoStartSec() + q.clipStartSec()) * 30));
          qn.put("video_end_frame", Math.round((c.videoStartSec() + q.clipEndSec()) * 30));
          if (q.template() != null) {
            qn.put("template", q.template());
          }
          if (q.query() != null) {
            qn.put("query", q.query());
          }
        }
        an.put("annotation_uid", a.annotationUid());
      }
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), root);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
