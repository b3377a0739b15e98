package dev.moments.app;

import dev.moments.featurizer.service.FeaturizerConfig;
import dev.moments.indexer.stream.PartitionGrowth;
import dev.moments.topics.Topics;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code moments partitions}: who owns which partition of the work topics and how far behind it
 * is; {@code add} grows them on a stopped, drained pipeline ({@link PartitionGrowth}).
 */
@Command(name = "partitions", mixinStandardHelpOptions = true,
    description = {"Show the partitions of PREFIX.frames and PREFIX.features, the featurize and index "
        + "instances that own them and their lag; 'add' grows them.",
        "Partitions cap the instances of each stage (README, Scale-out)."},
    subcommands = {PartitionsCommand.Add.class, PartitionsSpreadCommand.class})
final class PartitionsCommand implements Callable<Integer> {
  @Option(names = "--bootstrap", scope = ScopeType.INHERIT, defaultValue = "localhost:9092", paramLabel = "HOST:PORT",
      description = "Kafka bootstrap servers (default: ${DEFAULT-VALUE}).")
  String bootstrap;

  @Option(names = "--topic-prefix", scope = ScopeType.INHERIT, defaultValue = Topics.DEFAULT_PREFIX, paramLabel = "PREFIX",
      description = "Prefix of the topic names (default: ${DEFAULT-VALUE}).")
  String topicPrefix;

  @Option(names = "--group", scope = ScopeType.INHERIT, defaultValue = FeaturizerConfig.DEFAULT_GROUP,
      description = "The featurize instances' --group (default: ${DEFAULT-VALUE}).")
  String group;

  @Option(names = "--application-id", scope = ScopeType.INHERIT, paramLabel = "ID",
      description = "The index instances' --application-id (default: PREFIX-indexer).")
  String applicationId;

  String applicationId() {
    return applicationId != null ? applicationId : topicPrefix + "-indexer";
  }

  Admin admin() {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
  }

  @Override
  public Integer call() throws Exception {
    Topics topics = new Topics(topicPrefix);
    try (Admin admin = admin()) {
      show(admin, topics.frames().name(), group, "featurize");
      show(admin, topics.features().name(), applicationId(), "index");
      TopicDescription moments = describe(admin, topics.moments().name());
      System.out.printf("%s: %s (read whole by every serve instance)%n", topics.moments().name(),
          moments == null ? "missing" : moments.partitions().size() + " partitions");
    }
    return 0;
  }

  private static TopicDescription describe(Admin admin, String topic) throws Exception {
    try {
      return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return null;
      }
      throw e;
    }
  }

  /** One table: partition, owner, committed offset, end, lag. */
  private static void show(Admin admin, String topic, String group, String service) throws Exception {
    TopicDescription d = describe(admin, topic);
    if (d == null) {
      System.out.printf("%s: missing (created by the first service or broker that starts)%n%n", topic);
      return;
    }
    int n = d.partitions().size();
    List<MemberDescription> members = PartitionGrowth.members(admin, group);
    Map<Integer, String> owner = new TreeMap<>();
    for (MemberDescription m : members) {
      for (TopicPartition tp : m.assignment().topicPartitions()) {
        if (tp.topic().equals(topic)) {
          owner.put(tp.partition(), m.clientId() + "@" + m.host());
        }
      }
    }
    System.out.printf("%s: %d partitions, %s group %s: %d instance(s)%n", topic, n, service, group,
        members.size());
    System.out.printf("  %-9s %12s %12s %10s  %s%n", "partition", "consumed", "end", "lag", "owner");
    long total = 0;
    for (var e : PartitionGrowth.progress(admin, group, topic).entrySet()) {
      PartitionGrowth.Progress pr = e.getValue();
      total += pr.lag();
      System.out.printf("  %-9d %12s %12d %10d  %s%n", e.getKey(), pr.committed() == null ? "-" : pr.committed(),
          pr.end(), pr.lag(), owner.getOrDefault(e.getKey(), members.isEmpty() ? "(stopped)" : "(none)"));
    }
    System.out.printf("  lag %d in all%n%n", total);
  }

  /** {@code moments partitions add --to N}. */
  @Command(name = "add", mixinStandardHelpOptions = true,
      description = {"Grow PREFIX.frames and PREFIX.features to N partitions and move the indexer's "
          + "per-stream window state with its streams (exactly-once, windows unchanged).",
          "First stop the cameras (ingest), let featurize and index catch up (lag 0 in 'moments partitions'), "
              + "stop them; then run this, then start everything again. It refuses, saying why, while any "
              + "featurize or index instance runs or a record is still unprocessed.",
          "The state is saved to a journal file before anything changes; if the run is interrupted, run the "
              + "same command again to finish it."})
  static final class Add implements Callable<Integer> {
    @ParentCommand PartitionsCommand parent;

    @Option(names = "--to", required = true, paramLabel = "N",
        description = "The new partition count (Kafka can only add partitions).")
    int to;

    @Option(names = "--journal-dir", defaultValue = "data/partitions", paramLabel = "DIR",
        description = "Where the state is kept while the run is going on (default: ${DEFAULT-VALUE}).")
    Path journalDir;

    @Override
    public Integer call() throws Exception {
      PartitionGrowth growth = new PartitionGrowth(parent.bootstrap, new Topics(parent.topicPrefix), parent.group,
          parent.applicationId(), journalDir, System.out);
      long t0 = System.nanoTime();
      PartitionGrowth.Report r = growth.growTo(to);
      List<String> lines = new ArrayList<>();
      r.topics().forEach((t, c) -> lines.add(t + " " + c[0] + "->" + c[1]));
      if (!lines.isEmpty()) {
        System.out.printf("done in %.1f s: %s. Start featurize and index again, then the cameras.%n", (System.nanoTime() - t0) / 1e9, String.join(", ", lines));
      }
      return 0;
    }
  }
}
