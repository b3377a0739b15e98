package dev.moments.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The one way tests get a real Kafka broker: a Testcontainers Kafka container where a Docker
 * engine exists, the in-process {@link EmbeddedBroker} otherwise. One broker is shared by all
 * tests of a JVM (started on first use, stopped at exit); tests isolate themselves with
 * {@link #uniquePrefix(String)} topic prefixes and their own consumer groups.
 */
public final class KafkaFixture {
  private static String bootstrap;

  private KafkaFixture() {}

  /** The shared broker's bootstrap servers, starting it on first call. */
  public static synchronized String bootstrapServers() {
    if (bootstrap == null) {
      bootstrap = dockerAvailable() ? startContainer() : startEmbedded();
    }
    return bootstrap;
  }

  /** A topic prefix no other test uses, e.g. {@code t-ingest-3f2a9c}. */
  public static String uniquePrefix(String name) {
    return "t-" + name + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static boolean dockerAvailable() {
    if (Boolean.getBoolean("moments.test.noDocker")) {
      return false;
    }
    try {
      Class<?> f = Class.forName("org.testcontainers.DockerClientFactory");
      Object instance = f.getMethod("instance").invoke(null);
      return (Boolean) f.getMethod("isDockerAvailable").invoke(instance);
    } catch (ReflectiveOperationException | LinkageError e) {
      return false;
    }
  }

  private static String startContainer() {
    var kafka = new org.testcontainers.kafka.KafkaContainer("apache/kafka:4.1.1");
    kafka.start();
    Runtime.getRuntime().addShutdownHook(new Thread(kafka::stop));
    return kafka.getBootstrapServers();
  }

  private static String startEmbedded() {
    try {
      Path dir = Files.createTempDirectory("moments-test-broker");
      EmbeddedBroker broker = EmbeddedBroker.start(dir, 0);
      Runtime.getRuntime().addShutdownHook(new Thread(broker::close));
      return broker.bootstrapServers();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
