package dev.moments.app;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Option;

/**
 * The {@code /metrics} endpoint of {@code featurize} and {@code index} (which have no other HTTP):
 * Prometheus text (version 0.0.4), the same format as {@code serve}'s {@code /metrics}, served by
 * the JDK's HTTP server. Each scrape asks the service afresh: which partitions of its input topic
 * this instance owns ({@code moments_owned_partitions}, 1 per owned partition) and how far behind
 * each one is ({@code moments_partition_lag}, records, NaN while not known), plus the service's
 * counters.
 */
final class ServiceMetrics implements AutoCloseable {
  /** The {@code --metrics-port} and {@code --metrics-host} options. */
  static final class Options {
    @Option(names = "--metrics-port", paramLabel = "PORT",
        description = "Serve Prometheus metrics (owned partitions, lag per partition, counters) at "
            + "http://HOST:PORT/metrics; 0 for any free port. Off when not given.")
    Integer port;

    @Option(names = "--metrics-host", defaultValue = "0.0.0.0", paramLabel = "HOST",
        description = "Interface the metrics endpoint listens on (default: ${DEFAULT-VALUE}).")
    String host;

    /** Starts the endpoint when asked for (and says where), else returns null. */
    ServiceMetrics startIfAsked(String service, Supplier<String> scrape) {
      if (port == null) {
        return null;
      }
      ServiceMetrics m = start(host, port, scrape);
      System.out.println(service + " metrics at http://" + host + ":" + m.port() + "/metrics");
      return m;
    }
  }

  private final HttpServer server;

  private ServiceMetrics(HttpServer server) {
    this.server = server;
  }

  /**
   * Serves {@code scrape()} at {@code /metrics} on {@code host:port} (port 0: any free one).
   *
   * @throws IllegalArgumentException when the port is out of range
   * @throws UncheckedIOException when the port cannot be bound
   */
  static ServiceMetrics start(String host, int port, Supplier<String> scrape) {
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("metrics port must be between 0 and 65535, got " + port);
    }
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve metrics on " + host + ":" + port + ": " + e.getMessage(), e);
    }
    server.createContext("/", exchange -> {
      try (exchange) {
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        if (!path.equals("/metrics")) {
          byte[] body = "not found: metrics are at /metrics\n".getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(404, body.length);
          exchange.getResponseBody().write(body);
          return;
        }
        if (!method.equals("GET") && !method.equals("HEAD")) {
          exchange.getResponseHeaders().set("Allow", "GET, HEAD");
          exchange.sendResponseHeaders(405, -1);
          return;
        }
        byte[] body;
        int status = 200;
        try {
          body = scrape.get().getBytes(StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
          status = 500;
          body = ("cannot read the metrics: " + e + "\n").getBytes(StandardCharsets.UTF_8);
        }
        exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        if (method.equals("HEAD")) {
          exchange.sendResponseHeaders(status, -1);
          return;
        }
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    });
    server.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "metrics-http");
      t.setDaemon(true);
      return t;
    }));
    server.start();
    return new ServiceMetrics(server);
  }

  /** The port it listens on. */
  int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }

  /** Builds one scrape's text. */
  static final class Text {
    private final String service;
    private final StringBuilder b = new StringBuilder();

    Text(String service) {
      this.service = service;
    }

    /** {@code moments_owned_partitions} and {@code moments_partition_lag} of {@code lags}. */
    Text partitions(Map<TopicPartition, OptionalLong> lags) {
      List<String> owned = new ArrayList<>();
      List<String> lag = new ArrayList<>();
      for (Map.Entry<TopicPartition, OptionalLong> e : lags.entrySet()) {
        String labels = "{service=\"" + service + "\",topic=\"" + escape(e.getKey().topic()) + "\",partition=\""
            + e.getKey().partition() + "\"}";
        owned.add("moments_owned_partitions" + labels + " 1");
        lag.add("moments_partition_lag" + labels + " "
            + (e.getValue().isPresent() ? Long.toString(e.getValue().getAsLong()) : "NaN"));
      }
      family("moments_owned_partitions", "gauge",
          "Partitions of the input topic this instance owns (1 each; absent: owned by another instance).", owned);
      family("moments_partition_lag", "gauge",
          "Records behind the end of an owned partition (read_committed; NaN while not known).", lag);
      return this;
    }

    /** A counter with the service label. */
    Text counter(String name, String help, long value) {
      family(name, "counter", help, List.of(name + "{service=\"" + service + "\"} " + value));
      return this;
    }

    /** A gauge with the service label. */
    Text gauge(String name, String help, double value) {
      String v = Double.isNaN(value) ? "NaN" : value == Math.rint(value) ? Long.toString((long) value)
          : String.format(Locale.ROOT, "%s", value);
      family(name, "gauge", help, List.of(name + "{service=\"" + service + "\"} " + v));
      return this;
    }

    private void family(String name, String type, String help, List<String> samples) {
      b.append("# HELP ").append(name).append(' ').append(help).append('\n');
      b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
      samples.forEach(s -> b.append(s).append('\n'));
    }

    private static String escape(String s) {
      return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    @Override
    public String toString() {
      return b.toString();
    }
  }
}
