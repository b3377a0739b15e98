package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The environment every PyTorch reference child gets, and the one-line "reference missing" reports. */
class BenchReferencesTest {
  @TempDir Path tmp;

  @Test
  void the_reference_environment_pins_every_pool_to_the_threads_and_keeps_big_blocks_in_the_heap() {
    assertThat(BenchReferences.environment(2)).containsExactlyInAnyOrderEntriesOf(Map.of(
        "OMP_NUM_THREADS", "2", "OPENBLAS_NUM_THREADS", "2", "MKL_NUM_THREADS", "2",
        "OMP_WAIT_POLICY", "PASSIVE",
        "GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824"));
  }

  @Test
  void a_reference_child_receives_the_environment() throws Exception {
    Process p = BenchReferences.processBuilder(Path.of("/usr/bin/env"), List.of(), 3).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isZero();
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : out.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        env.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    assertThat(env).containsAllEntriesOf(BenchReferences.environment(3));
    assertThat(env.get("OMP_NUM_THREADS")).isEqualTo("3");
  }

  @Test
  void the_script_side_sets_the_same_environment_when_run_by_hand() throws Exception {
    assumeTrue(Files.isExecutable(BenchReferences.DEBIAN_PYTHON), "no /usr/bin/python3");
    Path script = BenchReferences.script(Path.of("bench/torch_env.py"));
    Process p = new ProcessBuilder(BenchReferences.DEBIAN_PYTHON.toString(), "-c",
        "import json, sys; sys.path.insert(0, sys.argv[1]); import torch_env; "
            + "print(json.dumps(torch_env.environment(5)))", script.getParent().toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor()).as(out).isZero();
    @SuppressWarnings("unchecked")
    Map<String, String> py = new com.fasterxml.jackson.databind.ObjectMapper().readValue(out, Map.class);
    assertThat(py).isEqualTo(BenchReferences.environment(5));
  }

  @Test
  void the_cpu_wheel_for_the_python_is_found_and_the_env_variable_wins() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("wheels"));
    Path cpu = Files.createFile(dir.resolve("torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"));
    Files.createFile(dir.resolve("torch-2.14.1-cp311-cp311-manylinux_2_28_x86_64.whl")); // CUDA: needs nvidia-*
    Files.createFile(dir.resolve("torch-2.13.0+cpu-cp312-cp312-manylinux_2_28_x86_64.whl"));
    assertThat(BenchReferences.wheel(null, List.of(tmp.resolve("absent"), dir), "cp311")).isEqualTo(cpu);
    assertThat(BenchReferences.wheel(null, List.of(dir), "cp313")).isNull();
    Path own = Files.createFile(tmp.resolve("my-torch.whl"));
    assertThat(BenchReferences.wheel(own.toString(), List.of(dir), "cp311")).isEqualTo(own);
  }

  @Test
  void a_missing_reference_is_one_line_with_the_command_that_installs_it_never_an_error() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
    List<BenchReferences.Reference> found = BenchReferences.find(List.of(tmp.resolve("no-python")), 2,
        tmp.resolve("venvs"), List.of(), null, out);
    assertThat(found).isEmpty();
    assertThat(buf.toString(StandardCharsets.UTF_8).lines().toList()).containsExactly(
        "reference missing: " + tmp.resolve("no-python") + ": does not run; install torch for it");

    assertThat(BenchReferences.missingDebian(null)).isEqualTo("reference missing: PyTorch 1.13 (Debian): "
        + "/usr/bin/python3 does not run; install it with: apt-get install python3-torch");
    assertThat(BenchReferences.missingWheel("cp311", List.of(Path.of("/opt/wheels")), null)).isEqualTo(
        "reference missing: PyTorch 2.x CPU wheel: no torch-2*+cpu-cp311-*.whl in /opt/wheels and "
            + "MOMENTS_TORCH_WHEEL unset; get one and set MOMENTS_TORCH_WHEEL=FILE (the bench then makes "
            + "its venv), or pass --python PY");
  }

  @Test
  void without_a_wheel_the_default_search_reports_it_missing_and_makes_no_venv() {
    assumeTrue(Files.isExecutable(BenchReferences.DEBIAN_PYTHON), "no /usr/bin/python3");
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
    List<BenchReferences.Reference> found = BenchReferences.find(null, 2, tmp.resolve("venvs"),
        List.of(tmp.resolve("no-wheels")), null, out);
    List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines).filteredOn(l -> l.startsWith("reference missing: PyTorch 2.x CPU wheel: no torch-2*+cpu-cp3"))
        .hasSize(1);
    assertThat(found).allSatisfy(r -> assertThat(r.python()).isEqualTo(BenchReferences.DEBIAN_PYTHON));
    assertThat(lines).filteredOn(l -> l.startsWith("reference: PyTorch ")).hasSize(found.size());
    assertThat(tmp.resolve("venvs")).doesNotExist();
  }
}
