package dev.moments.api;

import dev.moments.api.alerts.AlertDelivery;
import dev.moments.api.alerts.AlertFeed;
import dev.moments.api.alerts.AlertHub;
import dev.moments.api.alerts.WebhookConfig;
import dev.moments.api.alerts.WebhookDelivery;
import dev.moments.api.alerts.AlertRules;
import dev.moments.api.auth.TokenFile;
import dev.moments.api.auth.Tokens;
import dev.moments.api.frames.KafkaFrameStore;
import dev.moments.api.http.ApiServer;
import dev.moments.api.metrics.Metrics;
import dev.moments.model.rank.Rankers;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.indexer.index.Materializer;
import dev.moments.indexer.index.MaterializerConfig;
import dev.moments.indexer.index.MomentIndex;
import dev.moments.topics.LoopHealth;
import dev.moments.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/**
 * The whole query side in one object: opens the moment index, runs the {@link Materializer}
 * that fills it from the moments topic (and its frame evidence from the features topic), loads the text encoder, follows the frames topic, and
 * serves the {@link ApiServer}; follows the alerts topic for the page's live alerts ({@link AlertFeed})
 * and POSTs alerts to their rules' webhooks ({@link WebhookDelivery}, with {@link AlertRules}). {@code moments serve} and the in-process demo both start one.
 */
public final class MomentsServer implements AutoCloseable {
  /**
   * What to serve.
   *
   * @param indexDir the Lucene moment index directory (created when missing)
   * @param host the interface to listen on ("0.0.0.0" for all)
   * @param port the port (0 = any free port)
   * @param encoderDir the text encoder directory (null = the bundled default)
   * @param tokens who may see what ({@link TokenFile} or {@link Tokens#insecure()})
   * @param bootstrap Kafka bootstrap servers
   * @param topics the topic names
   * @param frameCacheBytes bytes of JPEG frames kept in the frame lookup cache
   * @param ranker the name of the span ranker of the served search ({@link Rankers#names()})
   * @param webhooks how alerts are POSTed to their rules' webhooks
   */
  public record Config(Path indexDir, String host, int port, Path encoderDir, Tokens tokens, String bootstrap,
      Topics topics, long frameCacheBytes, String ranker, WebhookConfig webhooks) {
    /** With the default webhook delivery ({@link WebhookConfig#defaults()}). */
    public Config(Path indexDir, String host, int port, Path encoderDir, Tokens tokens, String bootstrap,
        Topics topics, long frameCacheBytes, String ranker) {
      this(indexDir, host, port, encoderDir, tokens, bootstrap, topics, frameCacheBytes, ranker, WebhookConfig.defaults());
    }

    /** With the default ranker ({@link Rankers#DEFAULT}). */
    public Config(Path indexDir, String host, int port, Path encoderDir, Tokens tokens, String bootstrap,
        Topics topics, long frameCacheBytes) {
      this(indexDir, host, port, encoderDir, tokens, bootstrap, topics, frameCacheBytes, Rankers.DEFAULT);
    }

    public Config {
      Objects.requireNonNull(webhooks, "webhooks");
      Objects.requireNonNull(ranker, "ranker");
      Rankers.named(ranker); // fails early, naming the known rankers
      Objects.requireNonNull(indexDir, "indexDir");
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(tokens, "tokens");
      Objects.requireNonNull(bootstrap, "bootstrap");
      Objects.requireNonNull(topics, "topics");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, got " + port);
      }
      if (frameCacheBytes < 0) {
        throw new IllegalArgumentException("frameCacheBytes must be >= 0, got " + frameCacheBytes);
      }
    }

    /** The default frame cache: 64 MiB of JPEG. */
    public static final long DEFAULT_FRAME_CACHE_BYTES = 64L << 20;

    /** Defaults: all interfaces, {@link #DEFAULT_FRAME_CACHE_BYTES} of cached frames. */
    public static Config of(Path indexDir, int port, Path encoderDir, Tokens tokens, String bootstrap, Topics topics) {
      return new Config(indexDir, "0.0.0.0", port, encoderDir, tokens, bootstrap, topics, DEFAULT_FRAME_CACHE_BYTES);
    }

    /** The same, listening on {@code host} ("127.0.0.1" for this machine only). */
    public Config withHost(String host) {
      return new Config(indexDir, host, port, encoderDir, tokens, bootstrap, topics, frameCacheBytes, ranker, webhooks);
    }

    /** The same, ranking with the ranker of that name ({@link Rankers#names()}). */
    public Config withRanker(String name) {
      return new Config(indexDir, host, port, encoderDir, tokens, bootstrap, topics, frameCacheBytes, name, webhooks);
    }

    /** The same, delivering webhooks with {@code w}. */
    public Config withWebhooks(WebhookConfig w) {
      return new Config(indexDir, host, port, encoderDir, tokens, bootstrap, topics, frameCacheBytes, ranker, w);
    }
  }

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final MomentIndex index;
  private final Materializer materializer;
  private final TextEncoder encoder;
  private final ApiServer api;
  private final AlertRules alertRules;

  private MomentsServer(Config c) {
    try {
      index = keep(MomentIndex.open(c.indexDir()));
      materializer = keep(new Materializer(c.bootstrap(), c.topics(), index, MaterializerConfig.defaults()));
      encoder = keep(Encoders.loadText(c.encoderDir() != null ? c.encoderDir() : Encoders.defaultDir()));
      KafkaFrameStore frames = keep(new KafkaFrameStore(c.bootstrap(), c.topics().frames().name(), c.frameCacheBytes()));
      BrokerProbe probe = keep(new BrokerProbe(c.bootstrap()));
      Metrics metrics = new Metrics();
      alertRules = keep(AlertRules.kafka(c.bootstrap(), c.topics()));
      AlertHub hub = keep(new AlertHub(metrics));
      AlertFeed feed = keep(new AlertFeed(c.bootstrap(), c.topics().alerts().name(), hub::publish));
      WebhookDelivery webhooks = keep(new WebhookDelivery(c.bootstrap(), c.topics(), alertRules, c.webhooks(), metrics));
      PipelineStatus status = new PipelineStatus() {
        @Override
        public boolean brokerReachable() {
          return probe.reachable();
        }

        @Override
        public boolean indexOpen() {
          try {
            index.size();
            return materializer.failure() == null;
          } catch (RuntimeException e) {
            return false;
          }
        }

        @Override
        public long ingestLag() {
          return materializer.lag();
        }

        @Override
        public boolean caughtUp() {
          return materializer.caughtUp();
        }

        @Override
        public List<LoopHealth.Status> loops() {
          return List.of(materializer.health(), frames.health(), alertRules.health(), feed.health(), webhooks.health());
        }
      };
      api = new ApiServer(new ApiServer.Deps(encoder, new LuceneMomentStore(index), frames, c.tokens(), status, metrics,
          Rankers.named(c.ranker()), alertRules, new AlertDelivery(hub, alertRules::get, webhooks::status)));
      materializer.start();
      frames.start();
      feed.start();
      webhooks.start();
      api.start(c.host(), c.port());
    } catch (RuntimeException e) {
      closeResources();
      throw e;
    }
  }

  /** Opens everything and starts serving. */
  public static MomentsServer start(Config config) {
    return new MomentsServer(config);
  }

  /** The bound HTTP port. */
  public int port() {
    return api.port();
  }

  /** The text encoder in use (its id is worth printing at startup). */
  public TextEncoder encoder() {
    return encoder;
  }

  /** The moment index (shared with the materializer). */
  public MomentIndex index() {
    return index;
  }

  /** The alert rules ({@code /api/alerts}), as read from the rules topic. */
  public AlertRules alertRules() {
    return alertRules;
  }

  /** The materializer filling the index. */
  public Materializer materializer() {
    return materializer;
  }

  /** Stops the HTTP server, the materializer (committing what it indexed) and the rest. */
  @Override
  public void close() {
    api.close();
    closeResources();
  }

  private <T extends AutoCloseable> T keep(T r) {
    resources.add(r);
    return r;
  }

  private void closeResources() {
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        // Keep closing the rest; the first failure is not worth losing the others' cleanup.
        org.slf4j.LoggerFactory.getLogger(MomentsServer.class).warn("closing {} failed", resources.get(i), e);
      }
    }
    resources.clear();
  }

  /** Asks the cluster for its nodes at most every 5 s, with a 2 s timeout. */
  static final class BrokerProbe implements AutoCloseable {
    private final Admin admin;
    private volatile long checkedAt;
    private volatile boolean reachable;

    BrokerProbe(String bootstrap) {
      Properties p = new Properties();
      p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      p.put(AdminClientConfig.CLIENT_ID_CONFIG, "moments-api-health");
      p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "2000");
      p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
      admin = Admin.create(p);
    }

    synchronized boolean reachable() {
      long now = System.nanoTime();
      if (checkedAt != 0 && now - checkedAt < TimeUnit.SECONDS.toNanos(5)) {
        return reachable;
      }
      try {
        reachable = !admin.describeCluster(new DescribeClusterOptions().timeoutMs(2000)).nodes()
            .get(2, TimeUnit.SECONDS).isEmpty();
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        reachable = false;
      }
      checkedAt = System.nanoTime();
      return reachable;
    }

    @Override
    public void close() {
      admin.close(Duration.ofSeconds(2));
    }
  }
}
