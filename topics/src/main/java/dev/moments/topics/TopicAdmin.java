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

  private TopicAdmin() {}

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
          NewTopic t = new NewTopic(name, partitions, replication);
          if (name.equals(topics.frames().name())) {
            // Frames are large; keep a bounded history by default (7 days) for thumbnails.
            t.configs(Map.of("retention.ms", Long.toString(7L * 24 * 3600 * 1000),
                "max.message.bytes", Integer.toString(8 * 1024 * 1024)));
          }
          missing.add(t);
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
