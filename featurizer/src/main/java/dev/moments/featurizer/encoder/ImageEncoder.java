package dev.moments.featurizer.encoder;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * A frozen image tower (CLIP-style): images in, L2-normalized embeddings out. Implementations
 * load from a path and are thread-safe unless they say otherwise.
 */
public interface ImageEncoder extends AutoCloseable {
  /** A stable id of the weights, written into every feature record (e.g. "moments-tiny-v1"). */
  String id();

  /** The embedding dimension. */
  int dim();

  /** Encodes a batch; result[i] is the L2-normalized embedding of images.get(i). */
  float[][] encode(List<BufferedImage> images);

  @Override
  void close();
}
