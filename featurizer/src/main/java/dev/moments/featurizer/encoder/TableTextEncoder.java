package dev.moments.featurizer.encoder;

import dev.moments.featurizer.store.TextEmbeddings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A "text tower" that looks texts up in a precomputed table ({@code .npz} with {@code texts.npy} +
 * {@code embeddings.npy}, see {@link TextEmbeddings}): datasets that ship their query embeddings
 * (the synthetic feature sets, or embeddings computed elsewhere with a real CLIP) can be searched
 * and replayed without the model that made them. A text missing from the table is a clear error.
 */
public final class TableTextEncoder implements TextEncoder {
  private final TextEmbeddings table;
  private final Path file;
  private final String id;

  /** Reads the table from {@code file}. */
  public TableTextEncoder(Path file) {
    this(read(file), file);
  }

  /** A table already read from {@code file} (named in ids and errors). */
  public TableTextEncoder(TextEmbeddings table, Path file) {
    this.table = table;
    this.file = file;
    this.id = "table:" + file.getFileName();
  }

  private static TextEmbeddings read(Path file) {
    try {
      return TextEmbeddings.read(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public int dim() {
    return table.dim();
  }

  @Override
  public float[][] encode(List<String> texts) {
    float[][] out = new float[texts.size()][];
    for (int i = 0; i < out.length; i++) {
      float[] v = table.get(texts.get(i));
      if (v == null) {
        throw new IllegalArgumentException("text embeddings " + file + " have no entry for \"" + texts.get(i)
            + "\" (" + table.size() + " texts); build the table over every query/class text, or use a text encoder");
      }
      out[i] = v;
    }
    return out;
  }

  @Override
  public void close() {}
}
