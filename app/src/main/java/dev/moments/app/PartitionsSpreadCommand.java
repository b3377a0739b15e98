package dev.moments.app;

import dev.moments.topics.PartitionSpread;
import dev.moments.topics.TopicAdmin;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code moments partitions spread}: where given stream ids land on N partitions under the Java
 * producer's default partitioner, and how many streams each of k instances gets when partition p
 * goes to instance p mod k (the featurizer's assignor). Needs no broker.
 */
@Command(name = "spread", mixinStandardHelpOptions = true,
    description = {
      "Show where stream ids land: the partition of each id under the Java producer's default "
          + "partitioner (murmur2 of the UTF-8 id), streams per partition, and streams per instance "
          + "when partition p goes to instance p mod k (the featurizer's assignor). Needs no broker.",
      "Stream ids as arguments, or --count N with --pattern (e.g. cam-%%d: cam-1..cam-N)."
    })
public final class PartitionsSpreadCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--partitions", defaultValue = "" + TopicAdmin.DEFAULT_PARTITIONS, paramLabel = "N",
      description = "Partition count (default: ${DEFAULT-VALUE}, the default of topics Moments creates).")
  int partitions;

  @Option(names = "--instances", defaultValue = "1,2,4", split = ",", paramLabel = "K",
      description = "Instance counts to show the load per instance for (default: ${DEFAULT-VALUE}).")
  List<Integer> instances;

  @Option(names = "--count", paramLabel = "N", description = "Make N stream ids from --pattern, numbered from 1.")
  Integer count;

  @Option(names = "--pattern", defaultValue = "cam-%d", paramLabel = "PATTERN",
      description = "Pattern of the ids --count makes, with one %%d (default: ${DEFAULT-VALUE}).")
  String pattern;

  @Parameters(paramLabel = "STREAM", arity = "0..*", description = "Stream ids (record keys).")
  List<String> ids = new ArrayList<>();

  @Override
  public Integer call() {
    if (partitions < 1) {
      throw new ParameterException(spec.commandLine(), "--partitions must be >= 1, got " + partitions);
    }
    for (int k : instances) {
      if (k < 1) {
        throw new ParameterException(spec.commandLine(), "--instances must be >= 1 each, got " + k);
      }
    }
    List<String> streams = new ArrayList<>(ids);
    if (count != null) {
      if (count < 1) {
        throw new ParameterException(spec.commandLine(), "--count must be >= 1, got " + count);
      }
      if (!pattern.contains("%d")) {
        throw new ParameterException(spec.commandLine(), "--pattern must contain %d, got '" + pattern + "'");
      }
      try {
        streams.addAll(PartitionSpread.ids(pattern, count));
      } catch (java.util.IllegalFormatException e) {
        throw new ParameterException(spec.commandLine(), "--pattern must have one %d and no other format, got '"
            + pattern + "' (" + e.getMessage() + ")");
      }
    }
    streams = new ArrayList<>(new LinkedHashSet<>(streams));
    if (streams.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "give stream ids, or --count N [--pattern cam-%d]");
    }
    print(PartitionSpread.of(streams, partitions), spec.commandLine().getOut());
    return 0;
  }

  private void print(PartitionSpread s, PrintWriter out) {
    int[] load = s.perPartition();
    out.printf(Locale.ROOT, "%d streams on %d partitions (Java producer's default partitioner: murmur2 of the "
        + "UTF-8 stream id)%n", s.streams(), s.partitions());
    out.println("partition  streams  ids");
    for (int p = 0; p < load.length; p++) {
      final int part = p;
      List<String> on = s.partitionOf().entrySet().stream().filter(e -> e.getValue() == part)
          .map(java.util.Map.Entry::getKey).toList();
      String names = on.size() <= 6 ? String.join(", ", on)
          : String.join(", ", on.subList(0, 6)) + ", ... (" + (on.size() - 6) + " more)";
      out.println(String.format(Locale.ROOT, "%9d  %7d  %s", p, load[p], names).stripTrailing());
    }
    out.printf(Locale.ROOT, "per partition: max %d, mean %.2f, max/mean %.2f, empty %d of %d%n",
        PartitionSpread.max(load), (double) s.streams() / s.partitions(), PartitionSpread.maxOverMean(load),
        s.emptyPartitions(), s.partitions());
    List<String> each = new ArrayList<>();
    for (int k : instances) {
      each.add(Arrays.stream(s.perInstance(k)).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
    }
    int width = Math.max("streams on each".length(), each.stream().mapToInt(String::length).max().orElse(0));
    out.println("load per instance, partition p to instance p mod k (the featurizer's assignor):");
    out.printf(Locale.ROOT, "instances  %-" + width + "s  max  mean  max/mean  idle%n", "streams on each");
    for (int i = 0; i < instances.size(); i++) {
      int k = instances.get(i);
      int[] per = s.perInstance(k);
      long idle = IntStream.of(per).filter(l -> l == 0).count();
      out.printf(Locale.ROOT, "%9d  %-" + width + "s  %3d  %4.1f  %8.2f  %4d%s%n", k, each.get(i),
          PartitionSpread.max(per), (double) s.streams() / k, PartitionSpread.maxOverMean(per), idle,
          k > s.partitions() ? "  (more instances than partitions)" : "");
    }
    out.flush();
  }
}
