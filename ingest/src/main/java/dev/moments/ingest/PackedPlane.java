package dev.moments.ingest;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * One packed (single-plane) picture in native memory, in the (data, linesize) form swscale reads
 * and writes: {@code rows} rows of {@code stride} bytes, 64 bytes of slack for SIMD over-reads.
 * Used for the BGR side of {@link VideoSource}'s decode conversion and {@link JpegEncoder}'s
 * encode conversion.
 */
final class PackedPlane implements AutoCloseable {
  private final BytePointer bytes;
  private final PointerPointer<BytePointer> data;
  private final IntPointer linesize;
  private final int stride;
  private final int rows;

  PackedPlane(int stride, int rows) {
    if (stride <= 0 || rows <= 0) {
      throw new IllegalArgumentException("a plane needs a positive stride and rows, got " + stride + "x" + rows);
    }
    this.stride = stride;
    this.rows = rows;
    this.bytes = new BytePointer((long) stride * rows + 64);
    this.data = new PointerPointer<>(4);
    data.put(0, bytes);
    this.linesize = new IntPointer(stride, 0, 0, 0);
  }

  /** The plane pointers for swscale's {@code srcSlice}/{@code dst} argument. */
  PointerPointer<BytePointer> data() {
    return data;
  }

  /** The strides for swscale's {@code srcStride}/{@code dstStride} argument. */
  IntPointer linesize() {
    return linesize;
  }

  /** Copies {@code rows} rows of {@code rowBytes} each from a tightly packed array in. */
  void fill(byte[] src, int rowBytes) {
    if (rowBytes == stride) {
      bytes.position(0).put(src, 0, rowBytes * rows);
    } else {
      for (int y = 0; y < rows; y++) {
        bytes.position((long) y * stride).put(src, y * rowBytes, rowBytes);
      }
    }
    bytes.position(0);
  }

  /** Copies {@code rows} rows of {@code rowBytes} each out into a tightly packed array. */
  void copyTo(byte[] out, int rowBytes) {
    if (rowBytes == stride) {
      bytes.position(0).get(out, 0, rowBytes * rows);
    } else {
      for (int y = 0; y < rows; y++) {
        bytes.position((long) y * stride).get(out, y * rowBytes, rowBytes);
      }
    }
    bytes.position(0);
  }

  @Override
  public void close() {
    bytes.close();
    data.close();
    linesize.close();
  }
}
