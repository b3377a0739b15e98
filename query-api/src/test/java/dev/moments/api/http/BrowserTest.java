package dev.moments.api.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moments.api.PipelineStatus;
import dev.moments.api.auth.TokenFile;
import dev.moments.api.frames.KafkaFrameStore;
import dev.moments.api.metrics.Metrics;
import dev.moments.api.search.MomentStore;
import dev.moments.broker.KafkaFixture;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.awt.Color;
import java.awt.Font;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 3: the web page in headless Chromium, driven over the DevTools protocol. A user
 * opens {@code /?token=T}, types a question, presses Enter and sees results whose thumbnails
 * (real JPEG frames read from the broker) have loaded; clicking a result shows its frame.
 *
 * <p>With {@code -Dmoments.screenshot=PATH} the page is saved as a PNG (docs/screenshot.png).
 */
class BrowserTest {
  static final long T0 = Instant.parse("2025-05-01T10:00:00Z").toEpochMilli();

  @TempDir Path tmp;

  static byte[] frame(String stream, long ts, Color base) throws Exception {
    BufferedImage img = new BufferedImage(320, 200, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setPaint(new GradientPaint(0, 0, base, 320, 200, base.darker().darker()));
    g.fillRect(0, 0, 320, 200);
    g.setColor(new Color(255, 255, 255, 200));
    g.fillRoundRect(20 + (int) ((ts - T0) / 1000 % 200), 120, 60, 40, 10, 10);
    g.setColor(Color.WHITE);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 22));
    g.drawString(stream, 16, 34);
    g.setFont(new Font(Font.MONOSPACED, Font.PLAIN, 16));
    g.drawString(Instant.ofEpochMilli(ts).toString().substring(11, 19), 16, 58);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "jpg", out);
    return out.toByteArray();
  }

  @Test
  void typing_a_question_shows_results_with_loaded_thumbnails_and_a_timeline() throws Exception {
    assumeTrue(Chromium.available(), Chromium.MISSING + " [looked for " + Chromium.BINARY + "]");
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("browser"));
    TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      for (long t = T0; t <= T0 + 140_000; t += 2_000) {
        producer.send(new ProducerRecord<>(topics.frames().name(), null, t, "kitchen", frame("kitchen", t, new Color(0x3a86ff))));
        producer.send(new ProducerRecord<>(topics.frames().name(), null, t + 1000, "garage", frame("garage", t + 1000, new Color(0x8338ec))));
      }
    }
    Path tokens = tmp.resolve("tokens");
    Files.writeString(tokens, "demo-token kitchen,garage\n");
    PipelineStatus up = new PipelineStatus() {
      public boolean brokerReachable() { return true; }
      public boolean indexOpen() { return true; }
      public long ingestLag() { return 0; }
      public boolean caughtUp() { return true; }
    };
    try (TextEncoder encoder = Encoders.loadText(Encoders.defaultDir());
        KafkaFrameStore frames = new KafkaFrameStore(bootstrap, topics.frames().name(), 16L << 20);
        IndexedMoments moments = new IndexedMoments(tmp.resolve("index"))) {
      MomentStore store = moments
          .add("kitchen", T0, T0 + 20_000, encoder.encode("keys on the kitchen table"))
          .add("kitchen", T0 + 60_000, T0 + 80_000, encoder.encode("washing a red cup"))
          .add("garage", T0 + 30_000, T0 + 45_000, encoder.encode("a bicycle against the wall"))
          .add("garage", T0 + 120_000, T0 + 130_000, encoder.encode("keys on the kitchen table"))
          .store();
      frames.start();
      try (ApiServer server = new ApiServer(new ApiServer.Deps(encoder, store, frames, TokenFile.load(tokens), up, new Metrics())).start(0);
          Chromium chrome = new Chromium(1280, 860)) {
        String base = "http://localhost:" + server.port();
        chrome.navigate(base + "/?token=demo-token");
        chrome.waitFor(chrome.truthy("document.querySelectorAll('#stream option').length === 3"), Duration.ofSeconds(20),
            "the stream list");
        chrome.eval("document.getElementById('q').focus()");
        chrome.type("keys on the kitchen table");
        chrome.pressEnter();
        chrome.waitFor(chrome.truthy("document.body.dataset.searched === 'true'"), Duration.ofSeconds(30), "search results");

        JsonNode results = chrome.eval("[...document.querySelectorAll('#results .result')].map(li => ({"
            + "stream: li.querySelector('.stream').textContent, moment: li.dataset.moment}))");
        assertThat(results).hasSize(4);
        assertThat(List.of(results.get(0).get("stream").asText(), results.get(1).get("stream").asText()))
            .containsExactlyInAnyOrder("kitchen", "garage");
        assertThat(chrome.eval("document.getElementById('status').textContent").asText())
            .startsWith("4 moments for “keys on the kitchen table”");

        chrome.waitFor(chrome.truthy("[...document.querySelectorAll('#results img.thumb')].every(i => i.complete)"),
            Duration.ofSeconds(30), "thumbnails to load");
        JsonNode widths = chrome.eval("[...document.querySelectorAll('#results img.thumb')].map(i => i.naturalWidth)");
        assertThat(widths).hasSize(4).allSatisfy(w -> assertThat(w.asInt()).isEqualTo(320));
        assertThat(chrome.eval("document.querySelector('#results img.thumb').src").asText()).contains("token=demo-token");

        JsonNode bars = chrome.eval("[...document.querySelectorAll('#timelines .stream')].map(r => ({"
            + "stream: r.dataset.stream, bars: r.querySelectorAll('.bar').length}))");
        assertThat(bars).hasSize(2);
        assertThat(bars.findValuesAsText("stream")).containsExactlyInAnyOrder("kitchen", "garage");
        assertThat(bars.findValues("bars").stream().mapToInt(JsonNode::asInt).sum()).isEqualTo(4);

        chrome.eval("document.querySelector('#results .result').click()");
        chrome.waitFor(chrome.truthy("(() => { const f = document.getElementById('frame');"
            + " return !document.getElementById('viewer').hidden && f.complete && f.naturalWidth > 0; })()"),
            Duration.ofSeconds(20), "the frame viewer");
        assertThat(chrome.eval("document.getElementById('frame-caption').textContent").asText())
            .matches("(kitchen|garage) at 2025-05-01 10:0.*");

        String shot = System.getProperty("moments.screenshot");
        if (shot != null && !shot.isBlank()) {
          byte[] png = chrome.screenshotPng();
          assertThat(ImageIO.read(new java.io.ByteArrayInputStream(png)).getWidth()).isEqualTo(1280);
          Path out = Path.of(shot).toAbsolutePath();
          Files.createDirectories(out.getParent());
          Files.write(out, png);
        }
      }
    }
  }
}
