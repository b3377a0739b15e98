package dev.moments.world;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.world.Scene.Kind;
import dev.moments.world.Scene.SceneEvent;
import dev.moments.world.Scene.SceneQuery;
import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.Java2DFrameConverter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Renders one 40 s video once and checks it by decoding it back with FFmpeg. */
class SynthWorldTest {
  static final SynthWorld.Spec SPEC = new SynthWorld.Spec(1, 11, 40 / 60.0, 320, 240, 6);

  @TempDir static Path dir;
  static Scene scene;
  static Path mp4;

  @BeforeAll
  static void render() throws Exception {
    List<Scene> scenes = SynthWorld.render(dir, SPEC, 2);
    assertThat(scenes).hasSize(1);
    scene = scenes.get(0);
    mp4 = dir.resolve(scene.videoUid() + ".mp4");
  }

  @Test
  void the_video_has_every_frame_at_the_scene_rate() throws Exception {
    assertThat(scene.videoUid()).isEqualTo("synth-11-00");
    try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(mp4.toFile())) {
      g.start();
      assertThat(g.getVideoCodecName()).contains("h264");
      assertThat(g.getImageWidth()).isEqualTo(320);
      assertThat(g.getImageHeight()).isEqualTo(240);
      assertThat(g.getFrameRate()).isCloseTo(6.0, org.assertj.core.data.Offset.offset(0.01));
      int n = 0;
      long lastTs = -1;
      Frame f;
      while ((f = g.grabImage()) != null) {
        assertThat(g.getTimestamp()).isGreaterThan(lastTs);
        lastTs = g.getTimestamp();
        n++;
      }
      assertThat(n).isEqualTo(240); // 40 s x 6 fps
      assertThat(lastTs / 1e6).isCloseTo(239 / 6.0, org.assertj.core.data.Offset.offset(0.01));
    }
  }

  @Test
  void frames_after_a_put_down_show_the_item_at_its_place_and_not_before() throws Exception {
    List<SceneEvent> puts = scene.events().stream().filter(e -> e.kind() == Kind.PUT_DOWN).toList();
    assertThat(puts).as("a 40 s script has at least one put-down").isNotEmpty();
    Map<Integer, SceneEvent> after = new HashMap<>();
    Map<Integer, SceneEvent> before = new HashMap<>();
    for (SceneEvent e : puts) {
      after.put((int) Math.round((e.endSec() - 0.5) * scene.fps()), e);
      before.put((int) Math.round((e.startSec() + 0.1) * scene.fps()), e);
    }
    TreeSet<Integer> wanted = new TreeSet<>(after.keySet());
    wanted.addAll(before.keySet());
    Map<Integer, BufferedImage> frames = decode(mp4, wanted);
    SceneRenderer renderer = new SceneRenderer(scene);
    for (Map.Entry<Integer, SceneEvent> a : after.entrySet()) {
      SceneEvent e = a.getValue();
      double t = (double) a.getKey() / scene.fps();
      Rectangle2D box = renderer.itemBox(t, e.item());
      assertThat(box).as("%s at %s is in view at %.2f s", e.item(), e.place(), t).isNotNull();
      double there = colourShare(frames.get(a.getKey()), box, e.item().color());
      assertThat(there).as("share of %s pixels in its box after it was put at %.2f s", e.item(), t)
          .isGreaterThan(0.25);
      int b = (int) Math.round((e.startSec() + 0.1) * scene.fps());
      double notYet = colourShare(frames.get(b), box, e.item().color());
      assertThat(notYet).as("share of %s pixels in that box before it was put", e.item()).isLessThan(0.05);
    }
  }

  @Test
  void narrations_are_in_the_ego4d_layout_at_the_event_times() throws Exception {
    JsonNode root = new ObjectMapper().readTree(dir.resolve(SynthWorld.NARRATIONS).toFile());
    assertThat(root.size()).isEqualTo(1);
    JsonNode narrations = root.get(scene.videoUid()).get("narration_pass_1").get("narrations");
    List<SceneEvent> narrated = scene.events().stream().filter(e -> e.narration() != null).toList();
    assertThat(narrations.size()).isEqualTo(narrated.size()).isGreaterThan(5);
    double last = -1;
    for (int i = 0; i < narrated.size(); i++) {
      JsonNode n = narrations.get(i);
      assertThat(n.get("narration_text").asText()).isEqualTo(narrated.get(i).narration()).startsWith("#C C ");
      assertThat(n.get("timestamp_sec").asDouble()).isEqualTo(narrated.get(i).timeSec())
          .isGreaterThanOrEqualTo(last).isLessThanOrEqualTo(scene.durationSec());
      assertThat(n.get("annotation_uid").asText()).hasSize(36);
      last = n.get("timestamp_sec").asDouble();
    }
    assertThat(narrations.findValuesAsText("narration_text"))
        .anyMatch(s -> s.matches("#C C (puts|places) the \\w+ (on|in) the \\w+"))
        .anyMatch(s -> s.startsWith("#C C looks") || s.startsWith("#C C stands"));
  }

  @Test
  void nlq_queries_are_in_the_official_layout_with_the_put_down_interval() throws Exception {
    JsonNode root = new ObjectMapper().readTree(dir.resolve(SynthWorld.NLQ).toFile());
    JsonNode video = root.get("videos").get(0);
    assertThat(video.get("video_uid").asText()).isEqualTo(scene.videoUid());
    JsonNode clip = video.get("clips").get(0);
    assertThat(clip.get("clip_uid").asText()).isEqualTo(scene.videoUid());
    assertThat(clip.get("video_start_sec").asDouble()).isZero();
    assertThat(clip.get("video_end_sec").asDouble()).isEqualTo(40.0);
    JsonNode anns = clip.get("annotations");
    assertThat(anns.size()).isEqualTo(scene.queries().size()).isPositive();
    for (int i = 0; i < anns.size(); i++) {
      JsonNode q = anns.get(i).get("language_queries").get(0);
      SceneQuery sq = scene.queries().get(i);
      assertThat(q.get("query").asText()).isEqualTo("Where did I put the " + sq.item().word() + "?");
      assertThat(q.get("clip_start_sec").asDouble()).isEqualTo(sq.startSec());
      assertThat(q.get("clip_end_sec").asDouble()).isEqualTo(sq.endSec()).isGreaterThan(sq.startSec() + 2);
      // the answer interval is exactly the last put-down of that item
      SceneEvent lastPut = scene.events().stream()
          .filter(e -> e.kind() == Kind.PUT_DOWN && e.item() == sq.item()).reduce((x, y) -> y).orElseThrow();
      assertThat(sq.startSec()).isEqualTo(lastPut.startSec());
      assertThat(sq.place()).isEqualTo(lastPut.place());
    }
  }

  @Test
  void scenes_json_reads_back_equal() throws Exception {
    assertThat(SynthWorld.readScenes(dir.resolve(SynthWorld.SCENES))).containsExactly(scene);
  }

  @Test
  void the_same_seed_gives_the_same_world_and_another_seed_another() {
    SynthWorld.Spec spec = new SynthWorld.Spec(3, 5, 3, 320, 240, 6);
    List<Scene> a = SynthWorld.scenes(spec);
    assertThat(SynthWorld.scenes(spec)).isEqualTo(a);
    assertThat(SynthWorld.scenes(new SynthWorld.Spec(3, 6, 3, 320, 240, 6))).isNotEqualTo(a);
    assertThat(a.get(0).events()).isNotEqualTo(a.get(1).events());
    BufferedImage f1 = new SceneRenderer(a.get(0)).render(61.5);
    BufferedImage f2 = new SceneRenderer(a.get(0)).render(61.5);
    assertThat(f1.getRaster().getDataBuffer()).isNotNull();
    for (int y = 0; y < 240; y += 7) {
      for (int x = 0; x < 320; x += 5) {
        assertThat(f1.getRGB(x, y)).isEqualTo(f2.getRGB(x, y));
      }
    }
  }

  @Test
  void scripts_keep_items_consistent_over_many_seeds() {
    for (long seed = 0; seed < 40; seed++) {
      Scene s = SceneScripts.generate("v" + seed, seed, 180, 6, 320, 240);
      SceneTimeline tl = new SceneTimeline(s);
      assertThat(s.places()).hasSize(SceneScripts.PLACES_PER_ROOM);
      assertThat(s.initial()).hasSize(SceneScripts.ITEMS_PER_ROOM);
      assertThat(s.queries()).isNotEmpty();
      List<Double> keys = new ArrayList<>();
      s.camera().forEach(k -> keys.add(k.t()));
      assertThat(keys).isSorted().doesNotHaveDuplicates();
      assertThat(keys.get(keys.size() - 1)).isEqualTo(180.0);
      for (SceneEvent e : s.events()) {
        if (e.kind() == Kind.PUT_DOWN) {
          SceneTimeline.State justBefore = tl.stateAt(e.timeSec() - 1e-3);
          assertThat(justBefore.held()).isEqualTo(e.item());
          assertThat(justBefore.resting().values())
              .noneMatch(r -> r.place() == e.place() && r.slot() == e.slot());
          if (e.place().opens()) {
            assertThat(justBefore.drawerOpen()).isTrue();
          }
        }
        if (e.kind() == Kind.PICK_UP) {
          SceneTimeline.State justBefore = tl.stateAt(e.timeSec() - 1e-3);
          assertThat(justBefore.held()).isNull();
          assertThat(justBefore.resting().get(e.item()).place()).isEqualTo(e.place());
        }
      }
      // idle stretches are long: no 30 s window without a LOOK narration or an action
      assertThat(s.events().stream().filter(e -> e.kind() == Kind.LOOK).count()).isGreaterThan(5);
    }
  }

  @Test
  void bad_specs_are_rejected_with_the_bad_value_named() {
    assertThatThrownBy(() -> new SynthWorld.Spec(0, 1, 3, 320, 240, 6)).hasMessageContaining("videos");
    assertThatThrownBy(() -> new SynthWorld.Spec(1, 1, 3, 321, 240, 6)).hasMessageContaining("321x240");
    assertThatThrownBy(() -> new SynthWorld.Spec(1, 1, 0.1, 320, 240, 6)).hasMessageContaining("minutes");
  }

  /** Decodes the frames with the given indices. */
  static Map<Integer, BufferedImage> decode(Path mp4, TreeSet<Integer> wanted) throws Exception {
    Map<Integer, BufferedImage> out = new HashMap<>();
    try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(mp4.toFile());
        Java2DFrameConverter c = new Java2DFrameConverter()) {
      g.start();
      int i = 0;
      Frame f;
      while ((f = g.grabImage()) != null && i <= wanted.last()) {
        if (wanted.contains(i)) {
          BufferedImage src = c.convert(f);
          BufferedImage copy = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_RGB);
          copy.getGraphics().drawImage(src, 0, 0, null);
          out.put(i, copy);
        }
        i++;
      }
    }
    return out;
  }

  /** Share of the pixels in {@code box} within RGB distance 70 of {@code colour}. */
  static double colourShare(BufferedImage img, Rectangle2D box, Color colour) {
    int hit = 0;
    int all = 0;
    for (int y = (int) box.getMinY(); y < (int) Math.ceil(box.getMaxY()); y++) {
      for (int x = (int) box.getMinX(); x < (int) Math.ceil(box.getMaxX()); x++) {
        int rgb = img.getRGB(x, y);
        int dr = ((rgb >> 16) & 255) - colour.getRed();
        int dg = ((rgb >> 8) & 255) - colour.getGreen();
        int db = (rgb & 255) - colour.getBlue();
        if (dr * dr + dg * dg + db * db < 70 * 70) {
          hit++;
        }
        all++;
      }
    }
    return (double) hit / all;
  }
}
