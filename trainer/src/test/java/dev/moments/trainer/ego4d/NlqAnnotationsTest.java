package dev.moments.trainer.ego4d;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NlqAnnotationsTest {
  @TempDir Path dir;

  // Trimmed from the official nlq_val.json layout (extra fields kept to prove they are ignored).
  private static final String OFFICIAL = """
      {"version": "1", "date": "220215", "description": "NLQ annotations (val)", "manifest": "s3://x",
       "videos": [
        {"video_uid": "vid-1", "split": "val", "clips": [
          {"clip_uid": "clip-1", "video_start_sec": 120.0, "video_end_sec": 600.0,
           "video_start_frame": 3600, "video_end_frame": 18000, "clip_start_sec": 0.0, "clip_end_sec": 480.0,
           "source_clip_uid": "src",
           "annotations": [
             {"language_queries": [
                {"clip_start_sec": 10.5, "clip_end_sec": 14.0, "video_start_sec": 130.5,
                 "video_end_sec": 134.0, "template": "Objects: Where is object X?", "query": "Where is the knife?",
                 "slot_x": "knife", "verb_x": "[verb_not_applicable]"},
                {"clip_start_sec": 100.0, "clip_end_sec": 101.0, "template": "Objects: Where is object X?",
                 "slot_x": "cup"},
                {"clip_start_sec": 200.0, "clip_end_sec": 230.0, "query": "Who did I talk to?"}
              ],
              "annotation_uid": "ann-1"}
           ]}
        ]},
        {"video_uid": "vid-2", "clips": [
          {"clip_uid": "clip-2", "video_start_sec": 0, "video_end_sec": 300,
           "annotations": [{"annotation_uid": "ann-2", "language_queries": [
             {"clip_start_sec": 5, "clip_end_sec": 9, "query": "  "}]}]}
        ]}
       ]}
      """;

  @Test
  void queries_carry_clip_and_clip_relative_ground_truth_and_missing_texts_are_counted()
      throws IOException {
    Path f = dir.resolve("nlq_val.json");
    Files.writeString(f, OFFICIAL);

    NlqAnnotations a = NlqAnnotations.read(f);

    assertThat(a.totalQueries()).isEqualTo(4);
    assertThat(a.missingQueryText()).isEqualTo(2); // no "query", and a blank one
    assertThat(a.queries()).containsExactly(
        new NlqAnnotations.Query("vid-1", "clip-1", 120.0, 600.0, "ann-1", 0, "Where is the knife?",
            "Objects: Where is object X?", 10.5, 14.0),
        new NlqAnnotations.Query("vid-1", "clip-1", 120.0, 600.0, "ann-1", 2, "Who did I talk to?",
            null, 200.0, 230.0));
    NlqAnnotations.Query skipped = a.find(new NlqAnnotations.Key("clip-1", "ann-1", 1));
    assertThat(skipped.query()).isNull();
    assertThat(skipped.gtStartSec()).isEqualTo(100.0);
    assertThat(a.clips()).extracting(NlqAnnotations.Clip::durationSec).containsExactly(480.0, 300.0);
  }

  @Test
  void what_the_writer_writes_reads_back_in_the_official_layout() throws IOException {
    Path f = dir.resolve("nlq.json");
    NlqAnnotations.Clip clip = new NlqAnnotations.Clip("v", "c", 30.0, 90.0, List.of(
        new NlqAnnotations.Annotation("a", Arrays.asList(
            new NlqAnnotations.LanguageQuery(1.0, 4.0, "Where did I put the keys?", "Objects: Where is object X?"),
            new NlqAnnotations.LanguageQuery(5.0, 6.0, null, null)))));
    NlqAnnotations.write(f, "val", List.of(clip));

    NlqAnnotations back = NlqAnnotations.read(f);
    assertThat(back.clips()).containsExactly(clip);
    assertThat(back.missingQueryText()).isEqualTo(1);
    String json = Files.readString(f);
    assertThat(json).contains("\"video_start_sec\" : 31.0", "\"clip_uid\" : \"c\"", "\"annotation_uid\" : \"a\"");
  }

  @Test
  void malformed_files_are_clear_errors() throws IOException {
    Path noVideos = dir.resolve("a.json");
    Files.writeString(noVideos, "{\"version\": \"1\"}");
    assertThatThrownBy(() -> NlqAnnotations.read(noVideos))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no \"videos\" array");
    Path noStart = dir.resolve("b.json");
    Files.writeString(noStart, "{\"videos\": [{\"video_uid\": \"v\", \"clips\": [{\"clip_uid\": \"c\","
        + " \"video_start_sec\": 0, \"video_end_sec\": 9, \"annotations\": [{\"annotation_uid\": \"a\","
        + " \"language_queries\": [{\"clip_end_sec\": 3, \"query\": \"q\"}]}]}]}]}");
    assertThatThrownBy(() -> NlqAnnotations.read(noStart))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"clip_start_sec\" under a");
    Path notJson = dir.resolve("c.json");
    Files.writeString(notJson, "{videos:");
    assertThatThrownBy(() -> NlqAnnotations.read(notJson))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> NlqAnnotations.read(dir.resolve("missing.json")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not found");
  }
}
