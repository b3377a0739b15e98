package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.eval.NlqPredictions;
import dev.moments.trainer.ego4d.NlqAnnotations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCommandTest {
  @TempDir Path dir;

  @Test
  void synth_then_score_nlq_prints_one_json_object_with_the_official_keys() throws Exception {
    Path data = dir.resolve("synth");
    Cli.Out synth = Cli.run("synth", "features", "--out", data.toString(), "--videos", "4", "--minutes", "2",
        "--dim", "16");
    assertThat(synth.rc()).as(synth.err()).isZero();
    assertThat(synth.out()).contains("nlq_val.json");

    // every query answered by its ground truth at rank 2 behind a miss: R@1 = 0, R@3 = 100
    NlqAnnotations gt = NlqAnnotations.read(data.resolve("nlq_val.json"));
    List<NlqPredictions.Result> preds = new ArrayList<>();
    for (NlqAnnotations.Query q : gt.queries()) {
      preds.add(new NlqPredictions.Result(q.clipUid(), q.annotationUid(), q.queryIdx(), List.of(
          new double[] {q.gtEndSec() + 50, q.gtEndSec() + 60}, new double[] {q.gtStartSec(), q.gtEndSec()})));
    }
    Path p = dir.resolve("pred.json");
    NlqPredictions.write(p, preds);

    Cli.Out json = Cli.run("eval", "score-nlq", "--annotations", data.resolve("nlq_val.json").toString(),
        "--predictions", p.toString(), "--json");
    assertThat(json.rc()).as(json.err()).isZero();
    JsonNode m = new ObjectMapper().readTree(json.out());
    assertThat(json.out().strip().lines().count()).isEqualTo(1);
    assertThat(m.get("r1_iou0.3").asDouble()).isEqualTo(0.0);
    assertThat(m.get("r3_iou0.3").asDouble()).isEqualTo(100.0);
    assertThat(m.get("r5_iou0.5").asDouble()).isEqualTo(100.0);
    assertThat(m.get("miou").asDouble()).isEqualTo(0.0);
    assertThat(m.get("missing_query_text").asInt()).isEqualTo(gt.missingQueryText());

    Cli.Out table = Cli.run("eval", "score-nlq", "--annotations", data.resolve("nlq_val.json").toString(),
        "--predictions", p.toString());
    assertThat(table.out()).contains("random intervals", "paper (LAVITI, ZS)", "8.52");
  }

  @Test
  void a_malformed_prediction_file_is_one_clear_line_and_exit_code_1() throws Exception {
    Path gt = dir.resolve("nlq.json");
    NlqAnnotations.write(gt, "val", List.of());
    Path bad = dir.resolve("bad.json");
    Files.writeString(bad, "{\"version\": \"0.9\", \"challenge\": \"ego4d_nlq_challenge\", \"results\": []}");
    Cli.Out r = Cli.run("eval", "score-nlq", "--annotations", gt.toString(), "--predictions", bad.toString());
    assertThat(r.rc()).isEqualTo(1);
    assertThat(r.err()).contains("\"version\" must be \"1.0\"").doesNotContain("Exception");
  }
}
