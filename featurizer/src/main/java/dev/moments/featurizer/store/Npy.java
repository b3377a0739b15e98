package dev.moments.featurizer.store;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes 2-D NumPy {@code .npy} arrays of float16/float32 (C order), the per-video
 * frame-feature files of DESIGN §5. Reading memory-maps the file, so a loader can pull one
 * window of rows without holding the whole video in memory.
 */
public final class Npy {
  private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([<>|=])([fi])(\\d)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\((\\d+),\\s*(\\d+)\\s*,?\\)");

  private Npy() {}

  /** A memory-mapped [rows, cols] float matrix. */
  public static final class Matrix {
    private final ByteBuffer data;
    private final int rows;
    private final int cols;
    private final int width;

    Matrix(ByteBuffer data, int rows, int cols, int width) {
      this.data = data;
      this.rows = rows;
      this.cols = cols;
      this.width = width;
    }

    public int rows() {
      return rows;
    }

    public int cols() {
      return cols;
    }

    /** Copies row {@code r} into {@code out[0..cols)}. */
    public void row(int r, float[] out) {
      if (r < 0 || r >= rows) {
        throw new IndexOutOfBoundsException("row " + r + " of " + rows);
      }
      int base = r * cols * width;
      for (int c = 0; c < cols; c++) {
        int at = base + c * width;
        out[c] = width == 4 ? data.getFloat(at) : Float.float16ToFloat(data.getShort(at));
      }
    }

    public float[] row(int r) {
      float[] out = new float[cols];
      row(r, out);
      return out;
    }

    /** Rows [from, to) as a new array. */
    public float[][] rows(int from, int to) {
      if (from < 0 || to > rows || from > to) {
        throw new IndexOutOfBoundsException("rows " + from + ".." + to + " of " + rows);
      }
      float[][] out = new float[to - from][];
      for (int r = from; r < to; r++) {
        out[r - from] = row(r);
      }
      return out;
    }
  }

  /**
   * Memory-maps a 2-D float16/float32 .npy file.
   *
   * @throws IllegalArgumentException when the file is not a 2-D little-endian float16/float32
   *     C-order array (the message names the file and what is wrong)
   */
  public static Matrix read(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(file + ": .npy files over 2 GiB are not supported");
      }
      MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
      map.order(ByteOrder.LITTLE_ENDIAN);
      if (size < 10 || map.get(0) != (byte) 0x93 || map.get(1) != 'N' || map.get(2) != 'U') {
        throw new IllegalArgumentException(file + ": not a .npy file (bad magic)");
      }
      int major = map.get(6);
      int headerLen;
      int headerStart;
      if (major == 1) {
        headerLen = map.getShort(8) & 0xFFFF;
        headerStart = 10;
      } else {
        headerLen = map.getInt(8);
        headerStart = 12;
      }
      byte[] hb = new byte[headerLen];
      map.get(headerStart, hb);
      String header = new String(hb, StandardCharsets.ISO_8859_1);
      Matcher d = DESCR.matcher(header);
      Matcher f = FORTRAN.matcher(header);
      Matcher s = SHAPE.matcher(header);
      if (!d.find() || !f.find() || !s.find()) {
        throw new IllegalArgumentException(file + ": expected a 2-D array, header is " + header.trim());
      }
      if (d.group(1).equals(">") || !d.group(2).equals("f") || !(d.group(3).equals("4") || d.group(3).equals("2"))) {
        throw new IllegalArgumentException(
            file + ": expected little-endian float16 or float32, got " + d.group(0));
      }
      if (f.group(1).equals("True")) {
        throw new IllegalArgumentException(file + ": Fortran-order arrays are not supported");
      }
      int rows = Integer.parseInt(s.group(1));
      int cols = Integer.parseInt(s.group(2));
      int width = Integer.parseInt(d.group(3));
      int dataStart = headerStart + headerLen;
      if ((long) rows * cols * width + dataStart > size) {
        throw new IllegalArgumentException(file + ": truncated, shape (" + rows + ", " + cols + ") does not fit");
      }
      ByteBuffer data = map.slice(dataStart, (int) (size - dataStart)).order(ByteOrder.LITTLE_ENDIAN);
      return new Matrix(data, rows, cols, width);
    }
  }

  /** Writes a [rows, cols] float32 array atomically (temp file, then rename). */
  public static void write(Path file, float[][] rows) throws IOException {
    int cols = rows.length == 0 ? 0 : rows[0].length;
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (OutputStream out = Files.newOutputStream(tmp)) {
      writeHeader(out, rows.length, cols);
      ByteBuffer b = ByteBuffer.allocate(cols * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (float[] row : rows) {
        if (row.length != cols) {
          throw new IllegalArgumentException("ragged rows: " + row.length + " != " + cols);
        }
        b.clear();
        for (float v : row) {
          b.putFloat(v);
        }
        out.write(b.array());
      }
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Writes a version-1.0 header for a little-endian float32 [rows, cols] array. */
  public static void writeHeader(OutputStream out, int rows, int cols) throws IOException {
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
    int total = 10 + dict.length() + 1;
    int pad = (64 - total % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    ByteBuffer b = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
    b.putShort((short) header.length());
    out.write(b.array());
    out.write(header.getBytes(StandardCharsets.US_ASCII));
  }
}
