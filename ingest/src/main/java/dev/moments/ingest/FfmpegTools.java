package dev.moments.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Loader;

/**
 * The {@code ffmpeg} and {@code ffprobe} executables that ship inside JavaCV's {@code
 * org.bytedeco:ffmpeg} natives (the same FFmpeg build the decoder uses), extracted once into
 * JavaCPP's cache ({@code ~/.javacpp/cache}) by {@link Loader}. Tests make their sample videos
 * with them and {@code bench ingest} runs the reference decode with them, so no FFmpeg needs to be
 * installed; the system's {@code ffmpeg}, if any, is never used.
 *
 * <p>NOTE: the bundled executables find their own libraries next to them only through {@code
 * LD_LIBRARY_PATH} (their dependencies, e.g. {@code libva.so.2}, carry no run path), so start them
 * with {@link #command} rather than with a bare {@link ProcessBuilder}. This build (no GPL parts)
 * encodes H.264 with {@code libopenh264}, not {@code libx264}.
 */
public final class FfmpegTools {
  private static final long TIMEOUT_S = 120;
  private static Path ffmpeg;
  private static Path ffprobe;

  private FfmpegTools() {}

  /**
   * The bundled {@code ffmpeg} executable; extracts it (and its libraries) on first use. Throws
   * {@link IllegalStateException} naming the missing system library when FFmpeg cannot load.
   */
  public static synchronized Path ffmpeg() {
    if (ffmpeg == null) {
      ffmpeg = load(org.bytedeco.ffmpeg.ffmpeg.class);
    }
    return ffmpeg;
  }

  /** The bundled {@code ffprobe} executable, as {@link #ffmpeg()}. */
  public static synchronized Path ffprobe() {
    if (ffprobe == null) {
      ffprobe = load(org.bytedeco.ffmpeg.ffprobe.class);
    }
    return ffprobe;
  }

  /** A process builder for {@code exe ARGS...} whose library path finds the bundled libraries. */
  public static ProcessBuilder command(Path exe, List<String> args) {
    List<String> cmd = new ArrayList<>(args.size() + 1);
    cmd.add(exe.toString());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> env = pb.environment();
    String libs = exe.getParent().toString();
    String old = env.get("LD_LIBRARY_PATH");
    env.put("LD_LIBRARY_PATH", old == null || old.isEmpty() ? libs : libs + ":" + old);
    return pb;
  }

  /**
   * Runs {@code ffmpeg -y -nostdin -v error ARGS...} in {@code dir} and returns its output
   * (stdout and stderr together); throws {@link IllegalStateException} with the command and that
   * output when it exits non-zero or takes longer than two minutes.
   */
  public static String run(Path dir, String... args) {
    List<String> all = new ArrayList<>(List.of("-y", "-nostdin", "-v", "error"));
    all.addAll(List.of(args));
    ProcessBuilder pb = command(ffmpeg(), all).redirectErrorStream(true);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    try {
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("ffmpeg took over " + TIMEOUT_S + " s: " + pb.command() + "\n" + out);
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("ffmpeg exited " + p.exitValue() + ": " + pb.command() + "\n" + out);
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run the bundled ffmpeg " + pb.command().getFirst(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running ffmpeg", e);
    }
  }

  /** {@link #run(Path, String...)} in the current directory. */
  public static String run(String... args) {
    return run(null, args);
  }

  /** Extracts {@code preset}'s executable ({@link Loader} locks its cache across processes). */
  private static Path load(Class<?> preset) {
    String exe;
    try {
      exe = Loader.load(preset);
    } catch (UnsatisfiedLinkError e) {
      // The innermost error names the missing system library (e.g. libpulse.so.0).
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      throw new IllegalStateException("FFmpeg's bundled libraries do not load here: " + root.getMessage(), e);
    }
    if (exe == null) {
      throw new IllegalStateException("JavaCV's FFmpeg has no " + preset.getSimpleName()
          + " executable for " + Loader.getPlatform());
    }
    Path p = Path.of(exe);
    // Jar entries carry no file mode; make sure the extracted copy can run.
    if (!p.toFile().canExecute() && !p.toFile().setExecutable(true)) {
      throw new IllegalStateException("cannot make " + p + " executable");
    }
    return p;
  }
}
