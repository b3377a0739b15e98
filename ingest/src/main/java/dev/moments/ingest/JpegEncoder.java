package dev.moments.ingest;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Encodes frames as baseline JPEG with ImageIO at a fixed quality. Not thread-safe. */
public final class JpegEncoder implements AutoCloseable {
  private final ImageWriter writer;
  private final ImageWriteParam param;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);

  /** @param quality JPEG quality in (0, 1], e.g. 0.85 */
  public JpegEncoder(double quality) {
    if (!(quality > 0) || quality > 1) {
      throw new IllegalArgumentException("jpeg quality must be in (0, 1], got " + quality);
    }
    Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("jpeg");
    if (!it.hasNext()) {
      throw new IllegalStateException("no ImageIO JPEG writer in this JVM");
    }
    writer = it.next();
    param = writer.getDefaultWriteParam();
    param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
    param.setCompressionQuality((float) quality);
  }

  public byte[] encode(BufferedImage image) {
    out.reset();
    try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(ios);
      writer.write(null, new IIOImage(image, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException("JPEG encoding failed", e);
    }
    return out.toByteArray();
  }

  @Override
  public void close() {
    writer.dispose();
  }
}
