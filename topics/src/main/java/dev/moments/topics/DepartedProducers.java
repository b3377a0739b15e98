package dev.moments.topics;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Aborts at once the open transaction that a killed instance of a consumer group left behind.
 *
 * <p>A transactional producer killed with kill -9 leaves its transaction open, and every
 * read_committed reader of the partitions it wrote to (the next stage, serve) stops at that
 * transaction until the broker aborts it: after the producer's {@code transaction.timeout.ms}
 * plus up to the broker's {@code transaction.abort.timed.out.transaction.cleanup.interval.ms}
 * (10 s). Measured with the indexer (60 s transaction timeout): a killed instance's streams
 * resumed 63 s after the kill when the kill fell inside a transaction, 6 s when not. Its
 * transactional id is never used again (the instance that takes over has its own), so nothing
 * fences it earlier, unless told to: {@link #fence} does so for every instance that is no longer a
 * member of the group, which Kafka only decides after the session timeout.
 *
 * <p>Instances are named by a UUID in both their transactional id, {@code <group>-<uuid>} or
 * {@code <group>-<uuid>-<n>}, and their consumers' client ids, {@code <group>-<uuid>...} (Kafka
 * Streams names both so, with the application id as group and its process id as UUID; the
 * featurizer does the same).
 */
public final class DepartedProducers implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DepartedProducers.class);
  private static final String UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
  private static final long TIMEOUT_S = 30;

  private final String bootstrap;
  private final String group;
  private final Supplier<Optional<String>> self;
  private final String service;
  private final AtomicBoolean pending = new AtomicBoolean();
  private final ExecutorService executor;
  private volatile Admin admin; // created on the executor thread

  /**
   * A fencer for {@code group} that runs {@link #fence} on its own thread whenever {@link
   * #request asked}.
   *
   * @param self the caller's own instance UUID, when known
   * @param service the service named in the log lines
   */
  public DepartedProducers(String bootstrap, String group, Supplier<Optional<String>> self, String service) {
    this.bootstrap = bootstrap;
    this.group = group;
    this.self = self;
    this.service = service;
    this.executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, service + "-fencer");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Fences the departed instances' open transactions soon, on the fencer's thread (call it when
   * partitions were assigned: the group has just dropped someone, or gained someone). Requests
   * made while one waits to run are merged; a failure is logged, and the broker's transaction
   * timeout stays the fallback.
   */
  public void request() {
    if (!pending.compareAndSet(false, true)) {
      return;
    }
    try {
      executor.execute(() -> {
        pending.set(false);
        try {
          Optional<String> me = self.get();
          if (me.isEmpty()) {
            return;
          }
          if (admin == null) {
            admin = Admin.create(Map.of("bootstrap.servers", bootstrap, "default.api.timeout.ms", 30_000));
          }
          List<String> fenced = fence(admin, group, me.get());
          if (!fenced.isEmpty()) {
            LOG.info("{} {}: aborted the open transactions of departed instances (killed, or dropped from the "
                + "group), so that readers need not wait for them to time out: {}", service, group, fenced);
          }
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
          LOG.warn("{} {}: cannot check for departed instances' open transactions (readers may wait for the "
              + "transaction timeout instead): {}", service, group, e.toString());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      pending.set(false); // closed
    }
  }

  /** Stops the fencer's thread and closes its Admin client. */
  @Override
  public void close() {
    executor.shutdownNow();
    try {
      executor.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (admin != null) {
      admin.close(java.time.Duration.ofSeconds(5));
    }
  }

  /**
   * Fences the open transactions of the group's departed instances: every ongoing transaction
   * whose id is {@code <group>-<uuid>} or {@code <group>-<uuid>-<n>} while no member of the group
   * has a client id {@code <group>-<uuid>...}. Does nothing unless {@code self} (the caller's own
   * UUID) is a member: a group it cannot read right (members renamed by a custom client id, a
   * rebalance without members) must not get its live instances fenced.
   *
   * @return the transactional ids fenced (empty when none was left open)
   */
  public static List<String> fence(Admin admin, String group, String self)
      throws ExecutionException, InterruptedException, TimeoutException {
    Pattern transactionalId = Pattern.compile(Pattern.quote(group + "-") + "(" + UUID + ")(-\\d+)?");
    List<String> open = admin.listTransactions(new ListTransactionsOptions()
            .filterStates(List.of(TransactionState.ONGOING)))
        .all().get(TIMEOUT_S, TimeUnit.SECONDS).stream()
        .map(TransactionListing::transactionalId)
        .filter(id -> transactionalId.matcher(id).matches())
        .toList();
    if (open.isEmpty()) {
      return List.of();
    }
    ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).describedGroups()
        .get(group).get(TIMEOUT_S, TimeUnit.SECONDS);
    Set<String> members = description.members().stream()
        .map(MemberDescription::clientId)
        .map(c -> instance(group, c))
        .flatMap(Optional::stream)
        .collect(Collectors.toSet());
    if (!members.contains(self)) {
      return List.of();
    }
    List<String> departed = open.stream().filter(id -> {
      Matcher m = transactionalId.matcher(id);
      return m.matches() && !members.contains(m.group(1));
    }).toList();
    if (!departed.isEmpty()) {
      admin.fenceProducers(departed).all().get(TIMEOUT_S, TimeUnit.SECONDS);
    }
    return departed;
  }

  /** The instance UUID of a client id {@code <group>-<uuid>...}, if it is one. */
  public static Optional<String> instance(String group, String clientId) {
    Matcher m = Pattern.compile(Pattern.quote(group + "-") + "(" + UUID + ").*").matcher(clientId);
    return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
  }
}
