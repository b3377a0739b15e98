package dev.moments.api.frames;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.moments.broker.KafkaFixture;
import dev.moments.topics.TopicAdmin;
import dev.moments.topics.Topics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Not a test: a measurement, run with {@code -Dmoments.frames.loadReport=true}. Known-stream frame
 * lookups are timed alone, then while 10 threads ask for made-up stream ids; p50 and max are
 * printed. It asserts nothing (timings depend on the machine).
 */
class FrameLookupLoadReport {
  static final long T0 = 1_746_093_600_000L;
  static final int STREAMS = 5;
  static final int FRAMES = 400;
  static final int JPEG_BYTES = 30_000;

  @Test
  void known_lookups_alone_and_beside_ten_clients_asking_for_unknown_streams() throws Exception {
    assumeTrue(Boolean.getBoolean("moments.frames.loadReport"), "a measurement: -Dmoments.frames.loadReport=true");
    String bootstrap = KafkaFixture.bootstrapServers();
    Topics topics = new Topics(KafkaFixture.uniquePrefix("frames-load"));
    TopicAdmin.ensureTopics(bootstrap, topics, 3, (short) 1);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    Random rnd = new Random(7);
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < FRAMES; i++) {
        for (int s = 0; s < STREAMS; s++) {
          byte[] jpeg = new byte[JPEG_BYTES];
          rnd.nextBytes(jpeg);
          producer.send(new ProducerRecord<>(topics.frames().name(), null, T0 + i * 1000L + s * 100, "cam-" + s, jpeg));
        }
      }
      producer.flush();
    }
    try (KafkaFrameStore store = new KafkaFrameStore(bootstrap, topics.frames().name(), dev.moments.api.MomentsServer.Config.DEFAULT_FRAME_CACHE_BYTES)) {
      store.start();
      dev.moments.broker.Patience.await("frames counted", java.time.Duration.ofMillis(100), store::countedToEnd);
      Random times = new Random(11);
      // Warm up (connections, metadata) on times not measured later.
      for (int i = 0; i < 5; i++) {
        store.nearest("cam-0", T0 + i * 1000L + 3);
      }
      report("alone", measure(store, times, 40));
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong unknownDone = new AtomicLong();
      List<Thread> hammer = new ArrayList<>();
      for (int t = 0; t < 10; t++) {
        int id = t;
        Thread th = new Thread(() -> {
          int n = 0;
          while (!stop.get()) {
            store.nearest("made-up-" + id + "-" + n++, T0 + (n % FRAMES) * 1000L);
            unknownDone.incrementAndGet();
          }
        });
        th.start();
        hammer.add(th);
      }
      Thread.sleep(500);
      long[] busy = measure(store, times, 40);
      stop.set(true);
      for (Thread th : hammer) {
        th.join();
      }
      report("beside 10 unknown-id clients (" + unknownDone.get() + " unknown lookups answered)", busy);
    }
  }

  private static long[] measure(KafkaFrameStore store, Random times, int n) {
    long[] micros = new long[n];
    for (int i = 0; i < n; i++) {
      // A time between frames not asked before, so the answer is not cached.
      long t = T0 + times.nextInt(FRAMES) * 1000L + 1 + times.nextInt(400);
      long start = System.nanoTime();
      if (store.nearest("cam-" + (i % STREAMS), t).isEmpty()) {
        throw new AssertionError("no frame of cam-" + (i % STREAMS) + " near " + t);
      }
      micros[i] = (System.nanoTime() - start) / 1000;
    }
    return micros;
  }

  private static void report(String what, long[] micros) {
    long[] s = micros.clone();
    Arrays.sort(s);
    System.out.printf("FRAME-LOOKUP %s: n=%d p50=%.1f ms p90=%.1f ms max=%.1f ms%n", what, s.length,
        s[s.length / 2] / 1000.0, s[(int) (s.length * 0.9)] / 1000.0, s[s.length - 1] / 1000.0);
  }
}
