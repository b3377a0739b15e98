package dev.moments.broker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool$;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A real single-node Apache Kafka broker in KRaft mode (combined broker and controller),
 * started in this JVM from the Kafka jars. Its log directory is formatted on first start and
 * reused afterwards, so topics and records survive restarts.
 *
 * <p>This is the broker of {@code ./moments broker}, of {@code ./moments demo} and of the tests
 * where no Docker engine exists.
 */
public final class EmbeddedBroker implements AutoCloseable {
  private final Path dataDir;
  private final int port;
  private final KafkaRaftServer server;
  private boolean closed;

  private EmbeddedBroker(Path dataDir, int port, KafkaRaftServer server) {
    this.dataDir = dataDir;
    this.port = port;
    this.server = server;
  }

  /**
   * Formats {@code dataDir} if it is new and starts a broker listening on {@code localhost:port}
   * (0 picks a free port).
   *
   * @throws IllegalStateException when the port is taken or the directory cannot be used
   */
  public static EmbeddedBroker start(Path dataDir, int port) {
    return start(dataDir, "localhost", port);
  }

  /** Like {@link #start(Path, int)}, advertising {@code host} to clients. */
  public static EmbeddedBroker start(Path dataDir, String host, int port) {
    return start(dataDir, host, port, Map.of());
  }

  /**
   * Like {@link #start(Path, String, int)} with broker configs that replace or add to the built-in
   * ones, e.g. {@code log.retention.ms=-1} (keep every record) or a short {@code
   * log.retention.check.interval.ms} for a test that must see a retention check run.
   */
  public static EmbeddedBroker start(Path dataDir, String host, int port, Map<String, String> overrides) {
    try {
      Files.createDirectories(dataDir);
      int brokerPort = port == 0 ? freePort() : port;
      int controllerPort = freePort();
      Path logDir = dataDir.resolve("kraft-logs");
      Path configFile = dataDir.resolve("server.properties");
      Properties props = config(host, brokerPort, controllerPort, logDir);
      props.putAll(overrides);
      try (Writer w = Files.newBufferedWriter(configFile, StandardCharsets.UTF_8)) {
        props.store(w, "Moments embedded KRaft broker (rewritten on every start)");
      }
      if (!Files.exists(logDir.resolve("meta.properties"))) {
        format(configFile);
      }
      KafkaRaftServer server =
          new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
      server.startup();
      return new EmbeddedBroker(dataDir, brokerPort, server);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare broker data directory " + dataDir, e);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "cannot start Kafka broker on port " + port + " with data in " + dataDir + ": "
              + e.getMessage(), e);
    }
  }

  private static Properties config(String host, int brokerPort, int controllerPort, Path logDir) {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@localhost:" + controllerPort);
    p.put("listeners",
        "PLAINTEXT://" + (host.equals("localhost") ? "localhost" : "0.0.0.0") + ":" + brokerPort
            + ",CONTROLLER://localhost:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://" + host + ":" + brokerPort);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", logDir.toAbsolutePath().toString());
    p.put("num.partitions", "1");
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "5");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "5");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("auto.create.topics.enable", "false");
    p.put("message.max.bytes", Integer.toString(8 * 1024 * 1024));
    p.put("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
    return p;
  }

  private static void format(Path configFile) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int rc;
    try (PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8)) {
      rc = StorageTool$.MODULE$.execute(
          new String[] {
            "format", "-t", Uuid.randomUuid().toString(), "-c", configFile.toString(),
            "--ignore-formatted"
          },
          ps);
    }
    if (rc != 0) {
      throw new IllegalStateException(
          "formatting the KRaft log directory failed: " + out.toString(StandardCharsets.UTF_8));
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("localhost", 0));
      return s.getLocalPort();
    }
  }

  /** {@code localhost:port}, for clients' {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return "localhost:" + port;
  }

  public int port() {
    return port;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** Blocks until the broker has shut down. */
  public void awaitShutdown() {
    server.awaitShutdown();
  }

  /** Shuts the broker down cleanly, flushing its logs. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      server.shutdown();
      server.awaitShutdown();
    }
  }
}
