package dev.moments.indexer.alerts;

import dev.moments.topics.Topics;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The alerts service of {@link AlertsBrokerTest} in a child JVM that the test kills with SIGKILL.
 * Arguments: bootstrap, topic prefix, state dir.
 */
public final class AlertsChild {
  private AlertsChild() {}

  /** Short transaction timeout: a killed instance's open transaction must not hold readers long. */
  static Properties fast() {
    Properties p = new Properties();
    p.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), 10_000);
    return p;
  }

  public static void main(String[] args) throws InterruptedException {
    Topics topics = new Topics(args[1]);
    AlertsService s = new AlertsService(args[0], topics, AlertsService.defaultApplicationId(topics),
        Path.of(args[2]), fast());
    s.start();
    System.out.println(System.currentTimeMillis() + " started");
    while (true) {
      Thread.sleep(1000);
      System.out.println(System.currentTimeMillis() + " alerts " + s.state() + " fired "
          + s.stats().fired.get() + " suppressed " + s.stats().suppressed.get());
    }
  }
}
