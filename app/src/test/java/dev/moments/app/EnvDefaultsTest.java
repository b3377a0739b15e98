package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

class EnvDefaultsTest {
  @Command(name = "probe")
  static final class Probe implements Callable<Integer> {
    @Mixin BrokerOptions broker;

    @Option(names = "--max-side", defaultValue = "640") int maxSide;

    @Override
    public Integer call() {
      return 0;
    }
  }

  @Test
  void flag_names_map_to_variables_by_one_rule() {
    assertThat(EnvDefaults.variableFor("--bootstrap")).isEqualTo("MOMENTS_BOOTSTRAP");
    assertThat(EnvDefaults.variableFor("--max-side")).isEqualTo("MOMENTS_MAX_SIDE");
    assertThat(EnvDefaults.variableFor("--idle-flush")).isEqualTo("MOMENTS_IDLE_FLUSH");
  }

  @Test
  void environment_overrides_the_default_and_the_command_line_overrides_the_environment() {
    Map<String, String> env = Map.of("MOMENTS_BOOTSTRAP", "kafka:29092", "MOMENTS_MAX_SIDE", "320");

    Probe fromEnv = new Probe();
    new CommandLine(fromEnv).setDefaultValueProvider(new EnvDefaults(env)).parseArgs();
    assertThat(fromEnv.broker.bootstrap()).isEqualTo("kafka:29092");
    assertThat(fromEnv.maxSide).isEqualTo(320);

    Probe fromFlag = new Probe();
    new CommandLine(fromFlag).setDefaultValueProvider(new EnvDefaults(env))
        .parseArgs("--bootstrap", "other:9092");
    assertThat(fromFlag.broker.bootstrap()).isEqualTo("other:9092");

    Probe plain = new Probe();
    new CommandLine(plain).setDefaultValueProvider(new EnvDefaults(Map.of())).parseArgs();
    assertThat(plain.broker.bootstrap()).isEqualTo("localhost:9092");
    assertThat(plain.maxSide).isEqualTo(640);
  }

  @Test
  void every_command_has_help() {
    CommandLine root = Moments.commandLine();
    assertHelp(root);
  }

  private static void assertHelp(CommandLine cl) {
    assertThat(cl.getCommandSpec().optionsMap())
        .as("command %s has --help", cl.getCommandSpec().qualifiedName())
        .containsKey("--help");
    for (CommandLine sub : cl.getSubcommands().values()) {
      if (!sub.getCommandName().equals("help")) {
        assertHelp(sub);
      }
    }
  }
}
