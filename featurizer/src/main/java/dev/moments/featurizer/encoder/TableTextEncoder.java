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

  public TableTextEncoder(Path file) {
    try {
      this.table = TextEmbeddings.read(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.file = file;
    this.id = "table:" + file.getFileName();
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
        throw new IllegalArgumentException("no embedding for \"" + texts.get(i) + "\" in the text table " + file
            + " (" + table.size() + " texts)");
      }
      out[i] = v;
    }
    return out;
  }

  @Override
  public void close() {}
}
