package dev.moments.featurizer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
  @TempDir Path dir;

  @Test
  void written_matrix_reads_back_row_by_row() throws Exception {
    Path f = dir.resolve("v.npy");
    Npy.write(f, new float[][] {{1f, 2f, 3f}, {-4f, 0.5f, 6f}});
    Npy.Matrix m = Npy.read(f);
    assertThat(m.rows()).isEqualTo(2);
    assertThat(m.cols()).isEqualTo(3);
    assertThat(m.row(1)).containsExactly(-4f, 0.5f, 6f);
    // header + padding is a multiple of 64 bytes; 6 floats follow
    assertThat(Files.size(f)).isEqualTo(128 + 24);
  }

  @Test
  void reads_float16_written_by_numpy() throws Exception {
    // np.save(f, np.array([[1.0, -2.0]], dtype=np.float16)): header then 0x3C00, 0xC000
    byte[] header = ("{'descr': '<f2', 'fortran_order': False, 'shape': (1, 2), }"
        + " ".repeat(54) + "\n").getBytes();
    byte[] file = new byte[10 + header.length + 4];
    file[0] = (byte) 0x93;
    System.arraycopy("NUMPY".getBytes(), 0, file, 1, 5);
    file[6] = 1;
    file[8] = (byte) header.length;
    System.arraycopy(header, 0, file, 10, header.length);
    int at = 10 + header.length;
    file[at] = 0x00; file[at + 1] = 0x3C; file[at + 2] = 0x00; file[at + 3] = (byte) 0xC0;
    Path f = dir.resolve("h.npy");
    Files.write(f, file);
    assertThat(Npy.read(f).row(0)).containsExactly(1f, -2f);
  }

  @Test
  void rejects_a_file_that_is_not_npy() throws Exception {
    Path f = dir.resolve("x.npy");
    Files.writeString(f, "hello, not numpy");
    assertThatThrownBy(() -> Npy.read(f)).hasMessageContaining("not a .npy file");
  }

  @Test
  void manifest_round_trips() throws Exception {
    FeatureManifest m = new FeatureManifest("enc", 6.0, 3, Map.of())
        .with("uid-1", new FeatureManifest.Video(2, 0.333));
    m.write(dir);
    assertThat(FeatureManifest.read(dir)).isEqualTo(m);
  }
}
