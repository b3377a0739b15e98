package dev.moments.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code moments} command: one picocli tree wiring every stage. Every option can also be set
 * by an environment variable named by one rule ({@link EnvDefaults}).
 */
@Command(
    name = "moments",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Streaming moment indexing for long video: Kafka in, LAVITI moments out, "
        + "answered over HTTP.",
    footer = {
      "",
      "Every --flag can also be set by an environment variable: --max-side <-> MOMENTS_MAX_SIDE.",
      "Run 'moments COMMAND --help' for a command's options."
    },
    subcommands = {
      DemoCommand.class,
      BrokerCommand.class,
      IngestCommand.class,
      FeaturizeCommand.class,
      IndexCommand.class,
      AlertsCommand.class,
      ServeCommand.class,
      PartitionsCommand.class,
      BenchCommand.class,
      SynthCommand.class,
      TrainCommand.class,
      EvalCommand.class,
      ReplayCommand.class,
      CommandLine.HelpCommand.class,
    })
public final class Moments implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Builds the command line with the environment-variable defaults installed on every command. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Moments());
    cl.setDefaultValueProvider(new EnvDefaults(System.getenv()));
    cl.setExecutionExceptionHandler(new ErrorHandler());
    cl.setUsageHelpAutoWidth(true);
    return cl;
  }

  public static void main(String[] args) {
    int rc = commandLine().execute(args);
    System.exit(rc);
  }
}
