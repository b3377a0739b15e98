package dev.moments.api.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * The server's metrics in the Prometheus text exposition format (version 0.0.4): HTTP request
 * counts by route and status, a search latency histogram, unlabelled counters (alerts) and gauges
 * read when scraped (ingest lag, index size). Small and dependency-free on purpose.
 */
public final class Metrics {
  /** Upper bounds (seconds) of the search latency histogram buckets. */
  public static final double[] SEARCH_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

  private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
  private final Histogram search = new Histogram(SEARCH_BUCKETS);
  private final Map<String, Gauge> gauges = new TreeMap<>();
  private final Map<String, Counter> counters = new TreeMap<>();

  private record Gauge(String help, DoubleSupplier value) {}

  /** The method labels kept as they are; any other method is counted as {@code OTHER}. */
  public static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT");

  /**
   * Counts one finished HTTP request. NOTE: labels come from the request, so they are bounded here:
   * a method outside {@link #METHODS} is {@code OTHER}, a status outside 100..599 is {@code 0}, and
   * callers pass route templates (not raw paths); otherwise every invented method would add a series
   * to an open {@code /metrics} forever.
   */
  public void request(String method, String route, int status) {
    String m = METHODS.contains(method) ? method : "OTHER";
    int s = status >= 100 && status <= 599 ? status : 0;
    requests.computeIfAbsent(m + " " + route + " " + s, x -> new LongAdder()).increment();
  }

  /** Records one search's latency. */
  public void searchSeconds(double seconds) {
    search.observe(seconds);
  }

  /** Registers a gauge read at every scrape, e.g. {@code moments_ingest_lag_records}. */
  public synchronized void gauge(String name, String help, DoubleSupplier value) {
    if (!name.matches("[a-zA-Z_:][a-zA-Z0-9_:]*")) {
      throw new IllegalArgumentException("bad metric name: " + name);
    }
    gauges.put(name, new Gauge(help, value));
  }

  /**
   * The counter of that name, registered on first use (a second call with the same name returns
   * the same counter). Unlabelled on purpose: a counter is one series, e.g. {@code
   * moments_alert_webhooks_delivered_total}.
   */
  public synchronized Counter counter(String name, String help) {
    if (!name.matches("[a-zA-Z_:][a-zA-Z0-9_:]*")) {
      throw new IllegalArgumentException("bad metric name: " + name);
    }
    return counters.computeIfAbsent(name, n -> new Counter(help));
  }

  /** The search latency histogram. */
  public Histogram searchLatency() {
    return search;
  }

  /** All metrics as Prometheus text. */
  public synchronized String scrape() {
    StringBuilder b = new StringBuilder();
    b.append("# HELP moments_http_requests_total HTTP requests answered, by method, route and status.\n");
    b.append("# TYPE moments_http_requests_total counter\n");
    for (Map.Entry<String, LongAdder> e : new TreeMap<>(requests).entrySet()) {
      String[] k = e.getKey().split(" ", 3);
      b.append("moments_http_requests_total{method=\"").append(k[0]).append("\",route=\"").append(escape(k[1]))
          .append("\",status=\"").append(k[2]).append("\"} ").append(e.getValue().sum()).append('\n');
    }
    b.append("# HELP moments_search_latency_seconds Time to encode a query and search the index.\n");
    b.append("# TYPE moments_search_latency_seconds histogram\n");
    Histogram.Snapshot s = search.snapshot();
    for (int i = 0; i < SEARCH_BUCKETS.length; i++) {
      b.append("moments_search_latency_seconds_bucket{le=\"").append(number(SEARCH_BUCKETS[i])).append("\"} ")
          .append(s.cumulative()[i]).append('\n');
    }
    b.append("moments_search_latency_seconds_bucket{le=\"+Inf\"} ").append(s.count()).append('\n');
    b.append("moments_search_latency_seconds_sum ").append(number(s.sum())).append('\n');
    b.append("moments_search_latency_seconds_count ").append(s.count()).append('\n');
    for (Map.Entry<String, Counter> e : counters.entrySet()) {
      b.append("# HELP ").append(e.getKey()).append(' ').append(e.getValue().help).append('\n');
      b.append("# TYPE ").append(e.getKey()).append(" counter\n");
      b.append(e.getKey()).append(' ').append(e.getValue().get()).append('\n');
    }
    for (Map.Entry<String, Gauge> e : gauges.entrySet()) {
      double v;
      try {
        v = e.getValue().value().getAsDouble();
      } catch (RuntimeException ex) {
        v = Double.NaN;
      }
      b.append("# HELP ").append(e.getKey()).append(' ').append(e.getValue().help()).append('\n');
      b.append("# TYPE ").append(e.getKey()).append(" gauge\n");
      b.append(e.getKey()).append(' ').append(number(v)).append('\n');
    }
    return b.toString();
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  static String number(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return String.format(Locale.ROOT, "%s", v);
  }

  /** A monotonic count; thread-safe. */
  public static final class Counter {
    private final String help;
    private final LongAdder value = new LongAdder();

    Counter(String help) {
      this.help = help;
    }

    public void inc() {
      value.increment();
    }

    public long get() {
      return value.sum();
    }
  }

  /** A fixed-bucket histogram; thread-safe. */
  public static final class Histogram {
    private final double[] bounds;
    private final AtomicLong[] counts;
    private final AtomicLong count = new AtomicLong();
    private double sum;

    Histogram(double[] bounds) {
      this.bounds = bounds.clone();
      this.counts = new AtomicLong[bounds.length];
      for (int i = 0; i < counts.length; i++) {
        counts[i] = new AtomicLong();
      }
    }

    public synchronized void observe(double v) {
      for (int i = 0; i < bounds.length; i++) {
        if (v <= bounds[i]) {
          counts[i].incrementAndGet();
          break;
        }
      }
      count.incrementAndGet();
      sum += v;
    }

    /** Cumulative bucket counts (one per bound), total count and sum. */
    public synchronized Snapshot snapshot() {
      long[] cum = new long[bounds.length];
      long run = 0;
      for (int i = 0; i < bounds.length; i++) {
        run += counts[i].get();
        cum[i] = run;
      }
      return new Snapshot(cum, count.get(), sum);
    }

    /** A consistent view of the histogram. */
    public record Snapshot(long[] cumulative, long count, double sum) {}
  }

  /** Parses the samples of a scrape into name{labels} -> value, for tests and tools. */
  public static Map<String, Double> parse(String text) {
    Map<String, Double> out = new TreeMap<>();
    List<String> lines = new ArrayList<>(text.lines().toList());
    for (String line : lines) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int sp = line.lastIndexOf(' ');
      out.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
    }
    return out;
  }
}
