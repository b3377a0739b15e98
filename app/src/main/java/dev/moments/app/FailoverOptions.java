package dev.moments.app;

import java.time.Duration;
import picocli.CommandLine.Option;

/** How fast a group notices a killed instance: the options of {@code featurize} and {@code index}. */
final class FailoverOptions {
  @Option(names = "--session-timeout", defaultValue = "6s", converter = DurationConverter.class,
      description = "How long the group waits for a killed instance before its partitions go to the others; "
          + "at least the broker's group.min.session.timeout.ms (6 s by default) (default: ${DEFAULT-VALUE}).")
  Duration sessionTimeout;

  @Option(names = "--heartbeat-interval", defaultValue = "1500ms", converter = DurationConverter.class,
      description = "How often an instance tells the group it lives; a third of the session timeout or less "
          + "(default: ${DEFAULT-VALUE}).")
  Duration heartbeatInterval;
}
