package dev.moments.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.featurizer.encoder.Encoders;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The PyTorch references of {@code moments bench train}, {@code bench index} and {@code bench
 * featurize}, each configured as strongly as its build allows (issue 10): every reference child
 * gets {@link #environment(int)}, and the references are all PyTorch builds found on the machine
 * (Debian's {@code python3-torch} and a 2.x CPU wheel installed into a virtual environment on
 * first use), so a ratio is taken against the best of them. Also the load average printed before
 * and after each timed part.
 */
final class BenchReferences {
  private BenchReferences() {}

  /** Debian's interpreter; python3-torch installs torch 1.13 for it. */
  static final Path DEBIAN_PYTHON = Path.of("/usr/bin/python3");

  /**
   * glibc's allocator for the reference: blocks up to 1 GiB come from the heap instead of a fresh
   * mmap each (glibc's own threshold is at most 32 MiB, and every activation of the paper config
   * at batch 8 is larger: frames 118 MB, attention scores 68 MB), and free() does not trim the
   * heap below 1 GiB, so a training step reuses the previous step's pages instead of mapping,
   * faulting in and unmapping them again. The same value as bench/torch_env.py.
   */
  static final String GLIBC_TUNABLES =
      "glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824";

  /** Debian packages the 2.x wheel imports at start-up (it is installed with --no-deps). */
  static final String WHEEL_DEPS = "python3-sympy python3-networkx python3-jinja2 python3-filelock "
      + "python3-fsspec python3-typing-extensions";

  /** Local wheel directories newer pure-Python dependencies of the 2.x wheel are taken from. */
  static final List<Path> LOCAL_WHEELS = List.of(Path.of("/opt/wheels"), Path.of("/opt/pypi/files"),
      Path.of("/opt/pypi-more/files"));

  /** What torch 2.x asks for where Debian 12's package is older (installed from LOCAL_WHEELS). */
  static final List<String> PY_DEPS = List.of("typing_extensions>=4.10", "sympy>=1.13.3");

  /** Where a 2.x CPU wheel is looked for, after $MOMENTS_TORCH_WHEEL. */
  static final List<Path> WHEEL_DIRS = List.of(Path.of("/opt/wheels"), Path.of("/opt/pypi-more/files"));

  /** One PyTorch to run a reference script with, and what it was built with. */
  record Reference(Path python, String torch, String blas, String onednn, String parallel, int threads) {
    String describe() {
      return String.format(Locale.ROOT, "PyTorch %s (%s): BLAS %s, oneDNN %s, %s, %d threads", torch, python,
          blas, onednn, parallel, threads);
    }

    /** Short name for a table column: "PyTorch 1.13.0a0". */
    String name() {
      return "PyTorch " + torch;
    }
  }

  /**
   * The environment of a reference child with {@code threads} threads: one pool of that size per
   * threading library (GNU/Intel OpenMP, OpenBLAS, MKL), idle OpenMP workers sleeping instead of
   * spinning against the working threads, and {@link #GLIBC_TUNABLES}.
   */
  static Map<String, String> environment(int threads) {
    String t = Integer.toString(threads);
    Map<String, String> env = new LinkedHashMap<>();
    env.put("OMP_NUM_THREADS", t);
    env.put("OPENBLAS_NUM_THREADS", t);
    env.put("MKL_NUM_THREADS", t);
    env.put("OMP_WAIT_POLICY", "PASSIVE");
    env.put("GLIBC_TUNABLES", GLIBC_TUNABLES);
    return env;
  }

  /** A process builder for {@code python args...} with {@link #environment(int)} set. */
  static ProcessBuilder processBuilder(Path python, List<String> args, int threads) {
    List<String> cmd = new ArrayList<>();
    cmd.add(python.toString());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(environment(threads));
    return pb;
  }

  /** The repository root (bench/ and models/ live there). */
  static Path root() {
    return Encoders.defaultDir().toAbsolutePath().getParent().getParent();
  }

  /** A bench script: as given when it exists, else relative to the repository root. */
  static Path script(Path script) {
    return Files.exists(script) || script.isAbsolute() ? script : root().resolve(script);
  }

  /**
   * The references to run: the interpreters given with {@code --python}, or when none were given,
   * Debian's {@code /usr/bin/python3} and a venv with the 2.x CPU wheel (made under
   * {@code venvs} on first use). Prints one line per reference found and one line per reference
   * missing, with the command that installs it; never fails.
   */
  static List<Reference> find(List<Path> given, int threads, Path venvs, List<Path> wheelDirs,
      String wheelEnv, PrintStream out) {
    List<Reference> found = new ArrayList<>();
    if (given != null && !given.isEmpty()) {
      for (Path p : given) {
        Reference r = probe(p, threads, out, "install torch for it");
        if (r != null) {
          found.add(r);
        }
      }
      found.forEach(r -> out.println("reference: " + r.describe()));
      return found;
    }
    JsonNode debian = describe(DEBIAN_PYTHON, threads);
    Reference deb = reference(DEBIAN_PYTHON, debian);
    if (deb != null) {
      found.add(deb);
    } else {
      out.println(missingDebian(debian));
    }
    String tag = debian != null && debian.hasNonNull("python")
        ? "cp" + debian.get("python").asText().replace(".", "") : null;
    Path wheel = tag == null ? null : wheel(wheelEnv, wheelDirs, tag);
    if (tag == null) {
      out.println("reference missing: PyTorch 2.x CPU wheel (no " + DEBIAN_PYTHON
          + " to make its venv with; install it with: apt-get install python3 python3-venv)");
    } else if (wheel == null) {
      out.println(missingWheel(tag, wheelDirs, wheelEnv));
    } else {
      Reference w = wheelReference(wheel, venvs, threads, out);
      if (w != null) {
        found.add(w);
      }
    }
    found.forEach(r -> out.println("reference: " + r.describe()));
    return found;
  }

  /** {@link #find} with the default places: venvs under target/bench-python, $MOMENTS_TORCH_WHEEL. */
  static List<Reference> find(List<Path> given, int threads, PrintStream out) {
    return find(given, threads, root().resolve("target/bench-python"), WHEEL_DIRS,
        System.getenv("MOMENTS_TORCH_WHEEL"), out);
  }

  /** "DJL speed / best reference speed = 0.58 (PyTorch 1.13.0a0; >1: DJL faster)". */
  static String ratio(String what, double djlSpeed, double bestSpeed, String best) {
    return String.format(Locale.ROOT, "%s: DJL speed / best reference speed = %.2f (best: %s; >1: DJL faster)",
        what, djlSpeed / bestSpeed, best);
  }

  static String missingDebian(JsonNode probe) {
    String why = probe == null ? DEBIAN_PYTHON + " does not run"
        : DEBIAN_PYTHON + " has no torch (" + probe.path("error").asText("?") + ")";
    return "reference missing: PyTorch 1.13 (Debian): " + why
        + "; install it with: apt-get install python3-torch";
  }

  static String missingWheel(String tag, List<Path> dirs, String wheelEnv) {
    return "reference missing: PyTorch 2.x CPU wheel: no torch-2*+cpu-" + tag + "-*.whl in "
        + String.join(", ", dirs.stream().map(Path::toString).toList())
        + (wheelEnv == null || wheelEnv.isBlank() ? " and MOMENTS_TORCH_WHEEL unset"
            : " and MOMENTS_TORCH_WHEEL=" + wheelEnv + " is no such file")
        + "; get one and set MOMENTS_TORCH_WHEEL=FILE (the bench then makes its venv), or pass --python PY";
  }

  /** $MOMENTS_TORCH_WHEEL when it is a file, else the newest torch-2*+cpu wheel for the tag. */
  static Path wheel(String wheelEnv, List<Path> dirs, String tag) {
    if (wheelEnv != null && !wheelEnv.isBlank() && Files.isRegularFile(Path.of(wheelEnv))) {
      return Path.of(wheelEnv);
    }
    Path best = null;
    for (Path d : dirs) {
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (DirectoryStream<Path> s = Files.newDirectoryStream(d, "torch-2*+cpu-" + tag + "-*.whl")) {
        for (Path p : s) {
          if (best == null || p.getFileName().toString().compareTo(best.getFileName().toString()) > 0) {
            best = p;
          }
        }
      } catch (IOException e) {
        // an unreadable directory holds no wheel for us
      }
    }
    return best;
  }

  /** The wheel's venv under {@code venvs} (made now when missing), as a reference, or null. */
  private static Reference wheelReference(Path wheel, Path venvs, int threads, PrintStream out) {
    String stem = wheel.getFileName().toString().replaceFirst("\\.whl$", "");
    Path venv = venvs.resolve(stem).toAbsolutePath();
    Path python = venv.resolve("bin/python");
    String install = "/usr/bin/python3 -m venv --system-site-packages " + venv + " && " + python
        + " -m pip install --no-deps --no-index " + wheel;
    if (!Files.isExecutable(python)) {
      Path tmp = venvs.resolve(stem + ".making").toAbsolutePath();
      long t0 = System.nanoTime();
      try {
        Files.createDirectories(venvs);
        deleteTree(tmp);
        String err = run(List.of(DEBIAN_PYTHON.toString(), "-m", "venv", "--system-site-packages", tmp.toString()));
        if (err == null) {
          // Debian 12's typing-extensions (4.4) and sympy (1.11) are older than torch 2.x asks for
          // (>= 4.10, >= 1.13.3; 2.13 does not import with 4.4): take newer pure-Python wheels from
          // the machine's wheel directories when they hold them, else Debian's stay in use.
          List<String> pip = new ArrayList<>(List.of(tmp.resolve("bin/python").toString(), "-m", "pip",
              "install", "--quiet", "--no-deps", "--no-index", "--disable-pip-version-check"));
          for (Path d : LOCAL_WHEELS) {
            pip.addAll(List.of("--find-links", d.toString()));
          }
          pip.add(wheel.toString());
          List<String> withDeps = new ArrayList<>(pip);
          withDeps.addAll(PY_DEPS);
          err = run(withDeps) == null ? null : run(pip);
        }
        if (err != null) {
          out.println("reference missing: PyTorch 2.x CPU wheel: making its venv failed (" + err
              + "); install it with: " + install);
          deleteTree(tmp);
          return null;
        }
        JsonNode d = describe(tmp.resolve("bin/python"), threads);
        if (reference(tmp.resolve("bin/python"), d) == null) {
          out.println(notImporting(venv, d));
          deleteTree(tmp);
          return null;
        }
        Files.move(tmp, venv, StandardCopyOption.ATOMIC_MOVE);
        // a venv's bin/ scripts name the directory they were made in; python itself is a link
        out.printf(Locale.ROOT, "made %s with %s (%.0f s; delete it to remake)%n", venv, wheel.getFileName(),
            (System.nanoTime() - t0) / 1e9);
      } catch (IOException | InterruptedException e) {
        out.println("reference missing: PyTorch 2.x CPU wheel: making its venv failed (" + e
            + "); install it with: " + install);
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        return null;
      }
    }
    JsonNode d = describe(python, threads);
    Reference r = reference(python, d);
    if (r == null) {
      out.println(notImporting(venv, d));
    }
    return r;
  }

  private static String notImporting(Path venv, JsonNode d) {
    return "reference missing: PyTorch 2.x CPU wheel in " + venv + " does not import ("
        + (d == null ? "does not run" : d.path("error").asText("?")) + "); install its Python deps with: "
        + "apt-get install " + WHEEL_DEPS + " and, where Debian's are too old, " + venv
        + "/bin/python -m pip install --no-deps 'typing_extensions>=4.10' 'sympy>=1.13.3'";
  }

  /** Runs a command to its end; null when it succeeded, else its exit code and last output line. */
  private static String run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String outText = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      return "timed out: " + String.join(" ", cmd);
    }
    if (p.exitValue() == 0) {
      return null;
    }
    String[] lines = outText.split("\n");
    return "exit " + p.exitValue() + ": " + lines[lines.length - 1];
  }

  private static Reference probe(Path python, int threads, PrintStream out, String hint) {
    JsonNode d = describe(python, threads);
    Reference r = reference(python, d);
    if (r == null) {
      out.println("reference missing: " + python + ": "
          + (d == null ? "does not run" : "no torch (" + d.path("error").asText("?") + ")") + "; " + hint);
    }
    return r;
  }

  private static Reference reference(Path python, JsonNode d) {
    if (d == null || !d.hasNonNull("torch")) {
      return null;
    }
    return new Reference(python, d.get("torch").asText(), d.path("blas").asText("?"),
        d.path("onednn").asText("?"), d.path("parallel").asText("?"), d.path("threads").asInt(-1));
  }

  /** bench/torch_env.py's JSON line, run by {@code python} in the reference environment, or null. */
  static JsonNode describe(Path python, int threads) {
    if (!Files.isExecutable(python)) {
      return null;
    }
    try {
      Process p = processBuilder(python, List.of(script(Path.of("bench/torch_env.py")).toString()), threads)
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      String outText = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(2, TimeUnit.MINUTES) || outText.isEmpty()) {
        p.destroyForcibly();
        return null;
      }
      String[] lines = outText.split("\n");
      return new ObjectMapper().readTree(lines[lines.length - 1]);
    } catch (IOException | RuntimeException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** The 1, 5 and 15-minute load averages from /proc/loadavg, or "?" where it does not exist. */
  static String loadavg() {
    return BenchScaleCommand.loadavg();
  }

  /** "load 1.02 0.80 0.61 -> 2.10 1.01 0.70": before and after a timed part. */
  static String load(String before, String after) {
    return "load " + before + " -> " + after;
  }

  /** The lines of a reference run's stdout that parse as JSON objects; stderr goes to ours. */
  static List<JsonNode> runJson(Reference r, List<String> args, int threads, PrintStream out)
      throws IOException, InterruptedException {
    ProcessBuilder pb = processBuilder(r.python(), args, threads).redirectError(ProcessBuilder.Redirect.INHERIT);
    Process p = pb.start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int rc = p.waitFor();
    List<JsonNode> rows = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (String line : text.split("\n")) {
      if (line.strip().startsWith("{")) {
        rows.add(json.readTree(line));
      }
    }
    if (rc != 0) {
      out.println(r.name() + ": reference failed (exit " + rc + "); its numbers are left out");
      return List.of();
    }
    return rows;
  }

  /** Deletes a directory tree when it exists. */
  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
