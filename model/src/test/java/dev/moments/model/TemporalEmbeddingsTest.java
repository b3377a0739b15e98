package dev.moments.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class TemporalEmbeddingsTest {
  // three rows: positions 0, 0.5, 1
  private static final float[][] TABLE = {{0, 0}, {2, 4}, {10, 0}};

  @Test
  void interpolation_hits_rows_at_their_positions_and_mixes_linearly_between() {
    assertThat(TemporalEmbeddings.at(TABLE, 0.0)).containsExactly(0f, 0f);
    assertThat(TemporalEmbeddings.at(TABLE, 0.5)).containsExactly(2f, 4f);
    assertThat(TemporalEmbeddings.at(TABLE, 1.0)).containsExactly(10f, 0f);
    // r = 0.25 is half-way between rows 0 and 1: (1, 2); r = 0.875 is 3/4 of the way 1 -> 2: (8, 1)
    assertThat(TemporalEmbeddings.at(TABLE, 0.25)).containsExactly(1f, 2f);
    assertThat(TemporalEmbeddings.at(TABLE, 0.875)).containsExactly(8f, 1f);
    // outside [0, 1] clamps to the edges
    assertThat(TemporalEmbeddings.at(TABLE, -3)).containsExactly(0f, 0f);
    assertThat(TemporalEmbeddings.at(TABLE, 7)).containsExactly(10f, 0f);
  }

  @Test
  void dense_weights_times_the_table_equal_the_interpolation() {
    double[] pos = {0.1, 0.5, 0.9, 1.0};
    float[] w = TemporalEmbeddings.weights(pos, 3);
    for (int p = 0; p < pos.length; p++) {
      float[] expected = TemporalEmbeddings.at(TABLE, pos[p]);
      float sum = 0;
      for (int d = 0; d < 2; d++) {
        float got = 0;
        for (int i = 0; i < 3; i++) {
          got += w[p * 3 + i] * TABLE[i][d];
        }
        assertThat(got).isCloseTo(expected[d], within(1e-5f));
      }
      for (int i = 0; i < 3; i++) {
        sum += w[p * 3 + i];
      }
      assertThat(sum).isCloseTo(1f, within(1e-6f));
    }
  }

  @Test
  void tokens_sit_at_the_centre_of_their_frames_and_short_windows_get_one_token() {
    // 14 frames, kernel 7: tokens cover frames 0..6 and 7..13, centres 3.5/14 and 10.5/14
    assertThat(TemporalEmbeddings.tokenPositions(14, 7)).containsExactly(0.25, 0.75);
    // 10 frames: 2 tokens, the second (frames 7..13, padded) clamps to 1
    assertThat(TemporalEmbeddings.tokenPositions(10, 7)).containsExactly(0.35, 1.0);
    assertThat(TemporalEmbeddings.tokenCount(3, 7)).isEqualTo(1);
    assertThat(TemporalEmbeddings.tokenCount(3600, 7)).isEqualTo(515);
    assertThat(TemporalEmbeddings.framePositions(4)).containsExactly(0.125, 0.375, 0.625, 0.875);
    assertThat(TemporalEmbeddings.timePosition(30, 600, 6)).isEqualTo(0.3);
  }

  @Test
  void sinusoidal_rows_are_more_similar_to_neighbours_than_to_distant_rows() {
    float[][] e = TemporalEmbeddings.sinusoidal(64, 32);
    assertThat(cos(e[10], e[11])).isGreaterThan(cos(e[10], e[30]));
    assertThat(e[0][0]).isEqualTo(0f);
    assertThat(e[0][1]).isEqualTo(1f);
  }

  private static double cos(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
