package dev.moments.app;

import dev.moments.broker.EmbeddedBroker;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moments broker}: a real single-node KRaft Kafka broker until Ctrl-C. */
@Command(name = "broker", mixinStandardHelpOptions = true,
    description = "Run a real single-node Kafka broker (KRaft) with its data kept in a directory.")
final class BrokerCommand implements Callable<Integer> {
  @Option(names = "--data", defaultValue = "data/broker", paramLabel = "DIR",
      description = "Data directory, kept across restarts (default: ${DEFAULT-VALUE}).")
  Path data;

  @Option(names = "--port", defaultValue = "9092", description = "Client port (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--host", defaultValue = "localhost",
      description = "Host name advertised to clients; anything but localhost listens on all "
          + "interfaces (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--topic-prefix", defaultValue = Topics.DEFAULT_PREFIX,
      description = "Create the topics PREFIX.frames/features/moments/dead-letter (default: ${DEFAULT-VALUE}).")
  String topicPrefix;

  @Option(names = "--partitions", defaultValue = "" + TopicAdmin.DEFAULT_PARTITIONS, paramLabel = "N",
      description = "Partitions of topics created when missing; the most instances of a service that "
          + "can share the work (default: ${DEFAULT-VALUE}).")
  int partitions;

  @Override
  public Integer call() {
    EmbeddedBroker broker = EmbeddedBroker.start(data, host, port);
    Thread hook = new Thread(() -> {
      System.err.println("stopping broker...");
      broker.close();
    }, "broker-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    List<String> created = TopicAdmin.ensureTopics(
        broker.bootstrapServers(), new Topics(topicPrefix), partitions, (short) 1);
    System.out.println("Kafka broker ready at " + host + ":" + broker.port()
        + " (data in " + data.toAbsolutePath() + ")");
    if (!created.isEmpty()) {
      System.out.println("created topics: " + String.join(", ", created));
    }
    System.out.println("Ctrl-C to stop.");
    broker.awaitShutdown();
    return 0;
  }
}
