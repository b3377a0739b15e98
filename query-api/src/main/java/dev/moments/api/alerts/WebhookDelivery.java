package dev.moments.api.alerts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.metrics.Metrics;
import dev.moments.topics.AlertRecord;
import dev.moments.topics.AlertRule;
import dev.moments.topics.LoopHealth;
import dev.moments.topics.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * POSTs each alert to its rule's webhook, signed, with retries; at least once.
 *
 * <p>Exactly one server delivers each alert: the servers share the consumer group {@link
 * #groupId(Topics)} on the alerts topic ({@code read_committed}; a new group starts at the
 * earliest alert). An alert's offset is committed only once its delivery has finished (delivered,
 * given up after {@link WebhookConfig#attempts()} attempts, or nothing to deliver: the rule has
 * no webhook or was deleted), and only when every earlier alert of the partition has finished too;
 * deliveries run concurrently (at most {@link WebhookConfig#maxInFlight()}) on virtual threads, so
 * a slow receiver delays nobody else. A server that stops or crashes mid-delivery leaves the
 * alert uncommitted and the group's next owner of the partition delivers it again: a receiver may
 * see an alert twice and must drop repeats by {@value #ALERT_ID}. Within one server an alert id is
 * delivered once (a repeat of a delivered or in-flight alert is not POSTed again).
 *
 * <p>The request: {@code POST} the body {@link #body(AlertRecord)} with {@code Content-Type:
 * application/json}, {@value #SIGNATURE}{@code : sha256=<hex HMAC-SHA256 of the body keyed with
 * the rule's secret decoded from hex>}, {@value #ALERT_ID}, {@value #TIMESTAMP} (the attempt's
 * epoch ms; not signed) and {@value #ATTEMPT} (1, 2, ...). A 2xx answer is delivered; anything else,
 * a connection error or no answer within {@link WebhookConfig#timeout()} is a failed attempt,
 * retried after {@link WebhookConfig#backoff(int)}. Redirects are not followed.
 */
public final class WebhookDelivery implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookDelivery.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
  private static final int REMEMBERED = 10_000;

  /** The signature header: {@code sha256=<hex>}. */
  public static final String SIGNATURE = "X-Moments-Signature";
  /** The alert id header (receivers drop repeats by it). */
  public static final String ALERT_ID = "X-Moments-Alert-Id";
  /** The attempt's time header, epoch ms. */
  public static final String TIMESTAMP = "X-Moments-Timestamp";
  /** The attempt number header, 1-based. */
  public static final String ATTEMPT = "X-Moments-Attempt";

  /**
   * The webhook body: the alert without its owner (a hash of the owner's token is no business of
   * the receiver), fields in this order, compact UTF-8 JSON.
   */
  record Body(String alertId, String ruleId, String q, String streamId, String momentId, String windowId,
      long startMs, long endMs, float score, long firedMs) {}

  private final String topic;
  private final AlertRules rules;
  private final WebhookConfig config;
  private final KafkaConsumer<String, byte[]> consumer;
  private final HttpClient http;
  private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
  private final Map<String, RuleStatus> statuses = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<Void>> byAlert = new LinkedHashMap<>(1024, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, CompletableFuture<Void>> eldest) {
      return size() > REMEMBERED;
    }
  };
  // The loop thread's bookkeeping: per partition, offsets read and whether their delivery finished.
  private final Map<TopicPartition, ConcurrentSkipListMap<Long, Boolean>> pending = new HashMap<>();
  private final Map<TopicPartition, Long> toCommit = new HashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final LoopHealth health = new LoopHealth("alert-webhooks");
  private final Thread thread;
  private final Metrics.Counter attempts;
  private final Metrics.Counter delivered;
  private final Metrics.Counter failed;

  /** The consumer group of the delivering servers: {@code <prefix>-alert-webhooks}. */
  public static String groupId(Topics topics) {
    return topics.prefix() + "-alert-webhooks";
  }

  public WebhookDelivery(String bootstrap, Topics topics, AlertRules rules, WebhookConfig config, Metrics metrics) {
    this.topic = topics.alerts().name();
    this.rules = rules;
    this.config = config;
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId(topics));
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "moments-api-alert-webhooks");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100");
    this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(config.timeout())
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
    this.attempts = metrics.counter("moments_alert_webhook_attempts_total", "Webhook POSTs made (each retry counts).");
    this.delivered = metrics.counter("moments_alert_webhooks_delivered_total", "Alerts delivered to a webhook (2xx).");
    this.failed = metrics.counter("moments_alert_webhooks_failed_total",
        "Alerts given up on after every webhook attempt failed.");
    metrics.gauge("moments_alert_webhooks_in_flight", "Alerts whose webhook delivery is under way.", inFlight::get);
    this.thread = new Thread(this::loop, "alert-webhooks");
    this.thread.setDaemon(true);
  }

  public WebhookDelivery start() {
    thread.start();
    return this;
  }

  /** The deliveries of a rule by this server since it started, or empty when it delivered none. */
  public Optional<DeliveryStatus> status(String ruleId) {
    RuleStatus s = statuses.get(ruleId);
    return s == null ? Optional.empty() : Optional.of(s.snapshot());
  }

  /** The loop's state, for {@code /health}. */
  public LoopHealth.Status health() {
    return health.status();
  }

  /** The body POSTed for {@code alert} ({@link Body}): the exact bytes the signature covers. */
  public static byte[] body(AlertRecord a) {
    try {
      return JSON.writeValueAsBytes(new Body(a.alertId(), a.ruleId(), a.q(), a.streamId(), a.momentId(), a.windowId(),
          a.startMs(), a.endMs(), a.score(), a.firedMs()));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the webhook body of " + a.alertId(), e);
    }
  }

  /**
   * {@code sha256=<hex of HMAC-SHA256(key = secretHex decoded, body)>}.
   *
   * @throws IllegalArgumentException when the secret is missing or not hex
   */
  public static String sign(String secretHex, byte[] body) {
    if (secretHex == null || secretHex.isEmpty()) {
      throw new IllegalArgumentException("the rule has no webhook secret");
    }
    byte[] key = java.util.HexFormat.of().parseHex(secretHex);
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return "sha256=" + java.util.HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no HmacSHA256", e);
    }
  }

  private void loop() {
    try {
      consumer.subscribe(java.util.List.of(topic), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> parts) {
          try {
            commitDone();
          } catch (KafkaException e) {
            LOG.warn("committing finished webhook deliveries before a rebalance failed (they will be repeated): {}",
                e.getMessage());
          }
          forget(parts);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> parts) {
          forget(parts);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> parts) {}
      });
      health.run(() -> !closed.get(), () -> {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          handle(r);
        }
        commitDone();
        if (inFlight.get() >= config.maxInFlight()) {
          consumer.pause(consumer.assignment());
        } else if (!consumer.paused().isEmpty()) {
          consumer.resume(consumer.paused());
        }
      });
    } catch (RuntimeException | Error e) {
      health.stopped(e);
    } finally {
      // Deliveries still under way are abandoned uncommitted: the partition's next owner repeats them.
      workers.shutdownNow();
      try {
        commitDone();
      } catch (RuntimeException e) {
        LOG.warn("last commit of finished webhook deliveries failed (they will be repeated): {}", e.getMessage());
      }
      consumer.close(Duration.ofSeconds(2));
    }
  }

  private void forget(Collection<TopicPartition> parts) {
    for (TopicPartition tp : parts) {
      pending.remove(tp);
      toCommit.remove(tp);
    }
  }

  private void handle(ConsumerRecord<String, byte[]> r) {
    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
    ConcurrentSkipListMap<Long, Boolean> track = pending.computeIfAbsent(tp, k -> new ConcurrentSkipListMap<>());
    long offset = r.offset();
    AlertRecord a = null;
    if (r.value() != null) {
      try {
        a = AlertRecord.fromBytes(r.value());
      } catch (IllegalArgumentException e) {
        LOG.warn("skipping {}-{}@{}: {}", r.topic(), r.partition(), offset, e.getMessage());
      }
    }
    if (a == null) {
      track.put(offset, true);
      return;
    }
    track.put(offset, false);
    CompletableFuture<Void> f;
    synchronized (byAlert) {
      f = byAlert.get(a.alertId());
      if (f == null || f.isCompletedExceptionally()) {
        f = start(a);
        byAlert.put(a.alertId(), f);
      }
    }
    f.whenComplete((v, e) -> {
      if (e == null) {
        track.replace(offset, true);
      }
    });
  }

  private CompletableFuture<Void> start(AlertRecord a) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    inFlight.incrementAndGet();
    try {
      workers.execute(() -> {
        try {
          deliver(a);
          f.complete(null);
        } catch (Throwable t) {
          f.completeExceptionally(t);
        } finally {
          inFlight.decrementAndGet();
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      inFlight.decrementAndGet();
      f.completeExceptionally(e);
    }
    return f;
  }

  // Commits, per partition, the offset after the last alert whose delivery and all earlier ones finished.
  private void commitDone() {
    for (Map.Entry<TopicPartition, ConcurrentSkipListMap<Long, Boolean>> e : pending.entrySet()) {
      ConcurrentSkipListMap<Long, Boolean> track = e.getValue();
      for (Map.Entry<Long, Boolean> first; (first = track.firstEntry()) != null && first.getValue(); ) {
        toCommit.put(e.getKey(), first.getKey() + 1);
        track.pollFirstEntry();
      }
    }
    if (toCommit.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    toCommit.forEach((tp, next) -> offsets.put(tp, new OffsetAndMetadata(next)));
    consumer.commitSync(offsets, CALL_TIMEOUT);
    toCommit.clear();
  }

  private void deliver(AlertRecord a) throws InterruptedException {
    AlertRule rule = rule(a.ruleId());
    if (rule == null) {
      LOG.info("alert {} not POSTed: its rule {} was deleted", a.alertId(), a.ruleId());
      return;
    }
    if (rule.webhook() == null || rule.webhook().isBlank()) {
      return;
    }
    RuleStatus st = statuses.computeIfAbsent(rule.id(), RuleStatus::new);
    byte[] body = body(a);
    String signature;
    URI uri;
    try {
      signature = sign(rule.secret(), body);
      uri = URI.create(rule.webhook());
      if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())) {
        throw new IllegalArgumentException("webhook is not an http(s) URL: " + rule.webhook());
      }
    } catch (IllegalArgumentException e) {
      st.gaveUp(a.alertId(), System.currentTimeMillis(), "bad rule: " + e.getMessage());
      failed.inc();
      LOG.warn("alert {} not POSTed: bad rule {}: {}", a.alertId(), rule.id(), e.getMessage());
      return;
    }
    for (int n = 1; ; n++) {
      long now = System.currentTimeMillis();
      st.attempt(a.alertId(), now);
      attempts.inc();
      String error;
      try {
        HttpRequest req = HttpRequest.newBuilder(uri)
            .timeout(config.timeout())
            .header("Content-Type", "application/json")
            .header("User-Agent", "moments-webhook")
            .header(SIGNATURE, signature)
            .header(ALERT_ID, a.alertId())
            .header(TIMESTAMP, Long.toString(now))
            .header(ATTEMPT, Integer.toString(n))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
        HttpResponse<InputStream> res = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        res.body().close(); // the answer's body is not read
        if (res.statusCode() / 100 == 2) {
          st.delivered(System.currentTimeMillis());
          delivered.inc();
          return;
        }
        error = "HTTP " + res.statusCode();
      } catch (HttpTimeoutException e) {
        error = "no answer within " + config.timeout().toMillis() + " ms";
      } catch (IOException e) {
        error = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
      }
      if (n >= config.attempts()) {
        st.gaveUp(a.alertId(), now, error);
        failed.inc();
        LOG.warn("alert {} not delivered to the webhook of rule {} after {} attempts: {}", a.alertId(), rule.id(), n,
            error);
        return;
      }
      st.failedAttempt(error);
      Thread.sleep(config.backoff(n).toMillis());
    }
  }

  // The alert's rule; when the cache does not hold it, after the cache has read the whole topic
  // (the rule was written before its alert, so a rule still unknown then was deleted).
  private AlertRule rule(String id) throws InterruptedException {
    Optional<AlertRule> r = rules.get(id);
    while (r.isEmpty()) {
      try {
        rules.sync().get(30, TimeUnit.SECONDS);
        return rules.get(id).orElse(null);
      } catch (TimeoutException e) {
        LOG.warn("the alert rules topic was not read to its end within 30 s; still waiting for rule {}", id);
      } catch (ExecutionException e) {
        throw new IllegalStateException("rule " + id + " cannot be looked up: " + e.getCause().getMessage(), e);
      }
    }
    return r.get();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      consumer.wakeup();
      if (thread.isAlive()) {
        try {
          thread.join(15_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      } else if (thread.getState() == Thread.State.NEW) {
        workers.shutdownNow();
        consumer.close(Duration.ZERO);
      }
      http.shutdownNow(); // close() would wait for a receiver that holds a request
    }
  }

  /** One rule's counts and latest outcome. */
  private static final class RuleStatus {
    private final String ruleId;
    private long delivered;
    private long failed;
    private long attempts;
    private String state;
    private String lastAlertId;
    private String lastError;
    private long lastAttemptMs;
    private long lastDeliveredMs;

    RuleStatus(String ruleId) {
      this.ruleId = ruleId;
    }

    synchronized void attempt(String alertId, long now) {
      attempts++;
      state = "delivering";
      lastAlertId = alertId;
      lastAttemptMs = now;
    }

    synchronized void failedAttempt(String error) {
      lastError = error;
    }

    synchronized void delivered(long now) {
      delivered++;
      state = "delivered";
      lastDeliveredMs = now;
    }

    synchronized void gaveUp(String alertId, long now, String error) {
      failed++;
      state = "failed";
      lastAlertId = alertId;
      lastError = error;
      if (lastAttemptMs == 0) {
        lastAttemptMs = now;
      }
    }

    synchronized DeliveryStatus snapshot() {
      return new DeliveryStatus(ruleId, delivered, failed, attempts, state, lastAlertId, lastError, lastAttemptMs,
          lastDeliveredMs);
    }
  }
}
