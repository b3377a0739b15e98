package dev.moments.api.alerts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.moments.api.PipelineStatus;
import dev.moments.api.auth.TokenFile;
import dev.moments.api.frames.FrameStore;
import dev.moments.api.http.ApiServer;
import dev.moments.api.metrics.Metrics;
import dev.moments.api.search.MomentStore;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.model.rank.Rankers;
import dev.moments.topics.AlertRecord;
import dev.moments.topics.AlertRule;
import dev.moments.topics.Topics;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Test parts for alert delivery: rules and alerts on a real broker, an SSE client, a webhook receiver. */
final class AlertRig {
  static final ObjectMapper JSON = new ObjectMapper();
  static final long T0 = 1_746_093_600_000L; // 2025-05-01T10:00:00Z

  private AlertRig() {}

  static AlertRule rule(String id, String token, String webhook, String secret) {
    return new AlertRule(id, Owners.of(token), "keys on the shelf", List.of(), 0.3f, 60_000, webhook, secret,
        new float[] {1, 0}, "test-encoder", T0);
  }

  static AlertRecord alert(AlertRule rule, String stream, int n) {
    String moment = stream + "/w" + n + "/m0";
    return new AlertRecord(AlertRecord.idFor(rule.id(), moment), rule.id(), rule.owner(), rule.q(), stream, moment,
        stream + "/w" + n, T0 + n * 10_000L, T0 + n * 10_000L + 4_000, 0.5f + n / 100f, T0 + n * 10_000L + 5_000);
  }

  static KafkaProducer<String, byte[]> producer(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
  }

  static void send(KafkaProducer<String, byte[]> p, Topics topics, AlertRule r) throws Exception {
    p.send(new ProducerRecord<>(topics.alertRules().name(), r.id(), r.toBytes())).get();
  }

  static void send(KafkaProducer<String, byte[]> p, Topics topics, AlertRecord a) throws Exception {
    p.send(new ProducerRecord<>(topics.alerts().name(), a.streamId(), a.toBytes())).get();
  }

  /** An API server over stubs for search (not used here) and the given alert delivery. */
  static ApiServer api(Path tmp, String tokenLines, Metrics metrics, AlertDelivery alerts) throws IOException {
    Path f = tmp.resolve("tokens.txt");
    Files.writeString(f, tokenLines);
    TextEncoder encoder = new TextEncoder() {
      public String id() { return "stub"; }
      public int dim() { return 2; }
      public float[][] encode(List<String> texts) { return new float[texts.size()][2]; }
      public void close() {}
    };
    MomentStore store = new MomentStore() {
      public List<Hit> search(float[] q, int k, Set<String> s, Long from, Long to) { return List.of(); }
      public List<StreamMoments> streams() { return List.of(); }
      public long size() { return 0; }
      public long sizeOnDiskBytes() { return 0; }
    };
    FrameStore frames = new FrameStore() {
      public Optional<Frame> nearest(String streamId, long timeMs) { return Optional.empty(); }
      public Map<String, FrameSpan> frameSpans() { return Map.of(); }
    };
    PipelineStatus up = new PipelineStatus() {
      public boolean brokerReachable() { return true; }
      public boolean indexOpen() { return true; }
      public long ingestLag() { return 0; }
      public boolean caughtUp() { return true; }
    };
    return new ApiServer(new ApiServer.Deps(encoder, store, frames, TokenFile.load(f), up, metrics, Rankers.laviti(),
        AlertRules.inMemory(), alerts)).start("127.0.0.1", 0);
  }

  /**
   * A Server-Sent Events client over a plain socket (HTTP/1.0: the body is the raw event stream
   * until the server closes it): events into a queue, comment lines counted.
   */
  static final class SseClient implements AutoCloseable {
    final int status;
    final Map<String, String> headers = new HashMap<>();
    final BlockingQueue<Map<String, String>> events = new LinkedBlockingQueue<>();
    final List<Map<String, String>> all = new CopyOnWriteArrayList<>();
    final AtomicInteger comments = new AtomicInteger();
    private final Socket socket;
    private final Thread reader;

    SseClient(int port, String pathAndQuery, String lastEventId) throws IOException {
      socket = new Socket("127.0.0.1", port);
      OutputStream out = socket.getOutputStream();
      out.write(("GET " + pathAndQuery + " HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
          + (lastEventId == null ? "" : "Last-Event-ID: " + lastEventId + "\r\n") + "\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      String statusLine = in.readLine();
      status = Integer.parseInt(statusLine.split(" ")[1]);
      for (String h; (h = in.readLine()) != null && !h.isEmpty(); ) {
        int c = h.indexOf(':');
        headers.put(h.substring(0, c).trim().toLowerCase(), h.substring(c + 1).trim());
      }
      reader = Thread.ofVirtual().start(() -> {
        Map<String, String> ev = new HashMap<>();
        try {
          for (String line; (line = in.readLine()) != null; ) {
            if (line.isEmpty()) {
              if (ev.containsKey("data")) {
                all.add(ev);
                events.add(ev);
              }
              ev = new HashMap<>();
            } else if (line.startsWith(":")) {
              comments.incrementAndGet();
            } else {
              int c = line.indexOf(':');
              ev.merge(line.substring(0, c), line.substring(c + 1).strip(), (a, b) -> a + "\n" + b);
            }
          }
        } catch (IOException e) {
          // closed
        }
      });
    }

    /** The next event, or fails after the test's patience. */
    Map<String, String> next() throws InterruptedException {
      Map<String, String> e = events.poll(dev.moments.broker.Patience.limit().toMillis(), TimeUnit.MILLISECONDS);
      if (e == null) {
        throw new AssertionError("no SSE event within " + dev.moments.broker.Patience.limit());
      }
      return e;
    }

    static JsonNode data(Map<String, String> e) throws IOException {
      return JSON.readTree(e.get("data"));
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** A webhook receiver (the JDK's HttpServer): answers from a script, records every request. */
  static final class Receiver implements AutoCloseable {
    record Request(Map<String, String> headers, byte[] body) {
      String header(String name) {
        return headers.get(name.toLowerCase());
      }
    }

    final List<Request> requests = new CopyOnWriteArrayList<>();
    final ConcurrentLinkedQueue<Integer> script = new ConcurrentLinkedQueue<>();
    volatile int otherwise = 200;
    volatile CountDownLatch hold; // when set, a request waits for it before answering
    private final HttpServer server;

    Receiver() throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
      server.createContext("/hook", ex -> {
        byte[] body = ex.getRequestBody().readAllBytes();
        Map<String, String> h = new HashMap<>();
        ex.getRequestHeaders().forEach((k, v) -> h.put(k.toLowerCase(), v.get(0)));
        requests.add(new Request(h, body));
        CountDownLatch l = hold;
        if (l != null) {
          try {
            l.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        Integer code = script.poll();
        ex.sendResponseHeaders(code == null ? otherwise : code, -1);
        ex.close();
      });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    List<String> alertIds() {
      List<String> out = new ArrayList<>();
      requests.forEach(r -> out.add(r.header("X-Moments-Alert-Id")));
      return out;
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
