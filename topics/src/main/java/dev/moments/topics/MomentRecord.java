package dev.moments.topics;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * One predicted moment, the value of {@code moments.moments} (key = stream id).
 *
 * <p>Moment ids are deterministic: {@link #idFor(String, long, int)} = {@code
 * <stream>/<windowStartMs>/<slot>}, so a replayed window upserts the same ids.
 *
 * <p>Wire format (big-endian, version 1): magic 'M' 'M', version byte = 1, then the strings
 * momentId, streamId, windowId, modelId (each a uint16 UTF-8 length and the bytes), then
 * startMs (int64), endMs (int64), score (float32), dim (int32) and dim float32 values of the
 * L2-normalized visual/language embedding.
 */
public record MomentRecord(
    String momentId,
    String streamId,
    long startMs,
    long endMs,
    float[] embedding,
    float score,
    String windowId,
    String modelId) {
  public static final int VERSION = 1;

  public MomentRecord {
    Objects.requireNonNull(momentId, "momentId");
    Objects.requireNonNull(streamId, "streamId");
    Objects.requireNonNull(embedding, "embedding");
    Objects.requireNonNull(windowId, "windowId");
    Objects.requireNonNull(modelId, "modelId");
    if (endMs < startMs) {
      throw new IllegalArgumentException("moment ends before it starts: " + startMs + " > " + endMs);
    }
  }

  /** The deterministic id of the moment of query slot {@code slot} in a window. */
  public static String idFor(String streamId, long windowStartMs, int slot) {
    return streamId + "/" + windowStartMs + "/" + slot;
  }

  /** The deterministic id of a window of a stream. */
  public static String windowIdFor(String streamId, long windowStartMs) {
    return streamId + "/" + windowStartMs;
  }

  public byte[] toBytes() {
    byte[][] s = {utf8(momentId), utf8(streamId), utf8(windowId), utf8(modelId)};
    int size = 3 + 8 * 2 + 4 + 4 + 4 * embedding.length;
    for (byte[] x : s) {
      size += 2 + x.length;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    b.put((byte) 'M').put((byte) 'M').put((byte) VERSION);
    for (byte[] x : s) {
      b.putShort((short) x.length).put(x);
    }
    b.putLong(startMs).putLong(endMs).putFloat(score).putInt(embedding.length);
    for (float v : embedding) {
      b.putFloat(v);
    }
    return b.array();
  }

  /**
   * Decodes a record.
   *
   * @throws IllegalArgumentException when the bytes are not a valid version-1 moment record
   */
  public static MomentRecord fromBytes(byte[] bytes) {
    if (bytes == null || bytes.length < 3 || bytes[0] != 'M' || bytes[1] != 'M') {
      throw new IllegalArgumentException("not a moment record: missing 'MM' magic");
    }
    if ((bytes[2] & 0xFF) != VERSION) {
      throw new IllegalArgumentException("unsupported moment record version " + (bytes[2] & 0xFF));
    }
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      b.position(3);
      String momentId = readString(b);
      String streamId = readString(b);
      String windowId = readString(b);
      String modelId = readString(b);
      long start = b.getLong();
      long end = b.getLong();
      float score = b.getFloat();
      int dim = b.getInt();
      if (dim < 0 || b.remaining() != 4L * dim) {
        throw new IllegalArgumentException("moment record length does not match dim " + dim);
      }
      float[] e = new float[dim];
      b.asFloatBuffer().get(e);
      return new MomentRecord(momentId, streamId, start, end, e, score, windowId, modelId);
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated moment record", e);
    }
  }

  public static Serde<MomentRecord> serde() {
    Serializer<MomentRecord> ser = (topic, r) -> r == null ? null : r.toBytes();
    Deserializer<MomentRecord> de = (topic, bytes) -> bytes == null ? null : fromBytes(bytes);
    return Serdes.serdeFrom(ser, de);
  }

  private static byte[] utf8(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (b.length > 0xFFFF) {
      throw new IllegalArgumentException("string longer than 65535 bytes");
    }
    return b;
  }

  private static String readString(ByteBuffer b) {
    int n = b.getShort() & 0xFFFF;
    byte[] x = new byte[n];
    b.get(x);
    return new String(x, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MomentRecord r
        && momentId.equals(r.momentId)
        && streamId.equals(r.streamId)
        && startMs == r.startMs
        && endMs == r.endMs
        && Float.compare(score, r.score) == 0
        && windowId.equals(r.windowId)
        && modelId.equals(r.modelId)
        && Arrays.equals(embedding, r.embedding);
  }

  @Override
  public int hashCode() {
    return Objects.hash(momentId, streamId, startMs, endMs, score, windowId, modelId)
        + 31 * Arrays.hashCode(embedding);
  }

  @Override
  public String toString() {
    return "MomentRecord[" + momentId + " " + startMs + ".." + endMs + " score=" + score + "]";
  }
}
