package dev.moments.model.rank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class MomentVectorsTest {
  @Test
  void an_embedding_is_stored_as_the_int8_of_its_unit_vector_at_max_over_127() {
    // (3, 4, 0) -> unit (0.6, 0.8, 0) -> scale 0.8/127 -> (95.25, 127, 0) rounded
    assertThat(MomentVectors.int8(new float[] {3, 4, 0}, "e")).containsExactly(95, 127, 0);
    // the same values the frame evidence keeps (one quantizer for both)
    float[] u = MomentVectors.unit(new float[] {0.3f, -2f, 1.1f, 0.01f}, "e");
    assertThat(MomentVectors.int8(new float[] {0.3f, -2f, 1.1f, 0.01f}, "e"))
        .containsExactly(FrameEvidence.int8(u, FrameEvidence.scale(u)));
    // the norm does not matter
    assertThat(MomentVectors.int8(new float[] {30, 40, 0}, "e")).containsExactly(95, 127, 0);
  }

  @Test
  void the_read_back_is_the_unit_vector_of_the_int8_values() {
    // what the index reads back, seen through the axes: the int8 values over their norm
    byte[] v = MomentVectors.int8(new float[] {3, 4, 0}, "e");
    double n = Math.hypot(95, 127);
    assertThat(MomentVectors.similarity(new float[] {1, 0, 0}, v)).isCloseTo((float) (95 / n), within(1e-7f));
    assertThat(MomentVectors.similarity(new float[] {0, 1, 0}, v)).isCloseTo((float) (127 / n), within(1e-7f));
    assertThat(MomentVectors.similarity(new float[] {0, 0, 1}, v)).isZero();
    assertThat(MomentVectors.similarity(new float[] {1, 1}, new byte[] {0, 0})).isZero();
  }

  @Test
  void similarity_is_the_cosine_of_the_float_query_with_the_int8_vector() {
    byte[] v = MomentVectors.int8(new float[] {3, 4, 0}, "e");
    assertThat(MomentVectors.similarity(new float[] {2, 0, 0}, v)).isEqualTo((float) (95 / Math.hypot(95, 127)));
    assertThat(MomentVectors.similarity(new float[] {0, 0, 5}, v)).isZero();
    assertThat(MomentVectors.similarity(new float[] {0, 0, 0}, v)).isZero();
    assertThatThrownBy(() -> MomentVectors.similarity(new float[] {1, 0}, v))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("query has 2 dimensions, the moment vector 3 (text embeddings and the model must share one space)");
    assertThatThrownBy(() -> MomentVectors.int8(new float[] {0, 0}, "moment x embedding"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("moment x embedding must not be all zeros");
  }

  @Test
  void at_dim_1024_the_int8_cosine_is_within_a_few_thousandths_of_the_float_one() {
    java.util.SplittableRandom r = new java.util.SplittableRandom(5);
    double worst = 0;
    for (int t = 0; t < 200; t++) {
      float[] a = new float[1024];
      float[] q = new float[1024];
      for (int j = 0; j < a.length; j++) {
        a[j] = (float) r.nextGaussian();
        q[j] = (float) (0.3 * a[j] + r.nextGaussian()); // cosines around 0.3
      }
      double exact = dot(MomentVectors.unit(q, "q"), MomentVectors.unit(a, "a"));
      worst = Math.max(worst, Math.abs(MomentVectors.similarity(q, MomentVectors.int8(a, "a")) - exact));
    }
    assertThat(worst).isLessThan(0.005);
  }

  private static double dot(float[] a, float[] b) {
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d += (double) a[i] * b[i];
    }
    return d;
  }
}
