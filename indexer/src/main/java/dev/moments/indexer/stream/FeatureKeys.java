package dev.moments.indexer.stream;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Bytes;

/**
 * Keys of the feature store: {@code uint16 length, stream id UTF-8, timestamp} with the
 * timestamp's sign bit flipped, so that byte order equals (stream, timestamp) order and one
 * stream's window is one range scan.
 */
public final class FeatureKeys {
  private FeatureKeys() {}

  public static Bytes key(String stream, long ts) {
    byte[] id = stream.getBytes(StandardCharsets.UTF_8);
    if (id.length > 0xFFFF) {
      throw new IllegalArgumentException("stream id longer than 65535 bytes");
    }
    return Bytes.wrap(ByteBuffer.allocate(2 + id.length + 8).putShort((short) id.length).put(id)
        .putLong(ts ^ Long.MIN_VALUE).array());
  }

  public static long timestamp(Bytes key) {
    byte[] b = key.get();
    return ByteBuffer.wrap(b, b.length - 8, 8).getLong() ^ Long.MIN_VALUE;
  }

  public static String stream(Bytes key) {
    byte[] b = key.get();
    int n = ((b[0] & 0xFF) << 8) | (b[1] & 0xFF);
    return new String(b, 2, n, StandardCharsets.UTF_8);
  }

  static byte[] vectorBytes(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length);
    b.asFloatBuffer().put(v);
    return b.array();
  }

  static float[] vector(byte[] b) {
    float[] v = new float[b.length / 4];
    ByteBuffer.wrap(b).asFloatBuffer().get(v);
    return v;
  }
}
