package dev.moments.app;

import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.util.List;
import picocli.CommandLine.Option;

/** The Kafka connection and topic options every service shares. */
public final class BrokerOptions {
  @Option(names = "--bootstrap", defaultValue = "localhost:9092", paramLabel = "HOST:PORT",
      description = "Kafka bootstrap servers (default: ${DEFAULT-VALUE}).")
  String bootstrap;

  @Option(names = "--topic-prefix", defaultValue = Topics.DEFAULT_PREFIX, paramLabel = "PREFIX",
      description = "Prefix of the topic names, e.g. PREFIX.frames (default: ${DEFAULT-VALUE}).")
  String topicPrefix;

  @Option(names = "--partitions", defaultValue = "" + TopicAdmin.DEFAULT_PARTITIONS, paramLabel = "N",
      description = "Partitions of topics created when missing; the most instances of a service that "
          + "can share the work (default: ${DEFAULT-VALUE}).")
  int partitions;

  @Option(names = "--replication", defaultValue = "1",
      description = "Replication factor of topics created when missing (default: ${DEFAULT-VALUE}).")
  short replication;

  public String bootstrap() {
    return bootstrap;
  }

  public Topics topics() {
    return new Topics(topicPrefix);
  }

  /** Creates the missing topics and returns the names created. */
  public List<String> ensureTopics() {
    return TopicAdmin.ensureTopics(bootstrap, topics(), partitions, replication);
  }
}
