package dev.moments.trainer.ego4d;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NarrationsTest {
  @TempDir Path dir;

  // The real layout, with the fields the Ego4D file carries, out of time order across passes.
  private static final String REAL = """
      {
        "vid-a": {
          "narration_pass_1": {
            "narrations": [
              {"timestamp_sec": 12.5, "timestamp_frame": 375, "narration_text": "#C C opens a door",
               "annotation_uid": "u1", "_unmapped_timestamp_sec": 12.49},
              {"timestamp_sec": 3.0, "timestamp_frame": 90, "narration_text": "#O man X holds a cup",
               "annotation_uid": "u1"},
              {"timestamp_sec": 20.0, "timestamp_frame": 600, "narration_text": "#unsure",
               "annotation_uid": "u1"}
            ],
            "summaries": [{"start_sec": 0, "end_sec": 30, "summary_text": "#Summary C cooks"}]
          },
          "narration_pass_2": {
            "narrations": [
              {"timestamp_sec": 7.25, "timestamp_frame": 217, "narration_text": "#C C picks #unsure .",
               "annotation_uid": "u2"}
            ],
            "summaries": []
          }
        },
        "vid-b": {"status": "redacted"},
        "vid-c": {"narration_pass_1": {"narrations": [{"timestamp_sec": 1, "narration_text": "#C  c   walks   "}], "summaries": []}}
      }
      """;

  @Test
  void tags_are_removed_by_the_documented_rule() {
    assertThat(Narrations.clean("#C C opens a door")).isEqualTo("C opens a door");
    assertThat(Narrations.clean("#c C opens a door")).isEqualTo("C opens a door");
    assertThat(Narrations.clean("#O man X holds a cup")).isEqualTo("man X holds a cup");
    assertThat(Narrations.clean("#C C picks #unsure")).isEqualTo("C picks");
    assertThat(Narrations.clean("#C C picks #Unsure .")).isEqualTo("C picks.");
    assertThat(Narrations.clean("#unsure")).isNull();
    assertThat(Narrations.clean("   ")).isNull();
    assertThat(Narrations.clean("#C")).isNull();
    assertThat(Narrations.clean("C puts the cup#2 down")).isEqualTo("C puts the cup#2 down");
  }

  @Test
  void both_passes_are_merged_cleaned_and_sorted_by_time_and_keep_their_pass() throws IOException {
    Path f = dir.resolve("narration.json");
    Files.writeString(f, REAL);

    Narrations n = Narrations.read(f);

    assertThat(n.byVideo().keySet()).containsExactly("vid-a", "vid-c");
    assertThat(n.of("vid-a")).containsExactly(
        new Narration(3.0, "man X holds a cup"),
        new Narration(7.25, "C picks.", 1),
        new Narration(12.5, "C opens a door"));
    assertThat(n.of("vid-c")).containsExactly(new Narration(1.0, "c walks"));
    assertThat(n.of("vid-b")).isEmpty();
    assertThat(n.kept()).isEqualTo(4);
    assertThat(n.dropped()).isEqualTo(1);
  }

  @Test
  void one_pass_can_be_selected() throws IOException {
    Path f = dir.resolve("narration.json");
    Files.writeString(f, REAL);

    Narrations n = Narrations.read(f, EnumSet.of(Narrations.Pass.PASS_2));

    assertThat(n.byVideo().keySet()).containsExactly("vid-a");
    assertThat(n.of("vid-a")).containsExactly(new Narration(7.25, "C picks.", 1));
  }

  @Test
  void what_the_writer_writes_reads_back() throws IOException {
    Path f = dir.resolve("out/narration.json");
    Narrations.write(f, Map.of("v1", Map.of(
        Narrations.Pass.PASS_1, List.of(new Narrations.Raw(4.0, "#C C puts the keys on the shelf"),
            new Narrations.Raw(1.5, "#C C opens the drawer")),
        Narrations.Pass.PASS_2, List.of(new Narrations.Raw(2.0, "#unsure")))));

    Narrations n = Narrations.read(f);
    assertThat(n.of("v1")).containsExactly(
        new Narration(1.5, "C opens the drawer"), new Narration(4.0, "C puts the keys on the shelf"));
    assertThat(n.dropped()).isEqualTo(1);
    assertThat(Files.readString(f)).contains("\"narration_pass_1\"", "\"summaries\"",
        "\"timestamp_frame\":45", "\"annotation_uid\"");
  }

  @Test
  void malformed_files_are_clear_errors() throws IOException {
    Path arr = dir.resolve("a.json");
    Files.writeString(arr, "[1, 2]");
    assertThatThrownBy(() -> Narrations.read(arr)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keyed by video_uid");
    Path broken = dir.resolve("b.json");
    Files.writeString(broken, "{\"v\": {\"narration_pass_1\": {\"narrations\": [");
    assertThatThrownBy(() -> Narrations.read(broken)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not valid JSON");
    Path noTime = dir.resolve("c.json");
    Files.writeString(noTime, "{\"v\": {\"narration_pass_1\": {\"narrations\": [{\"narration_text\": \"#C C x\"}]}}}");
    assertThatThrownBy(() -> Narrations.read(noTime)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timestamp_sec");
    assertThatThrownBy(() -> Narrations.read(dir.resolve("missing.json")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not found");
  }
}
