package dev.moments.topics;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the Moments topics when they are missing, and returns only once every partition's
 * leader serves requests.
 *
 * <p>NOTE: right after a topic is created, a broker can briefly answer produce requests with
 * NOT_LEADER_OR_FOLLOWER while later batches of the same idempotent producer already succeed;
 * the producer then retries its first batch forever with OUT_OF_ORDER_SEQUENCE_NUMBER. Waiting
 * until a ListOffsets request (served by the leader only) succeeds on every partition closes that
 * window for every producer that starts after {@link #ensureTopics} returns.
 *
 * <p>A topic that exists already is left as it is (Kafka cannot shrink partitions, and a service
 * must not silently re-configure a topic others may have tuned), but when its partition count or
 * the retention settings this class creates topics with ({@code retention.ms},
 * {@code retention.bytes}, {@code max.message.bytes}) differ from what was asked, each difference
 * is logged as a WARN with the command that changes it, and returned by {@link #ensure}.
 */
public final class TopicAdmin {
  private static final Logger LOG = LoggerFactory.getLogger(TopicAdmin.class);
  private static final long LEADER_WAIT_MS = 30_000;

  /**
   * Partitions of the topics Moments creates when a command is not told otherwise. Partitions
   * are the unit of work: a consumer group (featurize) or Kafka Streams app (index) has at most
   * this many busy instances, and adding partitions later moves streams to other partitions. 16
   * leaves room for 16 instances of each service, split evenly by 1, 2, 4, 8 and 16 of them; it
   * costs an idle indexer 16 tasks of 2 RocksDB stores each (docs/scale.md: about 1 MiB of RSS
   * and 8 MiB of state directory per task; no start-up time measurable above the noise, 32
   * partitions took about 8 s longer).
   */
  public static final int DEFAULT_PARTITIONS = 16;

  /** Largest frame record (JPEG plus key and headers) the frames topic accepts. */
  public static final int MAX_FRAME_BYTES = 8 * 1024 * 1024;
  /** Per-partition size bound of the frames and features topics; the oldest segments go first. */
  public static final long STREAM_RETENTION_BYTES = 8L << 30;
  /** Per-partition size bound of the dead-letter topic. */
  public static final long DEAD_LETTER_RETENTION_BYTES = 1L << 30;

  private TopicAdmin() {}

  /**
   * The configs a Moments topic is created with. Retention is by size, never by time: Kafka's
   * time retention compares each record's timestamp, here a frame's capture time, with the
   * broker's clock, so footage captured longer ago than the retention period (an archive, a
   * replayed dataset, a camera with a wrong clock) would be deleted as soon as it was written,
   * and a reader would find its offsets moved past data it never saw. Moments are kept whole:
   * the moment index is rebuilt from that topic.
   */
  static Map<String, String> configs(Topics topics, String name) {
    Map<String, String> c = new java.util.HashMap<>();
    c.put("retention.ms", "-1");
    if (name.equals(topics.frames().name())) {
      c.put("retention.bytes", Long.toString(STREAM_RETENTION_BYTES));
      c.put("max.message.bytes", Integer.toString(MAX_FRAME_BYTES));
    } else if (name.equals(topics.features().name())) {
      c.put("retention.bytes", Long.toString(STREAM_RETENTION_BYTES));
    } else if (name.equals(topics.deadLetter().name())) {
      c.put("retention.bytes", Long.toString(DEAD_LETTER_RETENTION_BYTES));
    } else if (name.equals(topics.alertRules().name())) {
      c.put("cleanup.policy", "compact");
      c.put("retention.bytes", "-1");
    } else {
      c.put("retention.bytes", "-1");
    }
    return Map.copyOf(c);
  }

  /** Blocks until ListOffsets succeeds on every partition of {@code names}. */
  private static void awaitLeaders(Admin admin, List<String> names)
      throws InterruptedException, TimeoutException {
    long deadline = System.currentTimeMillis() + LEADER_WAIT_MS;
    String last = "";
    while (System.currentTimeMillis() < deadline) {
      try {
        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> specs =
            new java.util.HashMap<>();
        for (var d : admin.describeTopics(names).allTopicNames().get(10, TimeUnit.SECONDS).values()) {
          for (var p : d.partitions()) {
            if (p.leader() == null || p.leader().isEmpty()) {
              throw new ExecutionException("partition " + d.name() + "-" + p.partition() + " has no leader", null);
            }
            specs.put(new org.apache.kafka.common.TopicPartition(d.name(), p.partition()),
                org.apache.kafka.clients.admin.OffsetSpec.latest());
          }
        }
        admin.listOffsets(specs).all().get(10, TimeUnit.SECONDS);
        return;
      } catch (ExecutionException e) {
        last = String.valueOf(e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
        Thread.sleep(100);
      }
    }
    throw new TimeoutException("topic partitions have no serving leader after "
        + LEADER_WAIT_MS + " ms: " + last);
  }

  /**
   * A setting of an existing topic that differs from what a service asked for.
   *
   * @param topic the topic
   * @param setting {@code partitions} or a topic config name ({@code retention.bytes}, ...)
   * @param asked what the service would have created the topic with
   * @param actual what the topic has
   * @param fix what to do about it (a command, or why nothing needs to be done)
   */
  public record Difference(String topic, String setting, String asked, String actual, String fix) {
    /** The one-line warning logged for it. */
    public String message() {
      return "topic " + topic + " exists with " + setting + "=" + actual + " but " + asked
          + " was asked; the existing topic is used as it is. " + fix;
    }
  }

  /**
   * What {@link #ensure} did.
   *
   * @param created the topics created (empty when all existed)
   * @param differences how the topics that existed differ from what was asked (empty when they
   *     match); each was logged as a WARN
   */
  public record Result(List<String> created, List<Difference> differences) {
    public Result {
      created = List.copyOf(created);
      differences = List.copyOf(differences);
    }
  }

  /**
   * Creates every topic of {@code topics} that does not exist yet.
   *
   * @return the names that were created (empty when all existed)
   * @throws IllegalStateException when the cluster cannot be reached within the timeout
   * @see #ensure
   */
  public static List<String> ensureTopics(
      String bootstrap, Topics topics, int partitions, short replication) {
    return ensure(bootstrap, topics, partitions, replication).created();
  }

  /**
   * Creates every topic of {@code topics} that does not exist yet, and compares the ones that
   * existed with what was asked: a partition count or a retention config ({@link #configs}) that
   * differs is logged as a WARN naming the topic, both values and the command that changes it.
   *
   * @return the topics created and the differences found
   * @throws IllegalStateException when the cluster cannot be reached within the timeout
   */
  public static Result ensure(String bootstrap, Topics topics, int partitions, short replication) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
    }
    if (replication < 1) {
      throw new IllegalArgumentException("replication must be >= 1, got " + replication);
    }
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
    try (Admin admin = Admin.create(p)) {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      List<String> present = new ArrayList<>();
      for (String name : topics.names()) {
        if (!existing.contains(name)) {
          missing.add(new NewTopic(name, partitions, replication).configs(configs(topics, name)));
        } else {
          present.add(name);
        }
      }
      List<String> created = new ArrayList<>();
      for (var e : admin.createTopics(missing).values().entrySet()) {
        try {
          e.getValue().get(30, TimeUnit.SECONDS);
          created.add(e.getKey());
        } catch (ExecutionException ex) {
          if (!(ex.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException(
                "cannot create topic " + e.getKey() + ": " + ex.getCause().getMessage(), ex);
          }
          present.add(e.getKey()); // created by another instance meanwhile: compare it too
        }
      }
      List<Difference> differences = differences(admin, bootstrap, topics, present, partitions);
      for (Difference d : differences) {
        LOG.warn(d.message());
      }
      awaitLeaders(admin, topics.names());
      return new Result(created, differences);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot reach Kafka at " + bootstrap + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    }
  }

  /** How the existing topics {@code names} differ from {@code partitions} and {@link #configs}. */
  private static List<Difference> differences(Admin admin, String bootstrap, Topics topics,
      Collection<String> names, int partitions)
      throws InterruptedException, ExecutionException, TimeoutException {
    List<Difference> out = new ArrayList<>();
    if (names.isEmpty()) {
      return out;
    }
    Map<String, TopicDescription> described =
        admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
    List<ConfigResource> resources = names.stream()
        .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
    Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS);
    for (String name : topics.names()) {
      if (!names.contains(name)) {
        continue;
      }
      int has = described.get(name).partitions().size();
      boolean work = name.equals(topics.frames().name()) || name.equals(topics.features().name());
      if (has < partitions && work) {
        out.add(new Difference(name, "partitions", Integer.toString(partitions), Integer.toString(has),
            "More instances than " + has + " per consumer group stay idle. To add partitions keeping every "
                + "stream's windows (kafka-topics.sh --alter would leave the indexer's window state behind): stop "
                + "the cameras, let featurize and index catch up, stop them, then run: moments partitions add "
                + "--bootstrap " + bootstrap + " --topic-prefix " + topics.prefix() + " --to " + partitions));
      } else if (has < partitions) {
        out.add(new Difference(name, "partitions", Integer.toString(partitions), Integer.toString(has),
            "Nothing to do: more partitions here add no capacity (every reader reads all of them)."));
      } else if (has > partitions) {
        out.add(new Difference(name, "partitions", Integer.toString(partitions), Integer.toString(has),
            "Nothing to do (Kafka cannot remove partitions, and more only leave room for more instances); "
                + "pass --partitions " + has + " to match it."));
      }
      Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, name));
      for (Map.Entry<String, String> want : new java.util.TreeMap<>(configs(topics, name)).entrySet()) {
        ConfigEntry entry = config == null ? null : config.get(want.getKey());
        String actual = entry == null ? null : entry.value();
        if (!want.getValue().equals(actual)) {
          out.add(new Difference(name, want.getKey(), want.getValue(), String.valueOf(actual),
              "To change it: kafka-configs.sh --bootstrap-server " + bootstrap + " --alter --entity-type topics "
                  + "--entity-name " + name + " --add-config " + want.getKey() + "=" + want.getValue()));
        }
      }
    }
    return out;
  }
}
