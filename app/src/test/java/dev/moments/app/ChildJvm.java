package dev.moments.app;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code moments SERVICE ARGS...} in a child JVM, as deployed: the test JVM's flags (less its heap
 * size and agents) and class path, output to a log file. A child is a real process, so
 * {@code destroyForcibly()} is a real kill -9: no shutdown hook runs, no group is left.
 */
final class ChildJvm {
  private ChildJvm() {}

  /** The command line of {@code moments service args...}. */
  static List<String> command(String service, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> !a.startsWith("-Xmx") && !a.startsWith("-Dmoments.home") && !a.startsWith("-javaagent"))
        .forEach(cmd::add);
    cmd.addAll(List.of("-Xmx512m", "-Dmoments.home=" + ComposeFile.repositoryRoot(), "-cp",
        System.getProperty("java.class.path"), "dev.moments.app.Moments", service));
    cmd.addAll(args);
    return cmd;
  }

  /** Starts {@code moments service args...} in {@code dir}, stdout and stderr to {@code log}. */
  static Process start(Path dir, Path log, String service, List<String> args) throws IOException {
    return new ProcessBuilder(command(service, args)).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
  }
}
