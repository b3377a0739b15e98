package dev.moments.api.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.LuceneMomentStore;
import dev.moments.api.PipelineStatus;
import dev.moments.api.auth.TokenFile;
import dev.moments.api.frames.FrameStore;
import dev.moments.api.http.ApiServer;
import dev.moments.api.metrics.Metrics;
import dev.moments.broker.KafkaFixture;
import dev.moments.broker.Patience;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.indexer.index.Materializer;
import dev.moments.indexer.index.MaterializerConfig;
import dev.moments.indexer.index.MomentIndex;
import dev.moments.model.rank.SpanRanker;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import io.javalin.testtools.JavalinTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The served search ranks through a {@link SpanRanker} with the frame evidence and moments the
 * materializer keeps from a real broker in a real Lucene index: a ranker that reads the frames
 * answers with the span the frames point to, the default ranker still answers with the moment, and
 * a token still sees only its streams.
 */
class RankedSearchTest {
  static final long T0 = 1_746_093_600_000L;
  static final int DIM = 8;
  static final float[] QUERY = unit(0);

  @TempDir Path dir;

  static float[] unit(int axis) {
    float[] v = new float[DIM];
    v[axis] = 1;
    return v;
  }

  /** Always embeds any text as {@link #QUERY}. */
  static final TextEncoder ENCODER = new TextEncoder() {
    public String id() { return "fixed"; }
    public int dim() { return DIM; }
    public float[][] encode(List<String> texts) { return texts.stream().map(t -> QUERY.clone()).toArray(float[][]::new); }
    public void close() { }
  };

  /** Frame evidence only: the longest run of seconds whose score is at least 0.8, scored by its mean. */
  static final SpanRanker FRAMES_ONLY = (scores, moments, k) -> {
    int bestStart = -1;
    int bestLen = 0;
    for (int i = 0; i < scores.length; ) {
      if (scores[i] < 0.8) {
        i++;
        continue;
      }
      int j = i;
      while (j < scores.length && scores[j] >= 0.8) {
        j++;
      }
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    if (bestStart < 0) {
      return List.of();
    }
    double sum = 0;
    for (int i = bestStart; i < bestStart + bestLen; i++) {
      sum += scores[i];
    }
    return List.of(new SpanRanker.Span(bestStart, bestStart + bestLen, sum / bestLen));
  };

  // 6 fps for 60 s; seconds [from, to) look like the query (axis 0 plus noise), the rest like axis 1 or 2.
  static List<ProducerRecord<String, byte[]>> frames(Topics topics, String stream, long origin, int from, int to,
      Random r) {
    List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
    for (int t = 0; t < 360; t++) {
      int sec = t / 6;
      float[] v = unit(sec >= from && sec < to ? 0 : 1 + (sec % 2));
      for (int i = 0; i < DIM; i++) {
        v[i] += (float) (0.05 * r.nextGaussian());
      }
      out.add(new ProducerRecord<>(topics.features().name(), null, origin + Math.round(t * 1000 / 6.0), stream,
          new FeatureRecord("enc", v).toBytes()));
    }
    var eos = new ProducerRecord<String, byte[]>(topics.features().name(), null, origin + 59_900, stream, null);
    eos.headers().add(Topics.HEADER_END_OF_STREAM, "eof".getBytes(StandardCharsets.UTF_8));
    out.add(eos);
    return out;
  }

  static ProducerRecord<String, byte[]> moment(Topics topics, String stream, long start, long end, float[] v) {
    return new ProducerRecord<>(topics.moments().name(), stream, new MomentRecord(MomentRecord.idFor(stream, start, 0),
        stream, start, end, v, 0.5f, MomentRecord.windowIdFor(stream, start), "m").toBytes());
  }

  static final PipelineStatus UP = new PipelineStatus() {
    public boolean brokerReachable() { return true; }
    public boolean indexOpen() { return true; }
    public long ingestLag() { return 0; }
    public boolean caughtUp() { return true; }
  };

  static final FrameStore NO_FRAMES = new FrameStore() {
    public Optional<Frame> nearest(String streamId, long timeMs) { return Optional.empty(); }
    public Map<String, FrameSpan> frameSpans() { return Map.of(); }
  };

  @Test
  void a_ranker_reading_frame_evidence_answers_with_the_span_the_frames_point_to_within_the_tokens_streams()
      throws Exception {
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("ranked"));
    TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
    long kitchen = T0 + 250; // frames: seconds 20..24 show it; LAVITI: a moment at 40..50 s
    long garage = T0 + 100_000; // frames: seconds 30..33; no moments at all
    List<ProducerRecord<String, byte[]>> recs = new ArrayList<>();
    Random r = new Random(5);
    recs.addAll(frames(topics, "kitchen", kitchen, 20, 25, r));
    recs.addAll(frames(topics, "garage", garage, 30, 34, r));
    recs.add(moment(topics, "kitchen", kitchen + 40_000, kitchen + 50_000, QUERY));
    recs.add(moment(topics, "kitchen", kitchen + 5_000, kitchen + 15_000, unit(3)));
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (var producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      recs.forEach(producer::send);
    }
    Path tokens = dir.resolve("tokens.txt");
    Files.writeString(tokens, "all *\nk kitchen\n");
    try (MomentIndex index = MomentIndex.open(dir.resolve("index"));
        Materializer m = new Materializer(bootstrap, topics, index, MaterializerConfig.defaults())) {
      m.start();
      Patience.await("the materializer to catch up", Duration.ofMillis(50),
          () -> m.caughtUp() && m.framesConsumed() == 2 * 361 && m.consumed() == 2);
      m.close(); // commits: the evidence is searchable
      LuceneMomentStore store = new LuceneMomentStore(index);
      ObjectMapper json = new ObjectMapper();

      ApiServer framed = new ApiServer(new ApiServer.Deps(ENCODER, store, NO_FRAMES, TokenFile.load(tokens), UP,
          new Metrics(), FRAMES_ONLY));
      JavalinTest.test(framed.app(), (s, client) -> {
        JsonNode all = json.readTree(client.get("/api/search?q=keys&k=5", req -> req.header("Authorization", "Bearer all"))
            .body().string()).get("results");
        assertThat(all).extracting(n -> n.get("streamId").asText(), n -> n.get("startMs").asLong(),
            n -> n.get("endMs").asLong()).containsExactlyInAnyOrder(
                tuple("kitchen", kitchen + 20_000, kitchen + 25_000),
                tuple("garage", garage + 30_000, garage + 34_000));
        JsonNode first = all.get(0);
        assertThat(first.get("score").asDouble()).isGreaterThan(0.9);
        assertThat(first.get("momentId").asText()).contains("/span/"); // not one of the moments
        assertThat(first.get("thumbnailUrl").asText()).startsWith("/api/streams/");

        JsonNode onlyKitchen = json.readTree(client.get("/api/search?q=keys&k=5", req -> req.header("Authorization",
            "Bearer k")).body().string()).get("results");
        assertThat(onlyKitchen).extracting(n -> n.get("streamId").asText(), n -> n.get("startMs").asLong())
            .containsExactly(tuple("kitchen", kitchen + 20_000));
        JsonNode asked = json.readTree(client.get("/api/search?q=keys&streams=garage", req -> req.header("Authorization",
            "Bearer k")).body().string()).get("results");
        assertThat(asked).isEmpty();
        // The time filter restricts the evidence too: before second 20 nothing looks like the query.
        JsonNode early = json.readTree(client.get("/api/search?q=keys&to=" + (kitchen + 19_500),
            req -> req.header("Authorization", "Bearer all")).body().string()).get("results");
        assertThat(early).isEmpty();
      });

      // Beyond the scan cap (100 s; the streams hold 2 minutes of evidence) only the k-NN moments'
      // neighbourhoods are ranked: kitchen's (+-60 s) cover its frames' span; garage has no moments.
      SearchService capped = new SearchService(ENCODER, store, FRAMES_ONLY, 100);
      assertThat(capped.search(new SearchQuery("keys", null, null, null, 5), dev.moments.api.auth.Access.all()).hits())
          .extracting(MomentStore.Hit::streamId, MomentStore.Hit::startMs, MomentStore.Hit::endMs)
          .containsExactly(tuple("kitchen", kitchen + 20_000, kitchen + 25_000));

      // The laviti ranker answers from the moments alone, as the index did.
      SearchService laviti = new SearchService(ENCODER, store, dev.moments.model.rank.Rankers.laviti(),
          SearchService.DEFAULT_MAX_SCAN_SECONDS);
      assertThat(laviti.search(new SearchQuery("keys", null, null, null, 5), dev.moments.api.auth.Access.all()).hits())
          .extracting(MomentStore.Hit::streamId, MomentStore.Hit::startMs, MomentStore.Hit::momentId)
          .containsExactly(tuple("kitchen", kitchen + 40_000, MomentRecord.idFor("kitchen", kitchen + 40_000, 0)),
              tuple("kitchen", kitchen + 5_000, MomentRecord.idFor("kitchen", kitchen + 5_000, 0)));

      // The default (fused) ranker puts the two events the frames show first (kitchen 20-25 s,
      // garage 30-34 s, each covered at IoU >= 0.5: the smoothing blurs a sharp 4 s event to its middle),
      // before the moment the model scores best.
      SearchService fused = new SearchService(ENCODER, store);
      List<MomentStore.Hit> answer = fused.search(new SearchQuery("keys", null, null, null, 5),
          dev.moments.api.auth.Access.all()).hits();
      assertThat(answer).hasSizeGreaterThanOrEqualTo(2);
      java.util.Map<String, MomentStore.Hit> top2 = new java.util.HashMap<>();
      answer.subList(0, 2).forEach(h -> top2.put(h.streamId(), h));
      assertThat(top2).containsOnlyKeys("kitchen", "garage");
      assertThat(iou(top2.get("kitchen"), kitchen + 20_000, kitchen + 25_000)).isGreaterThanOrEqualTo(0.5);
      assertThat(iou(top2.get("garage"), garage + 30_000, garage + 34_000)).isGreaterThanOrEqualTo(0.5);
    }
  }

  private static double iou(MomentStore.Hit h, long start, long end) {
    long inter = Math.min(h.endMs(), end) - Math.max(h.startMs(), start);
    long union = Math.max(h.endMs(), end) - Math.min(h.startMs(), start);
    return Math.max(0, inter) / (double) union;
  }
}
