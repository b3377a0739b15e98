package dev.moments.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moments bench}: the benchmarks, each against the reference named in its issue. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks. Each prints its numbers next to a reference and the ratio.",
    subcommands = {BenchIngestCommand.class, BenchFeaturizeCommand.class, BenchTrainCommand.class,
        BenchSearchCommand.class, BenchIndexCommand.class, BenchScaleCommand.class, BenchStorageCommand.class})
final class BenchCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
