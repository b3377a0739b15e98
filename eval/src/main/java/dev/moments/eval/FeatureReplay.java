package dev.moments.eval;

import dev.moments.topics.FeatureRecord;
import dev.moments.topics.Topics;
import dev.moments.trainer.ego4d.NlqAnnotations;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Replays the frame features of a dataset's NLQ clips into {@code moments.features}, each clip as
 * its own stream (stream id = clip uid): frame {@code i} of the clip (the video's feature rows
 * from {@code clip_start} on, at the manifest fps) becomes one {@link FeatureRecord} with record
 * timestamp {@code startMs + round(i * 1000 / fps)}. Live answers (epoch ms) convert back to
 * clip-relative seconds with {@link Clip#clipSeconds(long)} (frame 0 starts {@link Clip#offsetSec}
 * from the clip's start) and {@link Clip#clipSpan}. Each clip's frames are followed by
 * its end-of-stream mark ({@link Topics#HEADER_END_OF_STREAM}, null value).
 */
public final class FeatureReplay {
  /**
   * One replayed clip: its stream, first-frame timestamp, frame count and the replay fps.
   *
   * @param offsetSec where the first replayed frame starts relative to the clip's start, in
   *     (-1 / fps, 0]: a clip that starts mid-frame (mid-video clips mostly do) gets that whole
   *     frame, as offline eval's span does ({@code FeatureSpans#offsetSec})
   * @param lengthSec the clip's length ({@code video_end_sec - video_start_sec})
   */
  public record Clip(String clipUid, String videoUid, String streamId, long startMs, int frames, double fps,
      double offsetSec, double lengthSec) {
    /** The record timestamp of frame {@code i}. */
    public long timestampOf(int i) {
      return startMs + Math.round(i * 1000.0 / fps);
    }

    /** Clip-relative seconds of an epoch-ms time of this stream (not clamped). */
    public double clipSeconds(long epochMs) {
      return (epochMs - startMs) / 1000.0 + offsetSec;
    }

    /**
     * A live answer {@code [startMs, endMs]} in clip seconds, clamped to the clip as offline
     * eval clamps its spans ({@code NlqEvaluator#toClip}).
     */
    public double[] clipSpan(long startMs, long endMs) {
      double a = Math.min(lengthSec, Math.max(0, clipSeconds(startMs)));
      double b = Math.min(lengthSec, Math.max(a, clipSeconds(endMs)));
      return new double[] {a, b};
    }

    /** The same clip with its first frame at the clip's start (a stream of the whole video, --videos). */
    public Clip alignedToClipStart() {
      return new Clip(clipUid, videoUid, streamId, startMs, frames, fps, 0, lengthSec);
    }

    public double durationSec() {
      return frames / fps;
    }
  }

  private final FeatureSpans features;
  private final String encoderId;

  /**
   * @param featuresDir a feature directory (manifest + {@code {video_uid}.npy})
   */
  public FeatureReplay(Path featuresDir) throws IOException {
    this.features = new FeatureSpans(featuresDir);
    this.encoderId = features.manifest.encoderId();
  }

  /** The clips of {@code annotations} that have features, in annotation order, all starting at {@code startMs}. */
  public List<Clip> plan(NlqAnnotations annotations, long startMs) throws IOException {
    Map<String, Clip> clips = new LinkedHashMap<>();
    for (NlqAnnotations.Query q : annotations.queries()) {
      if (clips.containsKey(q.clipUid())) {
        continue;
      }
      float[][] span = features.span(q.videoUid(), q.clipVideoStartSec(), q.clipVideoEndSec());
      if (span != null) {
        clips.put(q.clipUid(), new Clip(q.clipUid(), q.videoUid(), q.clipUid(), startMs, span.length, features.fps(),
            features.offsetSec(q.clipVideoStartSec()), q.clipVideoEndSec() - q.clipVideoStartSec()));
      }
    }
    return List.copyOf(clips.values());
  }

  /**
   * Sends every frame of {@code clips} to the features topic of {@code topics} (idempotent
   * producer, acks=all) and waits for the broker to acknowledge all of them.
   *
   * @param sent called with the running count of acknowledged records after each clip
   * @return the number of feature records sent (end-of-stream marks not counted)
   */
  public long push(String bootstrap, Topics topics, NlqAnnotations annotations, List<Clip> clips, LongConsumer sent)
      throws IOException {
    Map<String, NlqAnnotations.Query> firstOf = new LinkedHashMap<>();
    for (NlqAnnotations.Query q : annotations.queries()) {
      firstOf.putIfAbsent(q.clipUid(), q);
    }
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    long n = 0;
    try (Producer<String, FeatureRecord> producer = new KafkaProducer<>(p,
        topics.features().keySerde().serializer(), topics.features().valueSerde().serializer())) {
      for (Clip c : clips) {
        NlqAnnotations.Query q = firstOf.get(c.clipUid());
        float[][] span = features.span(c.videoUid(), q.clipVideoStartSec(), q.clipVideoEndSec());
        List<Future<RecordMetadata>> acks = new ArrayList<>(span.length);
        for (int i = 0; i < span.length; i++) {
          acks.add(producer.send(new ProducerRecord<>(topics.features().name(), null, c.timestampOf(i), c.streamId(),
              new FeatureRecord(encoderId, span[i]))));
        }
        // The clip's end: the indexer flushes its final window at once (not after an idle time).
        ProducerRecord<String, FeatureRecord> end = Topics.endOfStreamMark(topics.features().name(),
            c.streamId(), c.timestampOf(Math.max(0, span.length - 1)), "eof");
        acks.add(producer.send(end));
        producer.flush();
        for (Future<RecordMetadata> f : acks) {
          f.get();
        }
        n += span.length;
        sent.accept(n);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while replaying features", e);
    } catch (ExecutionException e) {
      throw new IOException("the broker refused a feature record: " + e.getCause().getMessage(), e.getCause());
    }
    return n;
  }
}
