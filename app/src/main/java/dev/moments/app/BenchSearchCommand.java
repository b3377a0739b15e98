package dev.moments.app;

import dev.moments.indexer.index.SearchBenchmark;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moments bench search}: recall and latency of the moment index on clustered data. */
@Command(name = "search", mixinStandardHelpOptions = true,
    description = "Build an on-disk moment index of N clustered random moments and print "
        + "recall@k against exact brute force, p50/p99 search latency and the indexing rate.")
final class BenchSearchCommand implements Callable<Integer> {
  @Option(names = "--moments", defaultValue = "100000", paramLabel = "N",
      description = "Moments to index (default: ${DEFAULT-VALUE}).")
  int moments;

  @Option(names = "--dim", defaultValue = "1024",
      description = "Embedding dimension (default: ${DEFAULT-VALUE}).")
  int dim;

  @Option(names = "--queries", defaultValue = "200",
      description = "Measured queries (default: ${DEFAULT-VALUE}).")
  int queries;

  @Option(names = "--k", defaultValue = "10", description = "Hits per query (default: ${DEFAULT-VALUE}).")
  int k;

  @Option(names = "--clusters", defaultValue = "1000",
      description = "Cluster centres the moments are drawn around (default: ${DEFAULT-VALUE}).")
  int clusters;

  @Option(names = "--noise", defaultValue = "0.5",
      description = "Norm of the Gaussian noise around a centre (default: ${DEFAULT-VALUE}).")
  float noise;

  @Option(names = "--seed", defaultValue = "42", description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--dir", defaultValue = "${java.io.tmpdir}", paramLabel = "DIR",
      description = "Where the temporary index is built (deleted afterwards; default: ${DEFAULT-VALUE}).")
  Path dir;

  @Override
  public Integer call() {
    System.out.printf("bench search: %,d moments, dim %d, %d clusters, %d queries, k=%d%n",
        moments, dim, clusters, queries, k);
    String before = BenchReferences.loadavg();
    var r = new SearchBenchmark(new SearchBenchmark.Params(
        moments, dim, queries, k, clusters, noise, seed, dir)).run(System.out);
    System.out.printf("indexing: %,.0f moments/s (%.1f s for %,d), %,d bytes on disk%n",
        r.momentsPerSecond(), r.buildSeconds(), r.moments(), r.sizeOnDiskBytes());
    System.out.printf("recall@%d vs exact brute force: %.4f (float embeddings), %.4f (their stored int8"
        + " vectors, what the index reports) over %d queries%n", r.k(), r.recall(), r.recallInt8(), r.queries());
    System.out.printf("latency: p50 %.2f ms, p99 %.2f ms, mean %.2f ms%n",
        r.p50Ms(), r.p99Ms(), r.meanMs());
    System.out.println(BenchReferences.load(before, BenchReferences.loadavg())
        + " (indexing, exact brute force and the timed queries)");
    return 0;
  }
}
