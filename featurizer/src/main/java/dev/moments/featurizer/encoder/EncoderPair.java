package dev.moments.featurizer.encoder;

/**
 * An image tower and its text tower from one encoder directory, closed together. {@code text}
 * is null for an image-only export (an {@code encoder.json} without {@code "text"}).
 */
public record EncoderPair(ImageEncoder image, TextEncoder text) implements AutoCloseable {
  public String id() {
    return image.id();
  }

  public int dim() {
    return image.dim();
  }

  @Override
  public void close() {
    try {
      if (text != null) {
        text.close();
      }
    } finally {
      image.close();
    }
  }
}
