package dev.moments.indexer.alerts;

import dev.moments.model.rank.FrameEvidence;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Objects;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The alert matcher's recent frame evidence of each stream, in a (changelogged) key-value store:
 * the same per-second evidence the served search ranks with ({@code FrameEvidenceStore}, {@link
 * FrameEvidence#pool}), kept only for the last {@code keepSec} seconds of each stream.
 *
 * <p>Second {@code i} of a stream covers capture times {@code [origin + i s, origin + (i + 1) s)},
 * {@code origin} = the capture time of the first frame the matcher received for the stream (as the
 * index does: a matcher that reads the features topic from its start has the index's grid). A
 * second's evidence is {@link FrameEvidence#ofSum} of the float64 sum of its L2-normalised frame
 * features: the int8 read-back values the index stores. A second is finished when a frame of a
 * later second or an end-of-stream mark arrives; a frame for a finished second is late (dropped,
 * counted), a frame of another dimension than the stream's first is dropped and counted.
 *
 * <p>Keys: {@code <stream> NUL "#"} the stream's state (origin, dimension, first second still
 * open to frames, the open second and its running sum, written with every frame so that a restart
 * resumes exactly); {@code <stream> NUL "s" <16 hex digits of the second>} a finished second's
 * float32 values. Finished seconds older than {@code keepSec} before the newest are deleted.
 */
final class AlertEvidence {
  /** What happened to one frame. */
  enum Outcome { ACCEPTED, LATE, WRONG_DIMENSION }

  private static final HexFormat HEX = HexFormat.of();
  private final KeyValueStore<String, byte[]> store;
  private final int keepSec;

  /**
   * The state of one stream.
   *
   * @param originMs capture time of the stream's first frame
   * @param dim the stream's feature dimension
   * @param nextSec the first second still accepting frames (every earlier one is finished)
   * @param openSec the second being filled, or -1
   * @param sum the open second's running sum of normalised features (float64)
   */
  record State(long originMs, int dim, long nextSec, long openSec, double[] sum) {
    byte[] toBytes() {
      ByteBuffer b = ByteBuffer.allocate(8 + 4 + 8 + 8 + 8 * dim);
      b.putLong(originMs).putInt(dim).putLong(nextSec).putLong(openSec);
      for (double x : sum) {
        b.putDouble(x);
      }
      return b.array();
    }

    static State fromBytes(byte[] bytes) {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      long origin = b.getLong();
      int dim = b.getInt();
      long next = b.getLong();
      long open = b.getLong();
      double[] sum = new double[dim];
      for (int i = 0; i < dim; i++) {
        sum[i] = b.getDouble();
      }
      return new State(origin, dim, next, open, sum);
    }
  }

  /**
   * The finished evidence of a stretch: second {@code i} of {@code seconds} starts at {@code
   * startMs + i s}; a second without frames is the zero vector.
   */
  record Stretch(long startMs, float[][] seconds) {}

  AlertEvidence(KeyValueStore<String, byte[]> store, int keepSec) {
    this.store = Objects.requireNonNull(store, "store");
    if (keepSec < 1) {
      throw new IllegalArgumentException("keepSec must be >= 1, got " + keepSec);
    }
    this.keepSec = keepSec;
  }

  static String stateKey(String stream) {
    return stream + "\u0000#";
  }

  static String secondKey(String stream, long sec) {
    return stream + "\u0000s" + HEX.toHexDigits(sec);
  }

  /** The stream's state, or null before its first frame. */
  State state(String stream) {
    byte[] b = store.get(stateKey(stream));
    return b == null ? null : State.fromBytes(b);
  }

  /** Adds one frame's feature captured at {@code captureMs} to its second. */
  Outcome accept(String stream, long captureMs, float[] feature) {
    State st = state(stream);
    if (st == null) {
      st = new State(captureMs, feature.length, 0, -1, new double[feature.length]);
    }
    if (feature.length != st.dim()) {
      return Outcome.WRONG_DIMENSION;
    }
    long sec = Math.floorDiv(captureMs - st.originMs(), 1000L);
    if (sec < st.nextSec()) {
      return Outcome.LATE;
    }
    double[] sum = st.sum();
    long open = st.openSec();
    long next = st.nextSec();
    if (open >= 0 && sec > open) {
      finish(stream, open, sum);
      next = open + 1;
      open = -1;
    }
    if (open < 0) {
      open = sec;
      sum = new double[st.dim()];
    }
    FrameEvidence.addUnit(sum, feature);
    store.put(stateKey(stream), new State(st.originMs(), st.dim(), next, open, sum).toBytes());
    return Outcome.ACCEPTED;
  }

  /** The stream's end-of-stream mark: its open second is finished. */
  void endOfStream(String stream) {
    State st = state(stream);
    if (st != null && st.openSec() >= 0) {
      finish(stream, st.openSec(), st.sum());
      store.put(stateKey(stream),
          new State(st.originMs(), st.dim(), st.openSec() + 1, -1, new double[st.dim()]).toBytes());
    }
  }

  private void finish(String stream, long sec, double[] sum) {
    float[] v = FrameEvidence.ofSum(sum);
    ByteBuffer b = ByteBuffer.allocate(4 * v.length);
    for (float x : v) {
      b.putFloat(x);
    }
    store.put(secondKey(stream, sec), b.array());
    long dropBelow = sec + 1 - keepSec;
    if (dropBelow > 0) {
      try (KeyValueIterator<String, byte[]> it =
          store.range(secondKey(stream, 0), secondKey(stream, dropBelow - 1))) {
        while (it.hasNext()) {
          store.delete(it.next().key);
        }
      }
    }
  }

  /**
   * The finished evidence of the last {@code seconds} seconds that end by {@code endMs} (capture
   * epoch ms; fewer at the stream's start, and none after its newest finished second), or null
   * when there is none.
   */
  Stretch before(String stream, long endMs, int seconds) {
    State st = state(stream);
    if (st == null) {
      return null;
    }
    long to = Math.min(st.nextSec(), Math.floorDiv(endMs - st.originMs() + 999, 1000L));
    long from = Math.max(0, to - seconds);
    if (to <= from) {
      return null;
    }
    float[][] out = new float[(int) (to - from)][];
    try (KeyValueIterator<String, byte[]> it = store.range(secondKey(stream, from), secondKey(stream, to - 1))) {
      while (it.hasNext()) {
        KeyValue<String, byte[]> kv = it.next();
        long sec = HEX.fromHexDigitsToLong(kv.key.substring(kv.key.length() - 16));
        ByteBuffer b = ByteBuffer.wrap(kv.value);
        float[] v = new float[st.dim()];
        for (int i = 0; i < v.length; i++) {
          v[i] = b.getFloat();
        }
        out[(int) (sec - from)] = v;
      }
    }
    for (int i = 0; i < out.length; i++) {
      if (out[i] == null) {
        out[i] = new float[st.dim()];
      }
    }
    return new Stretch(st.originMs() + from * 1000, out);
  }
}
