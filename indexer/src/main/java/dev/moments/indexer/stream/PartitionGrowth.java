package dev.moments.indexer.stream;

import dev.moments.topics.DepartedProducers;
import dev.moments.topics.Topics;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.common.utils.Utils;

/**
 * Grows the work topics ({@code frames}, {@code features}) of a stopped, drained pipeline to more
 * partitions and moves the indexer's per-stream window state with its streams.
 *
 * <p>Why it is more than {@code kafka-topics.sh --alter}: a stream's features go to partition
 * {@code murmur2(stream id) mod n}, and the indexer keeps each stream's window (its features and
 * {@link StreamMeta}) in the stores of the task of that partition, backed by changelog topics with
 * one partition per task. With more partitions a stream's next features land in another
 * partition, whose task knows nothing of the stream: it would start a new timeline (other window
 * ids, its first window cut short) while the old task kept a window that never completes; and
 * Kafka Streams refuses to start at all while its changelog topics have fewer partitions than the
 * source topic. And features of a stream still unread in the old partition would be processed
 * beside, or after, its newer ones in the new partition: out of order.
 *
 * <p>So: (1) every featurize and index instance must be stopped (no member in their groups), (2)
 * the pipeline drained (each group's committed offsets at the end of every partition), (3) their
 * open transactions (a killed instance's) are aborted, (4) the window state is read from the
 * changelog topics (read_committed, last value of each key, with the partition it is in) and
 * written to a journal file, fsynced, before anything changes, (5) frames, features and the
 * changelog topics grow, and (6) each entry of a stream that now maps to another partition is
 * written to that partition and deleted (a tombstone) from its old one, then the changelogs are
 * read back and compared. The changelog topics are never deleted, so the indexer's local stores
 * stay valid: at its next start each task restores from its checkpoint on, applying the moves
 * (new tasks restore from the beginning). A run that dies after (4) is finished by running it
 * again (the journal says how, and is deleted only once the state is verified).
 *
 * <p>Per-stream order holds: a stream's older records are all consumed before (2), its newer ones
 * go to its new partition. The committed offsets of the old partitions stay; the new partitions
 * are read from their beginning. Nothing else moves: the moments topic (serve reads every
 * partition) keeps its count.
 */
public final class PartitionGrowth {
  private static final Duration CALL = Duration.ofSeconds(30);
  private static final int JOURNAL_MAGIC = 0x4d505431; // "MPT1"

  /** What a run did. */
  public record Report(Map<String, int[]> topics, Map<String, Integer> entries,
      Map<String, int[]> movedStreams, int streams, boolean resumed) {}

  /** A store entry as read from its changelog. */
  private record Entry(int partition, byte[] key, byte[] value, long timestamp, List<Header> headers) {}

  /** One changelog topic to rearrange: its name, store and entries. */
  private record Changelog(String name, String store, List<Entry> entries) {}

  private final String bootstrap;
  private final Topics topics;
  private final String featurizerGroup;
  private final String applicationId;
  private final Path journalDir;
  private final PrintStream out;
  private java.util.function.Consumer<String> steps = step -> {};

  /**
   * @param featurizerGroup the featurize instances' {@code --group}
   * @param applicationId the index instances' {@code --application-id}
   * @param journalDir where the journal of a run is kept until it completes
   * @param out progress lines
   */
  public PartitionGrowth(String bootstrap, Topics topics, String featurizerGroup, String applicationId,
      Path journalDir, PrintStream out) {
    this.bootstrap = bootstrap;
    this.topics = topics;
    this.featurizerGroup = featurizerGroup;
    this.applicationId = applicationId;
    this.journalDir = journalDir;
    this.out = out;
  }

  /**
   * Calls {@code hook} at each step of a run: {@code journaled}, {@code grown}, {@code moved-values
   * TOPIC} (the values are in their new partitions, the tombstones not yet written), {@code moved
   * TOPIC}. For crash tests: a hook that throws stops the run there, as a kill would.
   */
  public PartitionGrowth onStep(java.util.function.Consumer<String> hook) {
    this.steps = hook;
    return this;
  }

  /** The changelog topic of one of the indexer's stores. */
  public static String changelog(String applicationId, String store) {
    return applicationId + "-" + store + "-changelog";
  }

  /** The partition Kafka's producers pick for a stream's records among {@code n}. */
  public static int partitionOf(String stream, int n) {
    return Utils.toPositive(Utils.murmur2(stream.getBytes(StandardCharsets.UTF_8))) % n;
  }

  /** The journal file of this application's growth. */
  public Path journal() {
    return journalDir.resolve(applicationId + ".partitions-journal");
  }

  /**
   * Grows frames and features to {@code to} partitions and moves the indexer's window state.
   *
   * @throws IllegalStateException with a message for the user when the pipeline is not stopped
   *     and drained, or {@code to} would shrink a topic
   */
  public Report growTo(int to) throws IOException, InterruptedException, ExecutionException, TimeoutException {
    if (to < 1) {
      throw new IllegalArgumentException("--to must be >= 1, got " + to);
    }
    List<String> work = List.of(topics.frames().name(), topics.features().name());
    List<String> stores = List.of(IndexerTopology.FEATURES_STORE, IndexerTopology.META_STORE);
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) CALL.toMillis()))) {
      Map<String, Integer> before = partitionCounts(admin, work);
      for (String t : work) {
        if (!before.containsKey(t)) {
          throw new IllegalStateException("topic " + t + " does not exist on " + bootstrap
              + ": nothing to grow (services create their topics with --partitions " + to + ")");
        }
        if (before.get(t) > to) {
          throw new IllegalStateException("topic " + t + " has " + before.get(t) + " partitions, more than " + to
              + ": Kafka cannot remove partitions");
        }
      }
      requireStopped(admin, featurizerGroup, "featurize", "--group");
      requireStopped(admin, applicationId, "index", "--application-id");

      List<Changelog> changelogs;
      int from = before.get(topics.features().name());
      boolean resumed = Files.exists(journal());
      if (resumed) {
        Journal j = readJournal(journal());
        if (j.to != to) {
          throw new IllegalStateException("an interrupted run growing to " + j.to + " partitions left "
              + journal() + "; finish it first with --to " + j.to);
        }
        changelogs = j.changelogs;
        from = j.from;
        out.printf("resuming the interrupted run of %s: %d store entries from its journal%n", journal(),
            changelogs.stream().mapToInt(c -> c.entries.size()).sum());
      } else {
        boolean allThere = work.stream().allMatch(t -> before.get(t) == to);
        Map<String, Integer> logCounts = partitionCounts(admin,
            stores.stream().map(s -> changelog(applicationId, s)).toList());
        if (allThere && logCounts.values().stream().allMatch(n -> n == to)) {
          out.printf("%s and %s have %d partitions already; nothing to do%n", work.get(0), work.get(1), to);
          return new Report(Map.of(), Map.of(), Map.of(), 0, false);
        }
        abortOpenTransactions(admin, featurizerGroup);
        abortOpenTransactions(admin, applicationId);
        requireDrained(admin, featurizerGroup, topics.frames().name(), "frames not yet featurized",
            "featurize");
        requireDrained(admin, applicationId, topics.features().name(), "features not yet indexed", "index");
        changelogs = new ArrayList<>();
        for (String store : stores) {
          String name = changelog(applicationId, store);
          if (logCounts.containsKey(name)) {
            changelogs.add(readChangelog(admin, name, store, to));
          }
        }
        writeJournal(journal(), to, from, changelogs);
        out.printf("window state saved to %s: %s%n", journal(), summary(changelogs));
        steps.accept("journaled");
      }

      // grow the work topics and the changelogs (a resumed run may find them grown already)
      List<String> all = new ArrayList<>(work);
      changelogs.forEach(c -> all.add(c.name));
      Map<String, Integer> now = partitionCounts(admin, all);
      Map<String, NewPartitions> grow = new LinkedHashMap<>();
      for (String t : all) {
        if (now.get(t) < to) {
          grow.put(t, NewPartitions.increaseTo(to));
        }
      }
      if (!grow.isEmpty()) {
        admin.createPartitions(grow).all().get(CALL.toSeconds(), TimeUnit.SECONDS);
      }
      awaitPartitions(admin, all, to);
      steps.accept("grown");
      for (String t : work) {
        out.printf("%s: %d -> %d partitions%n", t, resumed ? from : before.get(t), to);
      }

      Map<String, Integer> written = new LinkedHashMap<>();
      for (Changelog c : changelogs) {
        int n = move(c, to);
        verify(c, to);
        steps.accept("moved " + c.name);
        written.put(c.name, n);
        out.printf("%s: %d -> %d partitions, %d entries moved to their streams' new partitions%n",
            c.name, from, to, n);
      }
      Files.delete(journal());

      Map<String, int[]> topicCounts = new LinkedHashMap<>();
      for (String t : work) {
        topicCounts.put(t, new int[] {resumed ? from : before.get(t), to});
      }
      Map<String, int[]> moved = new TreeMap<>();
      Set<String> streamIds = new TreeSet<>();
      for (Changelog c : changelogs) {
        for (Entry e : c.entries) {
          streamIds.add(streamOf(c.store, e.key));
        }
      }
      for (String s : streamIds) {
        int a = partitionOf(s, from);
        int b = partitionOf(s, to);
        if (a != b) {
          moved.put(s, new int[] {a, b});
        }
      }
      out.printf("%d streams moved to another partition with their window state%s%n", moved.size(),
          moved.isEmpty() ? "" : ": " + describe(moved));
      return new Report(topicCounts, written, moved, streamIds.size(), resumed);
    }
  }

  private static Map<String, Integer> partitionCounts(Admin admin, Collection<String> names)
      throws InterruptedException, ExecutionException, TimeoutException {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (Map.Entry<String, KafkaFuture<TopicDescription>> e :
        admin.describeTopics(names).topicNameValues().entrySet()) {
      try {
        out.put(e.getKey(), e.getValue().get(CALL.toSeconds(), TimeUnit.SECONDS).partitions().size());
      } catch (ExecutionException x) {
        if (!(x.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw x;
        }
      }
    }
    return out;
  }

  private static void requireStopped(Admin admin, String group, String service, String flag)
      throws InterruptedException, ExecutionException, TimeoutException {
    List<MemberDescription> members = members(admin, group);
    if (!members.isEmpty()) {
      List<String> who = members.stream().map(m -> m.clientId() + "@" + m.host()).sorted().toList();
      throw new IllegalStateException("stop every " + service + " instance first (" + flag + " " + group + " has "
          + who.size() + " running: " + String.join(", ", who) + "): their partitions and the indexer's window "
          + "state are being rearranged");
    }
  }

  /** The members of {@code group}; none when it does not exist (never started). */
  public static List<MemberDescription> members(Admin admin, String group)
      throws InterruptedException, ExecutionException, TimeoutException {
    try {
      return admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
          .get(CALL.toSeconds(), TimeUnit.SECONDS).members().stream().toList();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) {
        return List.of();
      }
      throw e;
    }
  }

  /** The offsets {@code group} committed; none when it does not exist. */
  public static Map<TopicPartition, OffsetAndMetadata> committed(Admin admin, String group)
      throws InterruptedException, ExecutionException, TimeoutException {
    try {
      Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets(group)
          .partitionsToOffsetAndMetadata().get(CALL.toSeconds(), TimeUnit.SECONDS);
      Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
      m.forEach((tp, o) -> {
        if (o != null) {
          out.put(tp, o);
        }
      });
      return out;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) {
        return Map.of();
      }
      throw e;
    }
  }

  /** Aborts the transactions a killed instance of the (stopped) group left open. */
  private void abortOpenTransactions(Admin admin, String group)
      throws InterruptedException, ExecutionException, TimeoutException {
    List<String> open = admin.listTransactions(new ListTransactionsOptions()
            .filterStates(List.of(TransactionState.ONGOING)))
        .all().get(CALL.toSeconds(), TimeUnit.SECONDS).stream()
        .map(TransactionListing::transactionalId)
        .filter(id -> DepartedProducers.instance(group, id).isPresent())
        .toList();
    if (!open.isEmpty()) {
      admin.fenceProducers(open).all().get(CALL.toSeconds(), TimeUnit.SECONDS);
      out.printf("aborted the transactions left open by stopped instances of %s: %s%n", group, open);
    }
  }

  /**
   * Where {@code group} stands on one partition of a topic: its committed offset (null when it
   * never committed there; it then starts at the partition's beginning), the end of committed
   * records, and the records between.
   */
  public record Progress(Long committed, long end, long lag) {}

  /** {@code group}'s progress on every partition of {@code topic}, by partition (read_committed ends). */
  public static Map<Integer, Progress> progress(Admin admin, String group, String topic)
      throws InterruptedException, ExecutionException, TimeoutException {
    int n = admin.describeTopics(List.of(topic)).allTopicNames().get(CALL.toSeconds(), TimeUnit.SECONDS)
        .get(topic).partitions().size();
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
    for (int p = 0; p < n; p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
      earliest.put(new TopicPartition(topic, p), OffsetSpec.earliest());
    }
    ListOffsetsOptions committedOnly = new ListOffsetsOptions(IsolationLevel.READ_COMMITTED);
    var ends = admin.listOffsets(latest, committedOnly).all().get(CALL.toSeconds(), TimeUnit.SECONDS);
    var starts = admin.listOffsets(earliest, committedOnly).all().get(CALL.toSeconds(), TimeUnit.SECONDS);
    Map<TopicPartition, OffsetAndMetadata> done = committed(admin, group);
    Map<Integer, Progress> out = new TreeMap<>();
    for (int p = 0; p < n; p++) {
      TopicPartition tp = new TopicPartition(topic, p);
      OffsetAndMetadata c = done.get(tp);
      long end = ends.get(tp).offset();
      long from = c != null ? c.offset() : starts.get(tp).offset();
      out.put(p, new Progress(c == null ? null : c.offset(), end, end - from));
    }
    return out;
  }

  /** Fails unless the group has consumed every committed record of {@code topic}. */
  private static void requireDrained(Admin admin, String group, String topic, String what, String service)
      throws InterruptedException, ExecutionException, TimeoutException {
    Map<Integer, Long> lag = new TreeMap<>();
    progress(admin, group, topic).forEach((p, pr) -> {
      if (pr.lag() > 0) {
        lag.put(p, pr.lag());
      }
    });
    if (!lag.isEmpty()) {
      long total = lag.values().stream().mapToLong(Long::longValue).sum();
      throw new IllegalStateException(total + " " + what + " in " + topic + " (by partition: " + lag
          + "): a stream's older records would be processed beside its newer ones on another partition. Stop "
          + "the cameras (ingest), run " + service + " until its lag is 0 ('moments partitions', or /metrics), "
          + "stop it, and run this again");
    }
  }

  private Changelog readChangelog(Admin admin, String name, String store, int to)
      throws InterruptedException, ExecutionException, TimeoutException {
    TopicDescription d = admin.describeTopics(List.of(name)).allTopicNames().get(CALL.toSeconds(), TimeUnit.SECONDS)
        .get(name);
    Map<List<Object>, Entry> last = new LinkedHashMap<>();
    readAll(name, d.partitions().size(), rec -> {
      if (partitionOf(streamOf(store, rec.key()), to) == rec.partition()) {
        return; // stays where it is: not kept in memory, not journaled, not touched
      }
      List<Object> k = List.of(rec.partition(), Bytes.wrap(rec.key()));
      if (rec.value() == null) {
        last.remove(k);
      } else {
        List<Header> hs = new ArrayList<>();
        rec.headers().forEach(hs::add);
        last.put(k, new Entry(rec.partition(), rec.key(), rec.value(), rec.timestamp(), hs));
      }
    });
    return new Changelog(name, store, new ArrayList<>(last.values()));
  }

  /** Hands every committed record of {@code topic} to {@code each}, in offset order per partition. */
  private void readAll(String topic, int partitions,
      java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> each) {
    Map<String, Object> p = new HashMap<>();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int i = 0; i < partitions; i++) {
        tps.add(new TopicPartition(topic, i));
      }
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps, CALL);
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
      while (tps.stream().anyMatch(tp -> c.position(tp, CALL) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + topic + " to its end within 10 minutes");
        }
        c.poll(Duration.ofMillis(500)).forEach(each);
      }
    }
  }

  private static void awaitPartitions(Admin admin, List<String> names, int to)
      throws InterruptedException, ExecutionException, TimeoutException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      Map<String, Integer> n = partitionCounts(admin, names);
      boolean ready = names.stream().allMatch(t -> n.getOrDefault(t, 0) == to);
      if (ready) {
        Map<String, TopicDescription> d = admin.describeTopics(names).allTopicNames()
            .get(CALL.toSeconds(), TimeUnit.SECONDS);
        if (d.values().stream().flatMap(t -> t.partitions().stream()).allMatch(p -> p.leader() != null)) {
          return;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("topics " + names + " did not reach " + to + " partitions with leaders in 60 s");
      }
      Thread.sleep(100);
    }
  }

  /**
   * Writes each entry whose stream maps to another partition under {@code to} to that partition,
   * then a tombstone for it to its old one; returns how many moved. Idempotent: a second run
   * writes the same values and tombstones again.
   */
  private int move(Changelog c, int to) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
    int moved = 0;
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
        new ByteArraySerializer())) {
      List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
      for (Entry e : c.entries) {
        int target = partitionOf(streamOf(c.store, e.key), to);
        sent.add(producer.send(new ProducerRecord<>(c.name, target, e.timestamp, e.key, e.value,
            new RecordHeaders(e.headers))));
        moved++;
      }
      producer.flush(); // every value is in its new partition before any tombstone
      await(sent, c);
      steps.accept("moved-values " + c.name);
      sent.clear();
      for (Entry e : c.entries) {
        sent.add(producer.send(new ProducerRecord<>(c.name, e.partition, e.timestamp, e.key, (byte[]) null)));
      }
      producer.flush();
      await(sent, c);
    }
    return moved;
  }

  private void await(List<java.util.concurrent.Future<?>> sent, Changelog c) {
    for (var f : sent) {
      try {
        f.get();
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while writing " + c.name, x);
      } catch (ExecutionException x) {
        throw new IllegalStateException("could not move the window state in " + c.name + " (run the same "
            + "command again: the journal " + journal() + " keeps it): " + x.getCause(), x.getCause());
      }
    }
  }

  /**
   * Reads the changelog back: each moved entry in its stream's new partition with its value, and
   * gone from its old one.
   */
  private void verify(Changelog c, int to) {
    Map<List<Object>, Bytes> expected = new HashMap<>();
    Set<List<Object>> watched = new java.util.HashSet<>();
    for (Entry e : c.entries) {
      List<Object> at = List.of(partitionOf(streamOf(c.store, e.key), to), Bytes.wrap(e.key));
      expected.put(at, Bytes.wrap(e.value));
      watched.add(at);
      watched.add(List.of(e.partition, Bytes.wrap(e.key)));
    }
    Map<List<Object>, Bytes> found = new HashMap<>();
    readAll(c.name, to, r -> {
      List<Object> k = List.of(r.partition(), Bytes.wrap(r.key()));
      if (!watched.contains(k)) {
        return;
      }
      if (r.value() == null) {
        found.remove(k);
      } else {
        found.put(k, Bytes.wrap(r.value()));
      }
    });
    if (!found.equals(expected)) {
      throw new IllegalStateException(c.name + " read back " + found.size() + " entries, expected "
          + expected.size() + " in their streams' partitions; run the same command again (journal " + journal() + ")");
    }
  }

  private static String describe(Map<String, int[]> moved) {
    List<String> out = new ArrayList<>();
    moved.forEach((s, p) -> out.add(s + " " + p[0] + "->" + p[1]));
    return out.size() <= 20 ? String.join(", ", out)
        : String.join(", ", out.subList(0, 20)) + ", ... (" + (out.size() - 20) + " more)";
  }

  /** The stream an entry of {@code store} belongs to. */
  static String streamOf(String store, byte[] key) {
    if (store.equals(IndexerTopology.FEATURES_STORE)) {
      return FeatureKeys.stream(Bytes.wrap(key));
    }
    return new String(key, StandardCharsets.UTF_8);
  }

  private static String summary(List<Changelog> cs) {
    if (cs.isEmpty()) {
      return "no changelog topics (the indexer never ran), nothing to move";
    }
    List<String> parts = new ArrayList<>();
    for (Changelog c : cs) {
      parts.add(c.entries.size() + " entries of " + c.store + " to move");
    }
    return String.join(", ", parts);
  }

  // ---- journal: the state to restore, on disk before anything changes ----

  private record Journal(int to, int from, List<Changelog> changelogs) {}

  private static void writeJournal(Path file, int to, int from, List<Changelog> cs) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (OutputStream os = Files.newOutputStream(tmp);
        DataOutputStream o = new DataOutputStream(new BufferedOutputStream(os, 1 << 16))) {
      o.writeInt(JOURNAL_MAGIC);
      o.writeInt(to);
      o.writeInt(from);
      o.writeInt(cs.size());
      for (Changelog c : cs) {
        o.writeUTF(c.name);
        o.writeUTF(c.store);
        o.writeInt(c.entries.size());
        for (Entry e : c.entries) {
          o.writeInt(e.partition);
          bytes(o, e.key);
          bytes(o, e.value);
          o.writeLong(e.timestamp);
          o.writeInt(e.headers.size());
          for (Header h : e.headers) {
            o.writeUTF(h.key());
            bytes(o, h.value());
          }
        }
      }
      o.writeInt(JOURNAL_MAGIC); // complete
    }
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
  }

  private static Journal readJournal(Path file) throws IOException {
    try (InputStream is = Files.newInputStream(file);
        DataInputStream in = new DataInputStream(new BufferedInputStream(is, 1 << 16))) {
      if (in.readInt() != JOURNAL_MAGIC) {
        throw new IOException(file + " is not a partitions journal");
      }
      int to = in.readInt();
      int from = in.readInt();
      int n = in.readInt();
      List<Changelog> cs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String name = in.readUTF();
        String store = in.readUTF();
        int ne = in.readInt();
        List<Entry> entries = new ArrayList<>(ne);
        for (int j = 0; j < ne; j++) {
          int partition = in.readInt();
          byte[] k = bytes(in);
          byte[] v = bytes(in);
          long ts = in.readLong();
          int nh = in.readInt();
          List<Header> hs = new ArrayList<>();
          for (int h = 0; h < nh; h++) {
            String hk = in.readUTF();
            hs.add(new org.apache.kafka.common.header.internals.RecordHeader(hk, bytes(in)));
          }
          entries.add(new Entry(partition, k, v, ts, hs));
        }
        cs.add(new Changelog(name, store, entries));
      }
      if (in.readInt() != JOURNAL_MAGIC) {
        throw new IOException(file + " is incomplete");
      }
      return new Journal(to, from, cs);
    } catch (EOFException e) {
      throw new IOException(file + " is incomplete", e);
    }
  }

  private static void bytes(DataOutputStream o, byte[] b) throws IOException {
    if (b == null) {
      o.writeInt(-1);
    } else {
      o.writeInt(b.length);
      o.write(b);
    }
  }

  private static byte[] bytes(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      return null;
    }
    return in.readNBytes(n);
  }
}
