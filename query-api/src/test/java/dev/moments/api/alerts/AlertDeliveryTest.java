package dev.moments.api.alerts;

import static dev.moments.api.alerts.AlertRig.alert;
import static dev.moments.api.alerts.AlertRig.rule;
import static dev.moments.api.alerts.AlertRig.send;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moments.api.alerts.AlertRig.Receiver;
import dev.moments.api.alerts.AlertRig.SseClient;
import dev.moments.api.http.ApiServer;
import dev.moments.api.metrics.Metrics;
import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.topics.AlertRecord;
import dev.moments.topics.AlertRule;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Alert delivery with real parts: alerts and rules on a real broker (one partition, so the order
 * of what was produced is the order of what is read), the API server on a port, Server-Sent Events
 * read from a socket, and a webhook receiver built from the JDK's HTTP server.
 */
class AlertDeliveryTest {
  static final String SECRET = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  static final Duration EVERY = Duration.ofMillis(20);
  static final WebhookConfig FAST = new WebhookConfig(5, Duration.ofSeconds(30), Duration.ofMillis(20),
      Duration.ofMillis(80), 16);

  @TempDir Path tmp;

  static Topics topics(String name) {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics t = new Topics(KafkaFixture.uniquePrefix(name));
    TopicAdmin.ensureTopics(bootstrap, t, 1, (short) 1);
    return t;
  }

  static String hmac(String secretHex, byte[] body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(HexFormat.of().parseHex(secretHex), "HmacSHA256"));
    return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
  }

  static double metric(Metrics m, String name) {
    return Metrics.parse(m.scrape()).getOrDefault(name, Double.NaN);
  }

  static HttpResponse<String> get(int port, String path, String token) throws Exception {
    try (HttpClient c = HttpClient.newHttpClient()) {
      return c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
    }
  }

  @Test
  void an_alert_reaches_its_owner_once_on_the_stream_and_at_the_signed_webhook() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = topics("alert-delivery");
    Metrics metrics = new Metrics();
    try (Receiver receiver = new Receiver();
        KafkaProducer<String, byte[]> producer = AlertRig.producer(bootstrap)) {
      AlertRule hooked = rule("r-hooked", "owner-token", receiver.url(), SECRET);
      AlertRule quiet = rule("r-quiet", "owner-token", null, SECRET);
      AlertRule others = rule("r-others", "other-token", null, SECRET);
      for (AlertRule r : List.of(hooked, quiet, others)) {
        send(producer, topics, r);
      }
      try (AlertRules rules = AlertRules.kafka(bootstrap, topics);
          AlertHub hub = new AlertHub(metrics);
          AlertFeed feed = new AlertFeed(bootstrap, topics.alerts().name(), hub::publish).start();
          WebhookDelivery webhooks = new WebhookDelivery(bootstrap, topics, rules, FAST, metrics).start();
          ApiServer api = AlertRig.api(tmp, "owner-token kitchen\nother-token *\n", metrics,
              new AlertDelivery(hub, rules::get, webhooks::status))) {
        assertThat(feed.awaitLive(Patience.limit())).isTrue();
        AlertRecord first = alert(hooked, "kitchen", 1);
        AlertRecord garage = alert(quiet, "garage", 2); // the owner's, on a stream its token does not see
        AlertRecord aborted = alert(quiet, "kitchen", 3);
        AlertRecord othersAlert = alert(others, "kitchen", 4);
        AlertRecord last = alert(quiet, "kitchen", 5);
        AlertRecord lastHooked = alert(hooked, "kitchen", 6);
        try (SseClient owner = new SseClient(api.port(), "/api/alerts/stream?token=owner-token", null);
            SseClient other = new SseClient(api.port(), "/api/alerts/stream?token=other-token", null)) {
          assertThat(owner.status).isEqualTo(200);
          assertThat(owner.headers.get("content-type")).startsWith("text/event-stream");
          Patience.await("two stream clients", EVERY, () -> hub.clients() == 2);
          assertThat(metric(metrics, "moments_alert_sse_clients")).isEqualTo(2);

          send(producer, topics, first);
          send(producer, topics, first); // a repeat: delivered once
          send(producer, topics, garage);
          Properties tp = new Properties();
          tp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
          tp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, topics.prefix() + "-aborting");
          try (KafkaProducer<String, byte[]> tx = new KafkaProducer<>(tp, new StringSerializer(), new ByteArraySerializer())) {
            tx.initTransactions();
            tx.beginTransaction();
            tx.send(new ProducerRecord<>(topics.alerts().name(), aborted.streamId(), aborted.toBytes())).get();
            tx.abortTransaction();
          }
          send(producer, topics, othersAlert);
          send(producer, topics, last);
          send(producer, topics, lastHooked);

          // The owner: the first alert once, the last two; not the garage one, not the aborted one.
          Map<String, String> e1 = owner.next();
          assertThat(e1.get("event")).isEqualTo("alert");
          assertThat(e1.get("id")).isEqualTo(first.alertId());
          JsonNode d1 = SseClient.data(e1);
          assertThat(d1.get("alertId").asText()).isEqualTo("r-hooked/kitchen/w1/m0");
          assertThat(d1.get("q").asText()).isEqualTo("keys on the shelf");
          assertThat(d1.get("streamId").asText()).isEqualTo("kitchen");
          assertThat(d1.get("startMs").asLong()).isEqualTo(AlertRig.T0 + 10_000);
          assertThat(d1.get("endMs").asLong()).isEqualTo(AlertRig.T0 + 14_000);
          assertThat(d1.get("start").asText()).isEqualTo("2025-05-01T10:00:10Z");
          assertThat(d1.get("end").asText()).isEqualTo("2025-05-01T10:00:14Z");
          assertThat(d1.get("score").floatValue()).isEqualTo(0.51f);
          assertThat(d1.get("thumbnailUrl").asText())
              .isEqualTo("/api/streams/kitchen/frame?t=" + (AlertRig.T0 + 12_000) + "&token=owner-token");
          assertThat(owner.next().get("id")).isEqualTo(last.alertId());
          assertThat(owner.next().get("id")).isEqualTo(lastHooked.alertId());
          assertThat(owner.events).isEmpty();
          assertThat(owner.all).hasSize(3);
          // The other token: only its own alert.
          assertThat(other.next().get("id")).isEqualTo(othersAlert.alertId());
          assertThat(other.all).hasSize(1);
          assertThat(metric(metrics, "moments_alerts_fired_total")).isEqualTo(5);

          // A reconnect with Last-Event-ID gets what came after that id.
          try (SseClient again = new SseClient(api.port(), "/api/alerts/stream?token=owner-token", first.alertId())) {
            assertThat(again.next().get("id")).isEqualTo(last.alertId());
            assertThat(again.next().get("id")).isEqualTo(lastHooked.alertId());
          }
        }

        // The webhook: both alerts of the hooked rule, each once, signed.
        Patience.await("two webhook deliveries", EVERY, () -> webhooks.status("r-hooked")
            .map(s -> s.delivered() == 2).orElse(false));
        assertThat(receiver.alertIds()).containsExactlyInAnyOrder(first.alertId(), lastHooked.alertId());
        Receiver.Request r = receiver.requests.stream()
            .filter(x -> x.header("X-Moments-Alert-Id").equals(first.alertId())).findFirst().orElseThrow();
        assertThat(r.header("X-Moments-Signature")).isEqualTo(hmac(SECRET, r.body()));
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
        assertThat(r.header("X-Moments-Attempt")).isEqualTo("1");
        assertThat(Long.parseLong(r.header("X-Moments-Timestamp"))).isPositive();
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("{\"alertId\":\"r-hooked/kitchen/w1/m0\","
            + "\"ruleId\":\"r-hooked\",\"q\":\"keys on the shelf\",\"streamId\":\"kitchen\",\"momentId\":\"kitchen/w1/m0\","
            + "\"windowId\":\"kitchen/w1\",\"startMs\":1746093610000,\"endMs\":1746093614000,\"score\":0.51,"
            + "\"firedMs\":1746093615000}");
        assertThat(metric(metrics, "moments_alert_webhooks_delivered_total")).isEqualTo(2);
        assertThat(metric(metrics, "moments_alert_webhook_attempts_total")).isEqualTo(2);
        assertThat(metric(metrics, "moments_alert_webhooks_failed_total")).isEqualTo(0);

        HttpResponse<String> mine = get(api.port(), "/api/alerts/r-hooked/deliveries", "owner-token");
        assertThat(mine.statusCode()).isEqualTo(200);
        JsonNode st = AlertRig.JSON.readTree(mine.body());
        assertThat(st.get("state").asText()).isEqualTo("delivered");
        assertThat(st.get("delivered").asLong()).isEqualTo(2);
        assertThat(get(api.port(), "/api/alerts/r-hooked/deliveries", "other-token").statusCode()).isEqualTo(404);
        assertThat(get(api.port(), "/api/alerts/r-quiet/deliveries", "owner-token").body()).contains("\"state\":\"no webhook\"");
      }
    }
  }

  @Test
  void a_stream_client_gets_heartbeats_and_is_removed_when_it_goes_away() throws Exception {
    Metrics metrics = new Metrics();
    try (AlertHub hub = new AlertHub(metrics, Duration.ofMillis(50), 10);
        ApiServer api = AlertRig.api(tmp, "t kitchen\n", metrics,
            new AlertDelivery(hub, id -> java.util.Optional.empty(), id -> java.util.Optional.empty()))) {
      SseClient c = new SseClient(api.port(), "/api/alerts/stream?token=t", null);
      Patience.await("a client", EVERY, () -> hub.clients() == 1);
      Patience.await("two heartbeats", EVERY, () -> c.comments.get() >= 2);
      c.close();
      Patience.await("the gone client removed", EVERY, () -> hub.clients() == 0);
      assertThat(metric(metrics, "moments_alert_sse_clients")).isEqualTo(0);

      HttpResponse<String> noToken = get(api.port(), "/api/alerts/stream", "wrong");
      assertThat(noToken.statusCode()).isEqualTo(401);
    }
  }

  @Test
  void a_receiver_that_fails_twice_gets_the_alert_on_the_third_attempt() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = topics("alert-retry");
    Metrics metrics = new Metrics();
    try (Receiver receiver = new Receiver();
        KafkaProducer<String, byte[]> producer = AlertRig.producer(bootstrap)) {
      receiver.script.addAll(List.of(500, 503));
      AlertRule hooked = rule("r-retry", "t", receiver.url(), SECRET);
      send(producer, topics, hooked);
      AlertRecord a = alert(hooked, "kitchen", 1);
      send(producer, topics, a);
      try (AlertRules rules = AlertRules.kafka(bootstrap, topics);
          WebhookDelivery webhooks = new WebhookDelivery(bootstrap, topics, rules, FAST, metrics).start()) {
        Patience.await("the delivery", EVERY, () -> webhooks.status("r-retry").map(s -> s.delivered() == 1).orElse(false));
        DeliveryStatus s = webhooks.status("r-retry").orElseThrow();
        assertThat(s.state()).isEqualTo("delivered");
        assertThat(s.attempts()).isEqualTo(3);
        assertThat(s.failed()).isZero();
        assertThat(s.lastError()).isEqualTo("HTTP 503");
        assertThat(receiver.requests).hasSize(3);
        assertThat(receiver.requests.stream().map(x -> x.header("X-Moments-Attempt")).toList()).containsExactly("1", "2", "3");
        assertThat(receiver.alertIds()).containsOnly(a.alertId());
        for (Receiver.Request r : receiver.requests) {
          assertThat(r.header("X-Moments-Signature")).isEqualTo(hmac(SECRET, r.body()));
        }
        assertThat(metric(metrics, "moments_alert_webhook_attempts_total")).isEqualTo(3);
        assertThat(metric(metrics, "moments_alert_webhooks_delivered_total")).isEqualTo(1);
        assertThat(metric(metrics, "moments_alert_webhooks_failed_total")).isEqualTo(0);
      }
    }
  }

  @Test
  void a_receiver_that_always_fails_shows_failed_with_its_error() throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = topics("alert-fail");
    Metrics metrics = new Metrics();
    try (Receiver receiver = new Receiver();
        KafkaProducer<String, byte[]> producer = AlertRig.producer(bootstrap)) {
      receiver.otherwise = 503;
      AlertRule hooked = rule("r-fail", "t", receiver.url(), SECRET);
      send(producer, topics, hooked);
      send(producer, topics, alert(hooked, "kitchen", 1));
      WebhookConfig three = new WebhookConfig(3, Duration.ofSeconds(30), Duration.ofMillis(10), Duration.ofMillis(40), 4);
      try (AlertRules rules = AlertRules.kafka(bootstrap, topics);
          WebhookDelivery webhooks = new WebhookDelivery(bootstrap, topics, rules, three, metrics).start();
          ApiServer api = AlertRig.api(tmp, "t *\n", metrics,
              new AlertDelivery(AlertDelivery.none(new Metrics()).hub(), rules::get, webhooks::status))) {
        Patience.await("the give-up", EVERY, () -> webhooks.status("r-fail").map(s -> s.failed() == 1).orElse(false));
        DeliveryStatus s = webhooks.status("r-fail").orElseThrow();
        assertThat(s.state()).isEqualTo("failed");
        assertThat(s.lastError()).isEqualTo("HTTP 503");
        assertThat(s.attempts()).isEqualTo(3);
        assertThat(s.delivered()).isZero();
        assertThat(receiver.requests).hasSize(3);
        assertThat(metric(metrics, "moments_alert_webhooks_failed_total")).isEqualTo(1);
        assertThat(metric(metrics, "moments_alert_webhooks_delivered_total")).isEqualTo(0);
        assertThat(metric(metrics, "moments_alert_webhook_attempts_total")).isEqualTo(3);
        JsonNode shown = AlertRig.JSON.readTree(get(api.port(), "/api/alerts/r-fail/deliveries", "t").body());
        assertThat(shown.get("state").asText()).isEqualTo("failed");
        assertThat(shown.get("lastError").asText()).isEqualTo("HTTP 503");
        assertThat(shown.get("failed").asLong()).isEqualTo(1);
      }
    }
  }

  @Test
  void a_delivery_cut_off_by_a_restart_is_made_by_the_next_instance_and_a_finished_one_is_not_repeated()
      throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = topics("alert-restart");
    try (Receiver receiver = new Receiver();
        KafkaProducer<String, byte[]> producer = AlertRig.producer(bootstrap);
        AlertRules rules = AlertRules.kafka(bootstrap, topics)) {
      AlertRule hooked = rule("r-restart", "t", receiver.url(), SECRET);
      send(producer, topics, hooked);
      AlertRecord first = alert(hooked, "kitchen", 1);
      send(producer, topics, first);
      CountDownLatch held = new CountDownLatch(1);
      receiver.hold = held;
      // Instance 1 POSTs the alert; the receiver holds the request; instance 1 stops mid-delivery.
      try (WebhookDelivery one = new WebhookDelivery(bootstrap, topics, rules, FAST, new Metrics()).start()) {
        Patience.await("the first POST", EVERY, () -> receiver.requests.size() == 1);
      }
      receiver.hold = null;
      held.countDown();
      // Instance 2 (same group) delivers it again: it was never committed.
      Metrics twoMetrics = new Metrics();
      try (WebhookDelivery two = new WebhookDelivery(bootstrap, topics, rules, FAST, twoMetrics).start()) {
        Patience.await("the repeated delivery", EVERY, () -> two.status("r-restart").map(s -> s.delivered() == 1).orElse(false));
        assertThat(metric(twoMetrics, "moments_alert_webhooks_delivered_total")).isEqualTo(1);
      }
      int afterTwo = receiver.requests.size();
      assertThat(receiver.alertIds()).containsOnly(first.alertId());
      // Instance 3: the delivered alert was committed, so only the new one is POSTed.
      AlertRecord second = alert(hooked, "kitchen", 2);
      send(producer, topics, second);
      try (WebhookDelivery three = new WebhookDelivery(bootstrap, topics, rules, FAST, new Metrics()).start()) {
        Patience.await("the new alert", EVERY, () -> three.status("r-restart").map(s -> s.delivered() == 1).orElse(false));
        assertThat(receiver.requests).hasSize(afterTwo + 1);
        assertThat(receiver.alertIds().getLast()).isEqualTo(second.alertId());
        assertThat(three.status("r-restart").orElseThrow().attempts()).isEqualTo(1);
      }
    }
  }
}
