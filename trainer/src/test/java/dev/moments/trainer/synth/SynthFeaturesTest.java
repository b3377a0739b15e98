package dev.moments.trainer.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.moments.featurizer.store.FeatureManifest;
import dev.moments.featurizer.store.Npy;
import dev.moments.featurizer.store.TextEmbeddings;
import dev.moments.trainer.ego4d.Narration;
import dev.moments.trainer.ego4d.Narrations;
import dev.moments.trainer.ego4d.NlqAnnotations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthFeaturesTest {
  private static final SynthFeatures.Config CFG = new SynthFeatures.Config(4, 2, 3, 32, 6, 11);

  @TempDir static Path dir;
  static Path out;
  static SynthFeatures.Summary summary;

  @BeforeAll
  static void generate() throws IOException {
    out = dir.resolve("synth");
    summary = SynthFeatures.generate(out, CFG);
  }

  @Test
  void features_and_manifest_cover_every_video_with_unit_rows() throws IOException {
    FeatureManifest m = FeatureManifest.read(out.resolve("features"));
    assertThat(m.encoderId()).isEqualTo("synth-d32-s11");
    assertThat(m.fps()).isEqualTo(6.0);
    assertThat(m.dim()).isEqualTo(32);
    assertThat(m.videos()).hasSize(4);
    for (var e : m.videos().entrySet()) {
      assertThat(e.getValue().frames()).isEqualTo(1080);
      assertThat(e.getValue().durationSec()).isEqualTo(180.0);
      Npy.Matrix x = Npy.read(FeatureManifest.featureFile(out.resolve("features"), e.getKey()));
      assertThat(x.rows()).isEqualTo(1080);
      assertThat(x.cols()).isEqualTo(32);
      assertThat(norm(x.row(0))).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
      assertThat(norm(x.row(777))).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    }
    assertThat(summary.trainVideos()).hasSize(2);
    assertThat(summary.valVideos()).hasSize(2).doesNotContainAnyElementsOf(summary.trainVideos());
  }

  @Test
  void narrations_are_in_the_real_layout_for_training_videos_only_and_at_event_middles()
      throws IOException {
    Narrations n = Narrations.read(out.resolve("narration.json"));
    Map<String, List<SynthFeatures.Event>> events = SynthFeatures.readEvents(out);

    assertThat(n.byVideo().keySet()).containsExactlyInAnyOrderElementsOf(summary.trainVideos());
    assertThat(n.kept()).isEqualTo(summary.narrations());
    assertThat(Files.readString(out.resolve("narration.json"))).contains("\"#C C ");
    String uid = summary.trainVideos().get(0);
    SynthFeatures.Event first = events.get(uid).get(0);
    Narration pass1 = n.of(uid).stream()
        .filter(x -> Math.abs(x.timestampSec() - (first.startSec() + first.endSec()) / 2) < 1e-3)
        .findFirst().orElseThrow();
    assertThat(pass1.text()).startsWith("C ").contains(first.object(), first.place());
  }

  @Test
  void nlq_queries_point_at_their_event_inside_the_clip_and_some_lack_text() throws IOException {
    NlqAnnotations a = NlqAnnotations.read(out.resolve("nlq_val.json"));
    Map<String, List<SynthFeatures.Event>> events = SynthFeatures.readEvents(out);

    assertThat(a.clips()).extracting(NlqAnnotations.Clip::videoUid)
        .containsExactlyElementsOf(summary.valVideos());
    assertThat(a.queries()).hasSize(summary.queries()).isNotEmpty();
    assertThat(a.missingQueryText()).isEqualTo(2);
    for (NlqAnnotations.Query q : a.queries()) {
      assertThat(q.gtStartSec()).isGreaterThanOrEqualTo(0);
      assertThat(q.gtEndSec()).isLessThanOrEqualTo(q.clipVideoEndSec() - q.clipVideoStartSec());
      double s = q.clipVideoStartSec() + q.gtStartSec();
      List<SynthFeatures.Event> hits = events.get(q.videoUid()).stream()
          .filter(e -> Math.abs(e.startSec() - s) < 2e-3).toList();
      assertThat(hits).hasSize(1);
      assertThat(q.query()).isEqualTo(SynthFeatures.query(hits.get(0).verb(), hits.get(0).object()));
    }
  }

  @Test
  void every_narration_query_and_class_text_has_an_embedding() throws IOException {
    TextEmbeddings t = TextEmbeddings.read(out.resolve("text_embeddings.npz"));
    assertThat(t.dim()).isEqualTo(32);
    assertThat(t.size()).isEqualTo(summary.texts());
    Narrations n = Narrations.read(out.resolve("narration.json"));
    n.byVideo().values().forEach(l -> l.forEach(x -> assertThat(t.get(x.text())).as(x.text()).isNotNull()));
    NlqAnnotations.read(out.resolve("nlq_val.json")).queries()
        .forEach(q -> assertThat(t.get(q.query())).as(q.query()).isNotNull());
    List<String> classes = Files.readAllLines(out.resolve("Charades_v1_classes.txt"));
    assertThat(classes).hasSize(48).startsWith("c000 Putting keys somewhere");
    classes.forEach(c -> assertThat(t.get(c.substring(5))).as(c).isNotNull());
    String csv = Files.readString(out.resolve("CharadesEgo_v1_test.csv"));
    assertThat(csv).startsWith("id,subject,scene,quality,relevance,verified,script,objects,descriptions,actions,length\n");
    assertThat(csv.lines().count()).isEqualTo(3);
    assertThat(csv).containsPattern("c\\d{3} \\d+\\.\\d{2} \\d+\\.\\d{2};c\\d{3}");
  }

  @Test
  void event_frames_are_closer_to_their_narration_than_gap_frames() throws IOException {
    // The task must be learnable: the narration's embedding points at its event's frames.
    TextEmbeddings t = TextEmbeddings.read(out.resolve("text_embeddings.npz"));
    String uid = summary.trainVideos().get(0);
    Npy.Matrix x = Npy.read(FeatureManifest.featureFile(out.resolve("features"), uid));
    double inside = 0;
    double outside = 0;
    int ni = 0;
    int no = 0;
    for (SynthFeatures.Event e : SynthFeatures.readEvents(out).get(uid)) {
      float[] text = t.get(Narrations.clean(SynthFeatures.narration(e)));
      for (int f = 0; f < x.rows(); f++) {
        double sec = f / 6.0;
        double c = dot(text, x.row(f));
        if (sec >= e.startSec() && sec < e.endSec()) {
          inside += c;
          ni++;
        } else {
          outside += c;
          no++;
        }
      }
    }
    assertThat(inside / ni).isGreaterThan(outside / no + 0.3);
    assertThat(inside / ni).isLessThan(0.9); // but not the same space: a model has work to do
  }

  @Test
  void the_same_seed_gives_the_same_bytes_and_another_seed_does_not() throws IOException {
    Path again = dir.resolve("again");
    SynthFeatures.generate(again, CFG);
    for (String f : List.of("narration.json", "nlq_val.json", "text_embeddings.npz",
        "CharadesEgo_v1_test.csv", "features/manifest.json",
        "features/" + summary.valVideos().get(0) + ".npy")) {
      assertThat(Files.mismatch(again.resolve(f), out.resolve(f))).as(f).isEqualTo(-1L);
    }
    Path other = dir.resolve("other");
    SynthFeatures.generate(other, new SynthFeatures.Config(4, 2, 3, 32, 6, 12));
    assertThat(Files.mismatch(other.resolve("narration.json"), out.resolve("narration.json")))
        .isNotEqualTo(-1L);
  }

  @Test
  void hard_makes_look_alike_objects_and_keeps_the_default_bytes_apart() throws IOException {
    Path hard = dir.resolve("hard");
    SynthFeatures.Summary h = SynthFeatures.generate(hard, CFG.withHard(true));
    assertThat(h.encoderId()).isEqualTo(summary.encoderId() + "-hard");
    assertThat(FeatureManifest.read(hard.resolve("features")).encoderId()).endsWith("-hard");
    TextEmbeddings easyTexts = TextEmbeddings.read(out.resolve("text_embeddings.npz"));
    TextEmbeddings hardTexts = TextEmbeddings.read(hard.resolve("text_embeddings.npz"));
    // keys and knife are a look-alike pair: their class texts (same verb) move much closer
    double easy = cosine(easyTexts.get("Putting keys somewhere"), easyTexts.get("Putting knife somewhere"));
    double harder = cosine(hardTexts.get("Putting keys somewhere"), hardTexts.get("Putting knife somewhere"));
    assertThat(harder).isGreaterThan(easy + 0.15);
    // the events are where they were (same seed), the frames are not the same bytes
    assertThat(SynthFeatures.readEvents(hard)).isEqualTo(SynthFeatures.readEvents(out));
    String v = summary.valVideos().get(0);
    assertThat(Files.mismatch(hard.resolve("features/" + v + ".npy"), out.resolve("features/" + v + ".npy")))
        .isNotEqualTo(-1L);
  }

  private static double cosine(float[] a, float[] b) {
    return dot(a, b) / (norm(a) * norm(b));
  }

  @Test
  void bad_settings_are_rejected_with_the_flag_name() {
    assertThatThrownBy(() -> new SynthFeatures.Config(1, 1, 3, 32, 6, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--videos");
    assertThatThrownBy(() -> new SynthFeatures.Config(4, 4, 3, 32, 6, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--val-videos");
    assertThatThrownBy(() -> new SynthFeatures.Config(4, 1, 3, 4, 6, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--dim");
  }

  private static double norm(float[] v) {
    return Math.sqrt(dot(v, v));
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }
}
