package dev.moments.topics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates the Moments topics when they are missing, and returns only once every partition's
 * leader serves requests.
 *
 * <p>NOTE: right after a topic is created, a broker can briefly answer produce requests with
 * NOT_LEADER_OR_FOLLOWER while later batches of the same idempotent producer already succeed;
 * the producer then retries its first batch forever with OUT_OF_ORDER_SEQUENCE_NUMBER. Waiting
 * until a ListOffsets request (served by the leader only) succeeds on every partition closes that
 * window for every producer that starts after {@link #ensureTopics} returns.
 */
public final class TopicAdmin {
  private static final long LEADER_WAIT_MS = 30_000;

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
   * Creates every topic of {@code topics} that does not exist yet.
   *
   * @return the names that were created (empty when all existed)
   * @throws IllegalStateException when the cluster cannot be reached within the timeout
   */
  public static List<String> ensureTopics(
      String bootstrap, Topics topics, int partitions, short replication) {
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
      for (String name : topics.names()) {
        if (!existing.contains(name)) {
          missing.add(new NewTopic(name, partitions, replication).configs(configs(topics, name)));
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
        }
      }
      awaitLeaders(admin, topics.names());
      return created;
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot reach Kafka at " + bootstrap + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    }
  }
}
