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
 * One frame's feature vector, the value of {@code moments.features}. The record's key is the
 * stream id and its timestamp is the frame's capture time (epoch ms).
 *
 * <p>Wire format (all integers big-endian, version 1):
 *
 * <pre>
 *   bytes 0-1   magic 'M' 'F'
 *   byte  2     format version = 1
 *   byte  3     dtype: 1 = float32, 2 = float16 (IEEE 754 binary16)
 *   bytes 4-7   dim (int32, &gt; 0)
 *   bytes 8-9   n = length of the encoder id in UTF-8 bytes (uint16)
 *   n bytes     encoder id (UTF-8), e.g. "clip-vit-h-14-dfn5b" or "moments-tiny-v1"
 *   dim values  the vector, 4 (float32) or 2 (float16) bytes each, big-endian
 * </pre>
 *
 * NOTE: the featurizer writes float32 and L2-normalized vectors; readers accept both dtypes.
 */
public record FeatureRecord(String encoderId, float[] vector) {
  public static final int VERSION = 1;
  public static final byte DTYPE_F32 = 1;
  public static final byte DTYPE_F16 = 2;

  public FeatureRecord {
    Objects.requireNonNull(encoderId, "encoderId");
    Objects.requireNonNull(vector, "vector");
    if (vector.length == 0) {
      throw new IllegalArgumentException("feature vector must not be empty");
    }
  }

  public int dim() {
    return vector.length;
  }

  /** Encodes as float32. */
  public byte[] toBytes() {
    return toBytes(DTYPE_F32);
  }

  public byte[] toBytes(byte dtype) {
    byte[] id = encoderId.getBytes(StandardCharsets.UTF_8);
    if (id.length > 0xFFFF) {
      throw new IllegalArgumentException("encoder id longer than 65535 bytes");
    }
    int width = switch (dtype) {
      case DTYPE_F32 -> 4;
      case DTYPE_F16 -> 2;
      default -> throw new IllegalArgumentException("unknown dtype " + dtype);
    };
    ByteBuffer b = ByteBuffer.allocate(10 + id.length + width * vector.length);
    b.put((byte) 'M').put((byte) 'F').put((byte) VERSION).put(dtype).putInt(vector.length);
    b.putShort((short) id.length).put(id);
    for (float v : vector) {
      if (dtype == DTYPE_F32) {
        b.putFloat(v);
      } else {
        b.putShort(Float.floatToFloat16(v));
      }
    }
    return b.array();
  }

  /**
   * Decodes a record.
   *
   * @throws IllegalArgumentException when the bytes are not a valid version-1 feature record;
   *     the message says what is wrong (callers route such records to the dead-letter topic)
   */
  public static FeatureRecord fromBytes(byte[] bytes) {
    if (bytes == null) {
      throw new IllegalArgumentException("feature record is null");
    }
    if (bytes.length < 10 || bytes[0] != 'M' || bytes[1] != 'F') {
      throw new IllegalArgumentException("not a feature record: missing 'MF' magic");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    b.position(2);
    int version = b.get() & 0xFF;
    if (version != VERSION) {
      throw new IllegalArgumentException("unsupported feature record version " + version);
    }
    byte dtype = b.get();
    int width = switch (dtype) {
      case DTYPE_F32 -> 4;
      case DTYPE_F16 -> 2;
      default -> throw new IllegalArgumentException("unknown feature dtype " + dtype);
    };
    int dim = b.getInt();
    int idLen = b.getShort() & 0xFFFF;
    if (dim <= 0 || (long) 10 + idLen + (long) width * dim != bytes.length) {
      throw new IllegalArgumentException(
          "feature record length " + bytes.length + " does not match dim " + dim);
    }
    String id = new String(bytes, 10, idLen, StandardCharsets.UTF_8);
    b.position(10 + idLen);
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = dtype == DTYPE_F32 ? b.getFloat() : Float.float16ToFloat(b.getShort());
    }
    return new FeatureRecord(id, v);
  }

  public static Serde<FeatureRecord> serde() {
    Serializer<FeatureRecord> ser = (topic, r) -> r == null ? null : r.toBytes();
    Deserializer<FeatureRecord> de = (topic, bytes) -> bytes == null ? null : fromBytes(bytes);
    return Serdes.serdeFrom(ser, de);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FeatureRecord r
        && encoderId.equals(r.encoderId)
        && Arrays.equals(vector, r.vector);
  }

  @Override
  public int hashCode() {
    return 31 * encoderId.hashCode() + Arrays.hashCode(vector);
  }

  @Override
  public String toString() {
    return "FeatureRecord[encoderId=" + encoderId + ", dim=" + vector.length + "]";
  }
}
