package dev.moments.featurizer.store;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * A text -> vector table stored as a NumPy {@code .npz} (a zip of two {@code .npy} arrays), the
 * format of {@code --text-embeddings}: {@code texts.npy} is a 1-D fixed-width unicode array
 * ({@code <U{n}}, UTF-32LE, shorter texts padded with NUL) and {@code embeddings.npy} a
 * {@code [N, D]} float array (float32, or float16/float64 when read) whose row i embeds text i.
 * Made by numpy as {@code np.savez(f, texts=np.array(texts), embeddings=emb.astype(np.float32))};
 * read back by numpy with {@code np.load(f)['texts']}.
 *
 * <p>NOTE: the whole table is held in memory as one float array, so N x D must stay below 2^31;
 * a text's trailing NUL characters are lost (numpy strips them too).
 */
public final class TextEmbeddings {
  private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([<>|=])([A-Za-z])(\\d+)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

  private final Map<String, Integer> index;
  private final float[] data;
  private final int dim;

  private TextEmbeddings(Map<String, Integer> index, float[] data, int dim) {
    this.index = index;
    this.data = data;
    this.dim = dim;
  }

  /**
   * Reads an {@code .npz} with {@code texts} and {@code embeddings} arrays (stored or deflated).
   *
   * @throws IllegalArgumentException when the file is missing, not a zip, lacks one of the two
   *     arrays, has unsupported dtypes, or the row counts differ
   */
  public static TextEmbeddings read(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new IllegalArgumentException("text embeddings file not found: " + file);
    }
    try (ZipFile zip = new ZipFile(file.toFile())) {
      Array texts = readEntry(file, zip, "texts.npy");
      Array emb = readEntry(file, zip, "embeddings.npy");
      if (!texts.kind.equals("U") || texts.shape.length != 1) {
        throw new IllegalArgumentException(
            file + ": texts.npy must be a 1-D unicode (<U) array, got " + texts.describe());
      }
      if (!emb.kind.equals("f") || emb.shape.length != 2) {
        throw new IllegalArgumentException(
            file + ": embeddings.npy must be a 2-D float array, got " + emb.describe());
      }
      int n = Math.toIntExact(texts.shape[0]);
      if (emb.shape[0] != n) {
        throw new IllegalArgumentException(
            file + ": " + n + " texts but " + emb.shape[0] + " embedding rows");
      }
      int dim = Math.toIntExact(emb.shape[1]);
      long total = (long) n * dim;
      if (total > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException(file + ": " + n + " x " + dim + " is too large to hold");
      }
      float[] data = new float[(int) total];
      ByteBuffer eb = emb.data;
      for (int i = 0; i < data.length; i++) {
        data[i] = switch (emb.width) {
          case 2 -> Float.float16ToFloat(eb.getShort(i * 2));
          case 4 -> eb.getFloat(i * 4);
          case 8 -> (float) eb.getDouble(i * 8);
          default -> throw new IllegalArgumentException(
              file + ": unsupported float width " + emb.width + " in embeddings.npy");
        };
      }
      Map<String, Integer> index = new HashMap<>(Math.max(16, n * 2));
      int chars = texts.width;
      ByteBuffer tb = texts.data;
      int[] cps = new int[chars];
      for (int i = 0; i < n; i++) {
        int len = 0;
        for (int c = 0; c < chars; c++) {
          cps[c] = tb.getInt((i * chars + c) * 4);
          if (cps[c] != 0) {
            len = c + 1;
          }
        }
        String s = new String(cps, 0, len);
        if (index.putIfAbsent(s, i) != null) {
          throw new IllegalArgumentException(file + ": text appears twice: \"" + s + "\"");
        }
      }
      return new TextEmbeddings(Collections.unmodifiableMap(index), data, dim);
    } catch (ZipException e) {
      throw new IllegalArgumentException(file + " is not an .npz (zip) file: " + e.getMessage(), e);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("text embeddings file not found: " + file, e);
    }
  }

  /** The vector of {@code text}, or {@code null} when the table has no such text. */
  public float[] get(String text) {
    Integer i = index.get(text);
    if (i == null) {
      return null;
    }
    float[] out = new float[dim];
    System.arraycopy(data, i * dim, out, 0, dim);
    return out;
  }

  /** The vector dimension D. */
  public int dim() {
    return dim;
  }

  /** Number of texts. */
  public int size() {
    return index.size();
  }

  /** All texts (unordered, unmodifiable). */
  public Set<String> texts() {
    return index.keySet();
  }

  /**
   * Writes {@code table} as an uncompressed {@code .npz} exactly as {@code np.savez} would (texts
   * sorted, float32 embeddings, fixed entry times so equal tables give equal bytes), atomically.
   *
   * @throws IllegalArgumentException when the vectors do not all have the same length or a text
   *     ends with a NUL character
   */
  public static void write(Path file, Map<String, float[]> table) throws IOException {
    TreeMap<String, float[]> sorted = new TreeMap<>(table);
    int dim = -1;
    int width = 1;
    for (Map.Entry<String, float[]> e : sorted.entrySet()) {
      if (e.getValue() == null) {
        throw new IllegalArgumentException("no vector for text \"" + e.getKey() + "\"");
      }
      if (dim < 0) {
        dim = e.getValue().length;
      } else if (e.getValue().length != dim) {
        throw new IllegalArgumentException("vector of \"" + e.getKey() + "\" has dimension "
            + e.getValue().length + ", expected " + dim);
      }
      if (e.getKey().endsWith("\0")) {
        throw new IllegalArgumentException("texts must not end with NUL: \"" + e.getKey() + "\"");
      }
      width = Math.max(width, (int) e.getKey().codePoints().count());
    }
    if (dim < 0) {
      dim = 0;
    }
    int n = sorted.size();

    ByteArrayOutputStream texts = new ByteArrayOutputStream();
    writeHeader(texts, "<U" + width, "(" + n + ",)");
    ByteBuffer row = ByteBuffer.allocate(width * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (String s : sorted.keySet()) {
      row.clear();
      s.codePoints().forEach(row::putInt);
      while (row.hasRemaining()) {
        row.putInt(0);
      }
      texts.write(row.array());
    }

    ByteArrayOutputStream emb = new ByteArrayOutputStream();
    writeHeader(emb, "<f4", "(" + n + ", " + dim + ")");
    ByteBuffer vec = ByteBuffer.allocate(dim * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float[] v : sorted.values()) {
      vec.clear();
      for (float x : v) {
        vec.putFloat(x);
      }
      emb.write(vec.array());
    }

    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (OutputStream os = Files.newOutputStream(tmp);
        ZipOutputStream zip = new ZipOutputStream(os)) {
      stored(zip, "texts.npy", texts.toByteArray());
      stored(zip, "embeddings.npy", emb.toByteArray());
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void stored(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setTimeLocal(java.time.LocalDateTime.of(1980, 1, 1, 0, 0)); // as numpy: same bytes each run
    e.setSize(bytes.length);
    e.setCompressedSize(bytes.length);
    CRC32 crc = new CRC32();
    crc.update(bytes);
    e.setCrc(crc.getValue());
    zip.putNextEntry(e);
    zip.write(bytes);
    zip.closeEntry();
  }

  private static void writeHeader(OutputStream out, String descr, String shape) throws IOException {
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int total = 10 + dict.length() + 1;
    int pad = (64 - total % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    ByteBuffer b = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
    b.putShort((short) header.length());
    out.write(b.array());
    out.write(header.getBytes(StandardCharsets.US_ASCII));
  }

  /** A parsed .npy: dtype kind ('U', 'f', ...), item width (chars for U, bytes otherwise), shape. */
  private record Array(String kind, int width, long[] shape, ByteBuffer data) {
    String describe() {
      return kind + width + " shape " + java.util.Arrays.toString(shape);
    }
  }

  private static Array readEntry(Path file, ZipFile zip, String name) throws IOException {
    ZipEntry e = zip.getEntry(name);
    if (e == null) {
      throw new IllegalArgumentException(file + ": no " + name + " in the .npz (has "
          + zip.stream().map(ZipEntry::getName).toList() + ")");
    }
    byte[] bytes;
    try (InputStream in = zip.getInputStream(e)) {
      bytes = in.readAllBytes();
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 10 || b.get(0) != (byte) 0x93 || b.get(1) != 'N' || b.get(2) != 'U') {
      throw new IllegalArgumentException(file + ": " + name + " is not a .npy array (bad magic)");
    }
    int major = b.get(6);
    int headerLen = major == 1 ? b.getShort(8) & 0xFFFF : b.getInt(8);
    int headerStart = major == 1 ? 10 : 12;
    String header = new String(bytes, headerStart, headerLen,
        major >= 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header);
    Matcher f = FORTRAN.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (!d.find() || !f.find() || !s.find()) {
      throw new IllegalArgumentException(file + ": " + name + " has an unreadable header: " + header.trim());
    }
    if (d.group(1).equals(">")) {
      throw new IllegalArgumentException(file + ": " + name + " is big-endian; only little-endian is read");
    }
    if (f.group(1).equals("True")) {
      throw new IllegalArgumentException(file + ": " + name + " is Fortran-order; only C order is read");
    }
    String[] dims = s.group(1).split(",");
    long[] shape = java.util.Arrays.stream(dims).map(String::strip).filter(x -> !x.isEmpty())
        .mapToLong(Long::parseLong).toArray();
    String kind = d.group(2);
    int width = Integer.parseInt(d.group(3));
    long count = 1;
    for (long x : shape) {
      count *= x;
    }
    long itemBytes = kind.equals("U") ? width * 4L : width;
    int dataStart = headerStart + headerLen;
    if (dataStart + count * itemBytes > bytes.length) {
      throw new IllegalArgumentException(file + ": " + name + " is truncated");
    }
    ByteBuffer data = b.slice(dataStart, bytes.length - dataStart).order(ByteOrder.LITTLE_ENDIAN);
    return new Array(kind, width, shape, data);
  }
}
