package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

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

  /**
   * Clips that start mid-video, mid-frame (7.37 s into each video: 44.22 frames at 6 fps) and run
   * 245.3 s, not a multiple of the window and hop (120 s, the model's chunk and replay's default
   * hop): the live indexer's windows over a clip's stream are [0, 120 s), then at its end the hop
   * window [120, 240 s) still pending within the lateness and the final [125.5, 245.5 s). The
   * offline row runs exactly those windows, so every query's answer agrees (to the millisecond
   * the live index keeps), and {@code eval nlq --hop-sec 120} prints the offline row exactly.
   * Before: the offline row slid windows from frame 0 ([0, 120), [120, 240), [125.5, 245.5))
   * while the indexer never ran [120, 240) (the final window alone left 120..125.5 s unindexed),
   * and eval nlq had no way to place windows as replay does.
   */
  @Test
  void clips_that_start_mid_video_score_the_same_online_offline_and_in_eval_nlq() throws Exception {
    Path data = dir.resolve("synth");
    assertThat(Cli.run("synth", "features", "--out", data.toString(), "--videos", "6", "--val-videos", "2",
        "--minutes", "5", "--dim", "16", "--seed", "12").rc()).isZero();
    int kept = cutClips(data.resolve("nlq_val.json"), 7.37, 245.3);
    assertThat(kept).isGreaterThanOrEqualTo(8);
    Path model = dir.resolve("model");
    Cli.Out train = Cli.run("train", "--narrations", data.resolve("narration.json").toString(), "--features",
        data.resolve("features").toString(), "--text-embeddings", data.resolve("text_embeddings.npz").toString(),
        "--out", model.toString(), "--config", "tiny", "--epochs", "4", "--batch", "2", "--lr", "2e-3",
        "--chunk-sec", "120");
    assertThat(train.rc()).as(train.err()).isZero();

    Path live = dir.resolve("live.json");
    Path offline = dir.resolve("offline.json");
    Cli.Out replay = Cli.run("replay", "--dataset", data.toString(), "--model", model.toString(), "--work",
        dir.resolve("work").toString(), "--predictions-out", live.toString(), "--offline-predictions-out",
        offline.toString(), "--json");
    assertThat(replay.rc()).as(replay.err()).isZero();
    assertThat(replay.err()).contains("replay: 2 clips").contains("window 120 s, hop 120 s")
        .contains("eval nlq --window-sec 120 --hop-sec 120").doesNotContain("expected moments were indexed");
    JsonNode m = new ObjectMapper().readTree(replay.out());
    for (String k : new String[] {"r1_iou0.3", "r3_iou0.3", "r5_iou0.3", "r1_iou0.5", "r3_iou0.5", "r5_iou0.5"}) {
      assertThat(m.path("online").path(k).asDouble(-1)).as(k).isBetween(0.0, 100.0)
          .isEqualTo(m.path("offline").path(k).asDouble(-2));
    }
    assertThat(m.path("online").path("miou").asDouble(-1))
        .isCloseTo(m.path("offline").path("miou").asDouble(), org.assertj.core.data.Offset.offset(0.01));
    // query by query: the same spans in the same order (offline times are the indexer's whole ms too)
    List<NlqPredictions.Result> off = NlqPredictions.read(offline);
    assertSameAnswers(NlqPredictions.read(live), off, kept);

    // eval nlq with replay's windows prints replay's offline row exactly; by default (sliding
    // windows every 60 s) it says how its windows differ and which flag makes them the same
    Path nlqPreds = dir.resolve("nlq.json");
    Cli.Out nlq = Cli.run("eval", "nlq", "--annotations", data.resolve("nlq_val.json").toString(), "--features",
        data.resolve("features").toString(), "--model", model.toString(), "--text-embeddings",
        data.resolve("text_embeddings.npz").toString(), "--hop-sec", "120", "--predictions-out",
        nlqPreds.toString(), "--json");
    assertThat(nlq.rc()).as(nlq.err()).isZero();
    assertThat(new ObjectMapper().readTree(nlq.out())).isEqualTo(m.path("offline"));
    List<NlqPredictions.Result> evalNlq = NlqPredictions.read(nlqPreds);
    assertThat(evalNlq).hasSameSizeAs(off);
    for (int i = 0; i < off.size(); i++) {
      assertThat(evalNlq.get(i).predictedTimes()).as("query %d", i)
          .usingElementComparator(java.util.Arrays::compare).isEqualTo(off.get(i).predictedTimes());
    }
    Cli.Out sliding = Cli.run("eval", "nlq", "--annotations", data.resolve("nlq_val.json").toString(), "--features",
        data.resolve("features").toString(), "--model", model.toString(), "--text-embeddings",
        data.resolve("text_embeddings.npz").toString(), "--json");
    assertThat(sliding.rc()).as(sliding.err()).isZero();
    assertThat(sliding.err()).contains("windows: sliding, 120 s every 60 s").contains("--hop-sec HOP");

    // windows every 20 s (6-fold overlap): the index keeps each stretch from the 2 windows nearest
    // it, far fewer moments than it consumed, and the offline row (and eval nlq with the same
    // flags) keeps the same ones: the same answers, query by query
    Path liveHop = dir.resolve("live-hop.json");
    Path offlineHop = dir.resolve("offline-hop.json");
    Cli.Out hop = Cli.run("replay", "--dataset", data.toString(), "--model", model.toString(), "--work",
        dir.resolve("work-hop").toString(), "--hop-sec", "20", "--copies", "2", "--predictions-out",
        liveHop.toString(), "--offline-predictions-out", offlineHop.toString(), "--json");
    assertThat(hop.rc()).as(hop.err()).isZero();
    java.util.regex.Matcher km = java.util.regex.Pattern.compile("index: (\\d+) moments kept of (\\d+) consumed")
        .matcher(hop.err());
    assertThat(km.find()).as(hop.err()).isTrue();
    assertThat(Long.parseLong(km.group(1)) * 2).as(hop.err()).isLessThan(Long.parseLong(km.group(2)));
    assertThat(hop.err()).contains("eval nlq --window-sec 120 --hop-sec 20 --copies 2");
    List<NlqPredictions.Result> offHop = NlqPredictions.read(offlineHop);
    assertSameAnswers(NlqPredictions.read(liveHop), offHop, kept);
    Path nlqHop = dir.resolve("nlq-hop.json");
    Cli.Out nlq2 = Cli.run("eval", "nlq", "--annotations", data.resolve("nlq_val.json").toString(), "--features",
        data.resolve("features").toString(), "--model", model.toString(), "--text-embeddings",
        data.resolve("text_embeddings.npz").toString(), "--hop-sec", "20", "--copies", "2", "--predictions-out",
        nlqHop.toString());
    assertThat(nlq2.rc()).as(nlq2.err()).isZero();
    assertSameAnswers(NlqPredictions.read(nlqHop), offHop, kept);
  }

  private static void assertSameAnswers(List<NlqPredictions.Result> on, List<NlqPredictions.Result> off, int kept) {
    assertThat(on).hasSize(kept).hasSameSizeAs(off);
    for (int i = 0; i < on.size(); i++) {
      NlqPredictions.Result a = on.get(i);
      NlqPredictions.Result b = off.get(i);
      assertThat(a.predictedTimes()).as("query %d", i).isNotEmpty().hasSameSizeAs(b.predictedTimes());
      for (int j = 0; j < a.predictedTimes().size(); j++) {
        double[] x = a.predictedTimes().get(j);
        double[] y = b.predictedTimes().get(j);
        assertThat(x[0]).as("query %d answer %d start", i, j).isBetween(0.0, 245.3).isCloseTo(y[0], within(1e-9));
        assertThat(x[1]).as("query %d answer %d end", i, j).isBetween(x[0], 245.3).isCloseTo(y[1], within(1e-9));
      }
    }
  }

  /**
   * Cuts every clip of an nlq_val.json to {@code [video_start_sec + from, + length]}, keeping the
   * queries inside it (times shifted to the new clip); returns how many queries with text remain.
   */
  static int cutClips(Path file, double from, double length) throws java.io.IOException {
    ObjectMapper json = new ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode root = (com.fasterxml.jackson.databind.node.ObjectNode)
        json.readTree(file.toFile());
    int kept = 0;
    for (JsonNode v : root.path("videos")) {
      for (JsonNode c : v.path("clips")) {
        com.fasterxml.jackson.databind.node.ObjectNode clip = (com.fasterxml.jackson.databind.node.ObjectNode) c;
        double start = clip.path("video_start_sec").asDouble() + from;
        clip.put("video_start_sec", start);
        clip.put("video_end_sec", start + length);
        for (JsonNode a : clip.path("annotations")) {
          com.fasterxml.jackson.databind.node.ArrayNode qs =
              (com.fasterxml.jackson.databind.node.ArrayNode) a.path("language_queries");
          for (int i = qs.size() - 1; i >= 0; i--) {
            com.fasterxml.jackson.databind.node.ObjectNode q = (com.fasterxml.jackson.databind.node.ObjectNode) qs.get(i);
            double s = q.path("clip_start_sec").asDouble() - from;
            double e = q.path("clip_end_sec").asDouble() - from;
            if (s < 0 || e > length) {
              qs.remove(i);
            } else {
              q.put("clip_start_sec", s);
              q.put("clip_end_sec", e);
              if (q.hasNonNull("query") && !q.path("query").asText().isBlank()) {
                kept++;
              }
            }
          }
        }
      }
    }
    json.writeValue(file.toFile(), root);
    return kept;
  }
}
