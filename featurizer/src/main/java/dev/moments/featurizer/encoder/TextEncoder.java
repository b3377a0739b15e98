package dev.moments.featurizer.encoder;

import java.util.List;

/**
 * A frozen text tower paired with an {@link ImageEncoder}: texts in, L2-normalized embeddings
 * in the same space out.
 */
public interface TextEncoder extends AutoCloseable {
  /** A stable id of the weights (the pair's image encoder id is usually the same). */
  String id();

  /** The embedding dimension. */
  int dim();

  /** Encodes a batch; result[i] is the L2-normalized embedding of texts.get(i). */
  float[][] encode(List<String> texts);

  /** Encodes one text. */
  default float[] encode(String text) {
    return encode(List.of(text))[0];
  }

  @Override
  void close();
}
