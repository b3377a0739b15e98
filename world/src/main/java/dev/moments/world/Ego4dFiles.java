package dev.moments.world;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moments.world.Scene.SceneEvent;
import dev.moments.world.Scene.SceneQuery;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * Writes the scenes' annotations in the real Ego4D layouts: {@code narration.json}
 * (narration pass 1 with one summary per video) and the NLQ {@code nlq_val.json} (one clip per
 * video covering all of it, so clip time = video time; one annotation per query).
 *
 * <p>NOTE: {@code *_frame} fields use Ego4D's canonical 30 fps, as the real files do, not the
 * rendered video's frame rate; readers use the {@code *_sec} fields. Annotation uids are
 * name-based UUIDs of the video uid and the event, so they are stable across renders.
 */
final class Ego4dFiles {
  /** Ego4D's canonical frame rate for the {@code *_frame} fields. */
  static final double EGO4D_FPS = 30;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Ego4dFiles() {}

  static void writeNarrations(Path file, List<Scene> scenes) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    for (Scene s : scenes) {
      ObjectNode video = root.putObject(s.videoUid());
      video.put("status", "complete");
      ObjectNode pass = video.putObject("narration_pass_1");
      ArrayNode narrations = pass.putArray("narrations");
      int n = 0;
      for (SceneEvent e : s.events()) {
        if (e.narration() == null) {
          continue;
        }
        ObjectNode o = narrations.addObject();
        o.put("timestamp_sec", e.timeSec());
        o.put("timestamp_frame", frame(e.timeSec()));
        o.put("narration_text", e.narration());
        o.put("annotation_uid", uid(s.videoUid() + "/narration/" + n++));
      }
      ArrayNode summaries = pass.putArray("summaries");
      ObjectNode sum = summaries.addObject();
      sum.put("start_sec", 0.0);
      sum.put("end_sec", s.durationSec());
      sum.put("start_frame", 0);
      sum.put("end_frame", frame(s.durationSec()));
      sum.put("summary_text", "#summary C moves things around the room and looks around.");
      sum.put("annotation_uid", uid(s.videoUid() + "/summary"));
    }
    JSON.writeValue(file.toFile(), root);
  }

  static void writeNlq(Path file, String split, List<Scene> scenes) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "v1");
    root.put("date", "synthetic");
    root.put("description", "Moments synthetic world: NLQ " + split + " annotations");
    root.put("manifest", "");
    ArrayNode videos = root.putArray("videos");
    for (Scene s : scenes) {
      ObjectNode video = videos.addObject();
      video.put("video_uid", s.videoUid());
      video.put("split", split);
      ObjectNode clip = video.putArray("clips").addObject();
      clip.put("clip_uid", s.videoUid());
      clip.put("source_clip_uid", s.videoUid());
      clip.put("video_start_sec", 0.0);
      clip.put("video_end_sec", s.durationSec());
      clip.put("video_start_frame", 0);
      clip.put("video_end_frame", frame(s.durationSec()));
      clip.put("clip_start_sec", 0.0);
      clip.put("clip_end_sec", s.durationSec());
      clip.put("clip_start_frame", 0);
      clip.put("clip_end_frame", frame(s.durationSec()));
      ArrayNode annotations = clip.putArray("annotations");
      int n = 0;
      for (SceneQuery q : s.queries()) {
        ObjectNode ann = annotations.addObject();
        ann.put("annotation_uid", uid(s.videoUid() + "/nlq/" + n++));
        ObjectNode lq = ann.putArray("language_queries").addObject();
        lq.put("clip_start_sec", q.startSec());
        lq.put("clip_end_sec", q.endSec());
        lq.put("video_start_sec", q.startSec());
        lq.put("video_end_sec", q.endSec());
        lq.put("video_start_frame", frame(q.startSec()));
        lq.put("video_end_frame", frame(q.endSec()));
        lq.put("template", q.template());
        lq.put("query", q.query());
        lq.put("slot_x", q.item().word());
        lq.put("verb_x", "put");
        lq.put("slot_y", q.place().word());
        lq.put("verb_y", "");
        lq.putArray("raw_tags").add(q.template()).add(q.item().word()).add("put");
      }
    }
    JSON.writeValue(file.toFile(), root);
  }

  private static long frame(double sec) {
    return Math.round(sec * EGO4D_FPS);
  }

  private static String uid(String name) {
    return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
  }
}
