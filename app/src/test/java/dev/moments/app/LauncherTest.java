package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./moments} launcher as a user meets it (its JVM flags, its stderr), run on the classes
 * this build made ({@code MOMENTS_CLASSPATH}) so nothing is packaged or rebuilt here.
 */
class LauncherTest {
  private static final Path ROOT = findRoot();

  private static Path findRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !(Files.isRegularFile(p.resolve("moments")) && Files.isRegularFile(p.resolve("pom.xml")))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("no moments launcher above " + Path.of("").toAbsolutePath());
    }
    return p;
  }

  @Test
  void a_bad_input_gives_exactly_one_line_on_stderr_and_exit_1(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("missing.mp4");
    ProcessBuilder pb = new ProcessBuilder("bash", ROOT.resolve("moments").toString(),
        "ingest", "--stream", "s", "--bootstrap", "127.0.0.1:1", missing.toString())
        .redirectOutput(dir.resolve("out.txt").toFile());
    pb.environment().put("MOMENTS_CLASSPATH", System.getProperty("java.class.path"));
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().remove("MOMENTS_JAVA_OPTS");
    Process p = pb.start();
    // Read to the end: the launcher's stderr closes only when everything on it has been written.
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    // Not "WARNING: Using incubator modules: jdk.incubator.vector" first: the JVM's start-up notice
    // for the vector module Lucene needs is the launcher's business, not the user's.
    assertThat(err).isEqualTo("moments ingest: no such file: " + missing + "\n");
    assertThat(p.exitValue()).isEqualTo(1);
    assertThat(Files.readString(dir.resolve("out.txt"))).isEmpty();
  }

  /**
   * The malloc environment the launcher gives the JVM, seen by a stand-in {@code java} that prints
   * it: one arena for training and the benchmarks (libtorch's blocks above 64 MiB would otherwise be
   * mapped and faulted in on every use), none forced on the services, and a user's own value kept.
   */
  @Test
  void training_and_benchmarks_get_one_malloc_arena_and_the_services_do_not(@TempDir Path dir) throws Exception {
    Path bin = Files.createDirectories(dir.resolve("jdk/bin"));
    Path java = bin.resolve("java");
    Files.writeString(java, """
        #!/bin/bash
        case " $* " in *" -version "*) echo '    java.specification.version = 25' >&2; exit 0 ;; esac
        echo "arena=${MALLOC_ARENA_MAX:-unset} tunables=${GLIBC_TUNABLES:-unset}"
        """);
    java.toFile().setExecutable(true);
    assertThat(launch(dir, null, "train", "--help")).startsWith("arena=1 tunables=glibc.malloc.mmap_threshold=");
    assertThat(launch(dir, null, "bench", "train", "--help")).startsWith("arena=1 ");
    assertThat(launch(dir, null, "serve", "--help")).startsWith("arena=unset ");
    assertThat(launch(dir, null, "index", "--help")).startsWith("arena=unset ");
    assertThat(launch(dir, "4", "train", "--help")).startsWith("arena=4 ");
  }

  private static String launch(Path dir, String arena, String... args) throws Exception {
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("bash", ROOT.resolve("moments").toString()));
    cmd.addAll(java.util.List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("MOMENTS_CLASSPATH", System.getProperty("java.class.path"));
    pb.environment().put("JAVA_HOME", dir.resolve("jdk").toString());
    pb.environment().remove("MALLOC_ARENA_MAX");
    pb.environment().remove("GLIBC_TUNABLES");
    if (arena != null) {
      pb.environment().put("MALLOC_ARENA_MAX", arena);
    }
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return out.lines().filter(l -> l.startsWith("arena=")).findFirst().orElse(out);
  }
}
