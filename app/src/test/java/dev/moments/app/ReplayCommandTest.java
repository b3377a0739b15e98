package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.eval.LiveWindows;
import dev.moments.eval.NlqPredictions;
import dev.moments.trainer.ego4d.NlqAnnotations;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A synthetic feature set replayed through a real in-process broker, the indexer (Kafka Streams),
 * the Lucene index and the HTTP query API scores exactly what {@code eval nlq} scores offline
 * with the same model: the clips are as long as the window and the hop is the window, so the
 * live indexer reads each clip as one window (its idle flush), as offline evaluation does.
 */
class ReplayCommandTest {
  @TempDir Path dir;

  @Test
  void the_live_pipeline_scores_the_same_as_offline_evaluation() throws Exception {
    Path data = dir.resolve("synth");
    assertThat(Cli.run("synth", "features", "--out", data.toString(), "--videos", "7", "--val-videos", "3",
        "--minutes", "2", "--dim", "16").rc()).isZero();
    Path model = dir.resolve("model");
    Cli.Out train = Cli.run("train", "--narrations", data.resolve("narration.json").toString(), "--features",
        data.resolve("features").toString(), "--text-embeddings", data.resolve("text_embeddings.npz").toString(),
        "--out", model.toString(), "--config", "tiny", "--epochs", "6", "--batch", "2", "--lr", "2e-3",
        "--chunk-sec", "120");
    assertThat(train.rc()).as(train.err()).isZero();

    Path preds = dir.resolve("live.json");
    Cli.Out replay = Cli.run("replay", "--dataset", data.toString(), "--model", model.toString(), "--work",
        dir.resolve("work").toString(), "--predictions-out", preds.toString(), "--json");
    assertThat(replay.rc()).as(replay.err()).isZero();
    JsonNode m = new ObjectMapper().readTree(replay.out());
    NlqAnnotations gt = NlqAnnotations.read(data.resolve("nlq_val.json"));
    assertThat(gt.queries()).hasSizeGreaterThan(8);
    for (String k : new String[] {"r1_iou0.3", "r3_iou0.3", "r5_iou0.3", "r1_iou0.5", "r3_iou0.5", "r5_iou0.5"}) {
      assertThat(m.path("online").path(k).asDouble(-1)).as(k).isBetween(0.0, 100.0)
          .isEqualTo(m.path("offline").path(k).asDouble(-2));
    }
    // live times are whole epoch milliseconds: the mean IoU agrees to well under a hundredth of a point
    assertThat(m.path("online").path("miou").asDouble(-1))
        .isCloseTo(m.path("offline").path("miou").asDouble(), org.assertj.core.data.Offset.offset(0.01));
    // every query was answered through HTTP with up to 5 spans inside its 120 s clip
    List<NlqPredictions.Result> live = NlqPredictions.read(preds);
    assertThat(live).hasSize(gt.queries().size());
    for (NlqPredictions.Result r : live) {
      assertThat(r.predictedTimes()).isNotEmpty().hasSizeLessThanOrEqualTo(5);
      for (double[] t : r.predictedTimes()) {
        assertThat(t[0]).isBetween(0.0, 120.0);
        assertThat(t[1]).isBetween(t[0], 120.0);
      }
    }
    assertThat(replay.err()).contains("replay: 3 clips").contains("asked");
    // the indexer emitted exactly the windows LiveWindows predicts (the wait did not fall back)
    assertThat(replay.err()).doesNotContain("expected moments were indexed");

    // a 30 s hop: the live index also holds the moments of the partial windows ending at 30, 60
    // and 90 s (LiveWindows predicts them, and the wait for exactly that many moments ends)
    Cli.Out hop = Cli.run("replay", "--dataset", data.toString(), "--model", model.toString(), "--work",
        dir.resolve("work-hop").toString(), "--hop-sec", "30", "--json");
    assertThat(hop.rc()).as(hop.err()).isZero();
    assertThat(hop.err()).doesNotContain("expected moments were indexed");
    assertThat(LiveWindows.live(720, 6, 120, 30, 10)).hasSize(4);
  }

  @Test
  void rendered_videos_replay_through_ingest_and_the_featurizer() throws Exception {
    Path world = dir.resolve("world");
    assertThat(Cli.run("synth", "video", "--out", world.toString(), "--videos", "2", "--minutes", "1").rc()).isZero();
    Path preds = dir.resolve("live.json");
    // the bundled (random) tiny-clip encoder and laviti-tiny model: this checks the plumbing, not quality
    Cli.Out replay = Cli.run("replay", "--dataset", world.toString(), "--videos", world.toString(), "--model",
        "../models/laviti-tiny", "--encoder", "../models/tiny-clip", "--work", dir.resolve("work").toString(),
        "--predictions-out", preds.toString(), "--json");
    assertThat(replay.rc()).as(replay.err()).isZero();
    JsonNode m = new ObjectMapper().readTree(replay.out());
    assertThat(m.path("online").path("r5_iou0.3").asDouble(-1)).isBetween(0.0, 100.0);
    assertThat(m.path("offline").path("r5_iou0.3").asDouble(-1)).isBetween(0.0, 100.0);
    NlqAnnotations gt = NlqAnnotations.read(world.resolve("nlq_val.json"));
    List<NlqPredictions.Result> live = NlqPredictions.read(preds);
    assertThat(live).hasSize(gt.queries().size()).isNotEmpty()
        .allSatisfy(r -> assertThat(r.predictedTimes()).isNotEmpty().hasSizeLessThanOrEqualTo(5));
    assertThat(replay.err()).contains("ingested 2/2 clips").contains("offline features");
  }
}
