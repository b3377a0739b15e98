package dev.moments.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CharadesMapTest {
  @TempDir Path dir;
  private static final List<String> IDS = List.of("c000", "c001", "c002");

  @Test
  void map_worked_by_hand_with_an_unlabelled_video_and_a_class_without_positives() {
    double[][] scores = {
      {0.9, 0.1, 0.5}, // v0: c000
      {0.2, 0.8, 0.5}, // v1: c000, c001
      {1.0, 1.0, 1.0}, // v2: no label -> all -inf, so its 1.0s do not count
      {0.5, 0.3, 0.5}, // v3: c001
    };
    boolean[][] labels = {
      {true, false, false}, {true, true, false}, {false, false, false}, {false, true, false},
    };

    CharadesMap.Result r = CharadesMap.compute(scores, labels, IDS);

    // c000 ranking v0(+) v3(-) v1(+) v2: precisions 1/1 and 2/3 -> AP 5/6
    assertThat(r.ap()[0]).isCloseTo(5.0 / 6.0, within(1e-12));
    // c001 ranking v1(+) v3(+) v0 v2: AP 1
    assertThat(r.ap()[1]).isEqualTo(1.0);
    // c002 has no positive: excluded, not a zero
    assertThat(r.ap()[2]).isNaN();
    assertThat(r.excluded()).containsExactly("c002");
    assertThat(r.map()).isCloseTo(11.0 / 12.0, within(1e-12));
    assertThat(r.videosWithoutLabel()).isEqualTo(1);
    assertThat((Double) r.asMap().get("mAP")).isCloseTo(1100.0 / 12.0, within(1e-9));
  }

  @Test
  void ties_rank_in_video_order() {
    // c000 both 0.5: v0 (negative for c000) ranks first, the positive v1 at rank 2 -> AP 1/2
    CharadesMap.Result r = CharadesMap.compute(
        new double[][] {{0.5, 0.9}, {0.5, 0.1}},
        new boolean[][] {{false, true}, {true, false}}, List.of("c000", "c001"));
    assertThat(r.ap()).containsExactly(0.5, 1.0);
    assertThat(r.map()).isEqualTo(0.75);
  }

  @Test
  void score_files_round_trip_with_minus_infinity_and_missing_rows_are_an_error() throws IOException {
    Path classes = dir.resolve("Charades_v1_classes.txt");
    Files.writeString(classes, "c000 Holding some clothes\nc001 Putting clothes somewhere\nc002 Taking a cup\n");
    Path csv = dir.resolve("CharadesEgo_v1_test.csv");
    Files.writeString(csv, "id,subject,scene,script,actions,length\n"
        + "V1,S,Kitchen,\"A person, holding clothes\",c000 0.00 5.10;c001 3.0 9.0,30.1\n"
        + "V2,S,Hall,x,,12.0\n"
        + "V3,S,Hall,x,c001 1.00 2.00,12.0\n");
    CharadesAnnotations gt = CharadesAnnotations.read(csv, classes);
    assertThat(gt.labels()).containsOnlyKeys("V1", "V2", "V3");
    assertThat(gt.labels().get("V1")).containsExactly(0, 1);
    assertThat(gt.labels().get("V2")).isEmpty();

    Map<String, double[]> scores = new LinkedHashMap<>();
    scores.put("V1", new double[] {0.25, Double.NEGATIVE_INFINITY, 0});
    scores.put("V2", new double[] {1, 1, 1});
    scores.put("V3", new double[] {0.5, 0.75, 0});
    Path out = dir.resolve("scores.csv");
    CharadesScores.write(out, IDS, scores);
    assertThat(Files.readString(out)).startsWith("id,c000,c001,c002\nV1,0.25,-inf,0.0\n");

    Map<String, double[]> back = CharadesScores.read(out, IDS);
    assertThat(back.get("V1")).containsExactly(0.25, Double.NEGATIVE_INFINITY, 0.0);
    CharadesMap.Result r = CharadesMap.compute(gt, back);
    // c000: only V1 positive, ranked V3 0.5, V1 0.25 -> AP 1/2; c001: V3 0.75 (+), V1 -inf (+)
    // and V2 (-inf, unlabelled) tie at -inf in video order V1 first -> AP (1 + 2/2)/2 = 1
    assertThat(r.ap()[0]).isEqualTo(0.5);
    assertThat(r.ap()[1]).isEqualTo(1.0);
    assertThat(r.map()).isEqualTo(0.75);

    scores.remove("V3");
    CharadesScores.write(out, IDS, scores);
    assertThatThrownBy(() -> CharadesMap.compute(gt, CharadesScores.read(out, IDS)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("1 annotated videos have no score row (e.g. V3)");
  }

  @Test
  void malformed_inputs_are_clear_errors() throws IOException {
    Path classes = dir.resolve("classes.txt");
    Files.writeString(classes, "c000 A\nc001 B\n");
    Path csv = dir.resolve("a.csv");
    Files.writeString(csv, "id,actions\nV1,c009 0 1\n");
    assertThatThrownBy(() -> CharadesAnnotations.read(csv, classes))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("c009 is not in");
    Files.writeString(csv, "id,verbs\nV1,c000 0 1\n");
    assertThatThrownBy(() -> CharadesAnnotations.read(csv, classes))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"actions\"");
    Path scores = dir.resolve("s.csv");
    Files.writeString(scores, "id,c000,c001\nV1,0.5,abc\n");
    assertThatThrownBy(() -> CharadesScores.read(scores, List.of("c000", "c001")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"abc\" is not a score");
    Files.writeString(scores, "id,c001,c000\n");
    assertThatThrownBy(() -> CharadesScores.read(scores, List.of("c000", "c001")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("header must be id");
    assertThatThrownBy(() -> CharadesAnnotations.read(dir.resolve("no.csv"), classes))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not found");
  }
}
