package dev.moments.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TrainingSet#openRandom}: chunks cut as an online indexer's windows (an end anywhere from
 * the shortest length on, reaching back a window, less near the start), seeded, with each chunk's
 * narrations at times relative to its own start.
 */
class TrainingSetRandomTest {
  @TempDir Path dir;

  @Test
  void random_chunks_are_windows_ending_anywhere_and_the_same_for_the_same_seed() throws Exception {
    // 3 videos of 120 s at 2 fps (240 frames); chunks of 30 s (60 frames), at least 10 s (20 frames)
    TinySynth s = TinySynth.write(dir, "v", 3, 120, 2.0, 8, 4, 5, 7);
    TrainingSet a = TrainingSet.openRandom(dir, s.narrations, s.texts::get, 30, 10, 4, 11);
    TrainingSet b = TrainingSet.openRandom(dir, s.narrations, s.texts::get, 30, 10, 4, 11);
    TrainingSet c = TrainingSet.openRandom(dir, s.narrations, s.texts::get, 30, 10, 4, 12);

    // 4 chunks per 30 s of video: 16 per video (every one has narrations: events are at most 14 s)
    assertThat(a.chunks()).hasSize(48);
    Set<Integer> ends = new HashSet<>();
    int shorter = 0;
    for (TrainingSet.Chunk ch : a.chunks()) {
      assertThat(ch.to()).isBetween(20, 240);
      assertThat(ch.frames()).isBetween(20, 60);
      if (ch.frames() < 60) {
        shorter++;
        assertThat(ch.from()).as("a chunk shorter than the window starts at the video's start").isZero();
      }
      ends.add(ch.to());
      // narrations inside the chunk, relative to its start
      List<TimedText> narr = s.narrations.get(ch.videoUid());
      for (double t : ch.times()) {
        assertThat(t).isBetween(0.0, ch.frames() / 2.0);
        assertThat(narr).anyMatch(n -> Math.abs(n.timestampSec() - (ch.from() / 2.0 + t)) < 1e-9);
      }
    }
    // not a grid: ends spread over the videos, some early (short) windows among them
    assertThat(ends.size()).isGreaterThan(20);
    assertThat(shorter).isPositive();
    assertThat(a.summary()).containsEntry("chunking", "random").containsEntry("chunk_seed", 11L);

    assertThat(spans(b)).isEqualTo(spans(a));
    assertThat(spans(c)).isNotEqualTo(spans(a));
  }

  @Test
  void bad_lengths_are_refused_with_the_values() {
    assertThatThrownBy(() -> TrainingSet.openRandom(dir, java.util.Map.of(), x -> null, 30, 40, 4, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("min 40.0 s and chunk 30.0 s");
    assertThatThrownBy(() -> TrainingSet.openRandom(dir, java.util.Map.of(), x -> null, 30, 10, 0, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("coverage must be > 0, got 0.0");
  }

  private static List<String> spans(TrainingSet t) {
    return t.chunks().stream().map(ch -> ch.videoUid() + ":" + ch.from() + "-" + ch.to()).toList();
  }
}
