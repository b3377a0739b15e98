package dev.moments.eval;

import dev.moments.featurizer.encoder.TableTextEncoder;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.featurizer.store.TextEmbeddings;
import java.nio.file.Path;

/**
 * Where eval gets the text embedding of a query or class name: a precomputed {@code .npz} table
 * ({@link TextEmbeddings}) or a live {@link TextEncoder}.
 */
public interface QueryText {
  /**
   * The embedding of {@code text}.
   *
   * @throws IllegalArgumentException when the source cannot embed it (e.g. a table without it)
   */
  float[] embed(String text);

  /** The embedding dimension. */
  int dim();

  /** A table lookup; a text missing from the table is an error naming the file. */
  static QueryText fromTable(TextEmbeddings table, Path source) {
    return fromEncoder(new TableTextEncoder(table, source));
  }

  /** Encodes with {@code encoder} (not closed here). */
  static QueryText fromEncoder(TextEncoder encoder) {
    return new QueryText() {
      @Override
      public float[] embed(String text) {
        return encoder.encode(text);
      }

      @Override
      public int dim() {
        return encoder.dim();
      }
    };
  }
}
