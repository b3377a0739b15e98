package dev.moments.featurizer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextEmbeddingsTest {
  private static final Path PYTHON = Path.of("/usr/bin/python3");

  @TempDir Path dir;

  private static Map<String, float[]> sample() {
    Map<String, float[]> m = new LinkedHashMap<>();
    m.put("C opens a door", new float[] {1f, 0f, -0.5f});
    m.put("Where did I put the keys?", new float[] {0.25f, 2f, 3f});
    m.put("café ☕ 𝄞", new float[] {-1f, -2f, -3f}); // BMP and non-BMP code points
    return m;
  }

  @Test
  void written_table_reads_back_with_the_same_vectors() throws IOException {
    Path f = dir.resolve("t.npz");
    TextEmbeddings.write(f, sample());

    TextEmbeddings t = TextEmbeddings.read(f);
    assertThat(t.dim()).isEqualTo(3);
    assertThat(t.size()).isEqualTo(3);
    assertThat(t.texts()).containsExactlyInAnyOrderElementsOf(sample().keySet());
    assertThat(t.get("Where did I put the keys?")).containsExactly(0.25f, 2f, 3f);
    assertThat(t.get("café ☕ 𝄞")).containsExactly(-1f, -2f, -3f);
    assertThat(t.get("not there")).isNull();
  }

  @Test
  void vectors_of_different_lengths_are_rejected() {
    Map<String, float[]> m = Map.of("a", new float[2], "b", new float[3]);
    assertThatThrownBy(() -> TextEmbeddings.write(dir.resolve("x.npz"), m))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dimension");
  }

  @Test
  void a_file_that_is_not_a_zip_is_a_clear_error() throws IOException {
    Path f = dir.resolve("bad.npz");
    Files.writeString(f, "hello");
    assertThatThrownBy(() -> TextEmbeddings.read(f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an .npz");
    assertThatThrownBy(() -> TextEmbeddings.read(dir.resolve("missing.npz")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not found");
  }

  @Test
  void numpy_reads_what_java_writes_and_java_reads_what_numpy_writes() throws Exception {
    assumeTrue(Files.isExecutable(PYTHON) && run("import numpy").exitCode == 0,
        "needs /usr/bin/python3 with numpy");
    Path ours = dir.resolve("ours.npz");
    TextEmbeddings.write(ours, sample());
    Result r = run("import numpy as np\n"
        + "z = np.load(r'" + ours + "')\n"
        + "t = list(z['texts']); e = z['embeddings']\n"
        + "print(z['texts'].dtype, e.dtype, e.shape)\n"
        + "i = t.index('Where did I put the keys?')\n"
        + "print(repr(t[i]), e[i].tolist())\n"
        + "print(sorted(t) == t, 'café ☕ 𝄞' in t)\n");
    assertThat(r.exitCode).as(r.out).isZero();
    assertThat(r.out).contains("<U25 float32 (3, 3)")
        .contains("'Where did I put the keys?' [0.25, 2.0, 3.0]")
        .contains("True True");

    for (String save : new String[] {"savez", "savez_compressed"}) {
      Path theirs = dir.resolve(save + ".npz");
      Result w = run("import numpy as np\n"
          + "np." + save + "(r'" + theirs + "', texts=np.array(['a cup', 'C picks up the knife', 'ü']),"
          + " embeddings=np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float32))\n");
      assertThat(w.exitCode).as(w.out).isZero();
      TextEmbeddings t = TextEmbeddings.read(theirs);
      assertThat(t.dim()).isEqualTo(2);
      assertThat(t.get("C picks up the knife")).containsExactly(3f, 4f);
      assertThat(t.get("ü")).containsExactly(5f, 6f);
      assertThat(t.get("a cup")).containsExactly(1f, 2f);
    }
  }

  private record Result(int exitCode, String out) {}

  private Result run(String script) throws Exception {
    Path py = Files.createTempFile(dir, "s", ".py");
    Files.writeString(py, script, StandardCharsets.UTF_8);
    Process p = new ProcessBuilder(PYTHON.toString(), py.toString()).redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Result(-1, out);
    }
    return new Result(p.exitValue(), out);
  }
}
