package dev.moments.api.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moments.api.PipelineStatus;
import dev.moments.api.alerts.AlertDelivery;
import dev.moments.api.alerts.AlertFeed;
import dev.moments.api.alerts.AlertHub;
import dev.moments.api.alerts.Owners;
import dev.moments.api.auth.TokenFile;
import dev.moments.api.frames.KafkaFrameStore;
import dev.moments.api.metrics.Metrics;
import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.topics.AlertRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page's live alerts panel in headless Chromium: an alert produced to the alerts topic while
 * the page is open appears in the panel (its thumbnail, a real JPEG frame from the broker, loaded;
 * its query, stream and score shown); another token's alert does not. Then "Alert me" makes the
 * typed question a rule of the page's token (and says why not without a min score).
 */
class AlertsBrowserTest {
  static final long T0 = BrowserTest.T0;

  @TempDir Path tmp;

  @Test
  void an_alert_produced_while_the_page_is_open_appears_in_the_alerts_panel() throws Exception {
    assumeTrue(Chromium.available(), Chromium.MISSING + " [looked for " + Chromium.BINARY + "]");
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("alerts-browser"));
    TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    Path tokens = tmp.resolve("tokens");
    Files.writeString(tokens, "demo-token kitchen\nother-token *\n");
    PipelineStatus up = new PipelineStatus() {
      public boolean brokerReachable() { return true; }
      public boolean indexOpen() { return true; }
      public long ingestLag() { return 0; }
      public boolean caughtUp() { return true; }
    };
    Metrics metrics = new Metrics();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        TextEncoder encoder = Encoders.loadText(Encoders.defaultDir());
        KafkaFrameStore frames = new KafkaFrameStore(bootstrap, topics.frames().name(), 16L << 20);
        IndexedMoments moments = new IndexedMoments(tmp.resolve("index"));
        AlertHub hub = new AlertHub(metrics);
        AlertFeed feed = new AlertFeed(bootstrap, topics.alerts().name(), hub::publish).start()) {
      for (long t = T0; t <= T0 + 40_000; t += 2_000) {
        producer.send(new ProducerRecord<>(topics.frames().name(), null, t, "kitchen",
            BrowserTest.frame("kitchen", t, new Color(0x3a86ff))));
      }
      producer.flush();
      frames.start();
      assertThat(feed.awaitLive(Patience.limit())).isTrue();
      AlertDelivery alerts = new AlertDelivery(hub, id -> Optional.empty(), id -> Optional.empty());
      dev.moments.api.alerts.AlertRules rules = dev.moments.api.alerts.AlertRules.inMemory();
      try (ApiServer server = new ApiServer(new ApiServer.Deps(encoder, moments.store(), frames, TokenFile.load(tokens), up,
              metrics, dev.moments.model.rank.Rankers.laviti(), rules, alerts)).start(0);
          Chromium chrome = new Chromium(1280, 860)) {
        chrome.navigate("http://localhost:" + server.port() + "/?token=demo-token");
        chrome.waitFor(chrome.truthy("document.body.dataset.alerts === 'live'"), Duration.ofSeconds(30), "the alert stream");
        Patience.await("the page's alert stream subscribed", Duration.ofMillis(50), () -> hub.clients() == 1);

        AlertRecord others = new AlertRecord("r-b/kitchen/w1/m0", "r-b", Owners.of("other-token"), "a red cup", "kitchen",
            "kitchen/w1/m0", "kitchen/w1", T0 + 4_000, T0 + 8_000, 0.7f, T0 + 9_000);
        AlertRecord mine = new AlertRecord("r-a/kitchen/w2/m3", "r-a", Owners.of("demo-token"), "keys on the shelf",
            "kitchen", "kitchen/w2/m3", "kitchen/w2", T0 + 20_000, T0 + 26_000, 0.8125f, T0 + 27_000);
        producer.send(new ProducerRecord<>(topics.alerts().name(), "kitchen", others.toBytes())).get();
        producer.send(new ProducerRecord<>(topics.alerts().name(), "kitchen", mine.toBytes())).get();

        chrome.waitFor(chrome.truthy("document.querySelectorAll('#alert-list .alert').length >= 1"), Duration.ofSeconds(60),
            "the alert in the panel");
        chrome.waitFor(chrome.truthy("[...document.querySelectorAll('#alert-list img.thumb')].every(i => i.complete)"),
            Duration.ofSeconds(30), "the alert's thumbnail");
        JsonNode shown = chrome.eval("[...document.querySelectorAll('#alert-list .alert')].map(li => ({"
            + "id: li.dataset.alert, q: li.querySelector('.q').textContent, stream: li.querySelector('.stream').textContent,"
            + "score: li.querySelector('.score').textContent, time: li.querySelector('.time').textContent,"
            + "width: li.querySelector('img').naturalWidth, src: li.querySelector('img').src}))");
        assertThat(shown).hasSize(1);
        JsonNode a = shown.get(0);
        assertThat(a.get("id").asText()).isEqualTo("r-a/kitchen/w2/m3");
        assertThat(a.get("q").asText()).isEqualTo("“keys on the shelf”");
        assertThat(a.get("stream").asText()).isEqualTo("kitchen");
        assertThat(a.get("score").asText()).isEqualTo("0.813");
        assertThat(a.get("time").asText()).isEqualTo("2025-05-01 10:00:20Z → 10:00:26 (6.0 s)");
        assertThat(a.get("width").asInt()).isEqualTo(320);
        assertThat(a.get("src").asText()).contains("/api/streams/kitchen/frame?t=" + (T0 + 23_000)).contains("token=demo-token");

        // "Alert me": without a min score the server's reason is shown and no rule is made; with
        // one, the typed question becomes this token's rule on its streams
        chrome.eval("document.getElementById('q').value = 'the keys are put on the shelf';"
            + "document.getElementById('alert-me').click(); true");
        chrome.waitFor(chrome.truthy("document.getElementById('status').textContent.includes('minScore is required')"),
            Duration.ofSeconds(30), "the missing min score's message");
        assertThat(rules.of(Owners.of("demo-token"))).isEmpty();
        chrome.eval("document.getElementById('alert-min-score').value = '0.45';"
            + "document.getElementById('alert-me').click(); true");
        chrome.waitFor(chrome.truthy("document.getElementById('status').textContent.startsWith('Alert r-')"),
            Duration.ofSeconds(30), "the rule made");
        assertThat(rules.of(Owners.of("demo-token"))).singleElement().satisfies(r -> {
          assertThat(r.q()).isEqualTo("the keys are put on the shelf");
          assertThat(r.minScore()).isEqualTo(0.45f);
          assertThat(r.streams()).containsExactly("kitchen");
          assertThat(r.embedding()).containsExactly(encoder.encode("the keys are put on the shelf"));
        });
      }
    }
  }
}
