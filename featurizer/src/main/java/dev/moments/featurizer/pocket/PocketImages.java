package dev.moments.featurizer.pocket;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.util.List;

/**
 * The image preprocessing of the pocket image tower, shared by training and inference: squash the
 * frame to {@code size x size} (bilinear), keep RGB bytes, and at batch time scale to
 * {@code (x/255 - mean) / std} in CHW order.
 */
public final class PocketImages {
  private PocketImages() {}

  /** {@code image} squashed to {@code size x size}, as RGB bytes in HWC order. */
  public static byte[] resize(BufferedImage image, int size) {
    BufferedImage small = new BufferedImage(size, size, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = small.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.drawImage(image, 0, 0, size, size, null);
    } finally {
      g.dispose();
    }
    byte[] bgr = ((DataBufferByte) small.getRaster().getDataBuffer()).getData();
    byte[] rgb = new byte[bgr.length];
    for (int i = 0; i < bgr.length; i += 3) {
      rgb[i] = bgr[i + 2];
      rgb[i + 1] = bgr[i + 1];
      rgb[i + 2] = bgr[i];
    }
    return rgb;
  }

  /** A normalized float batch {@code [B, 3, size, size]} of images made by {@link #resize}. */
  public static NDArray batch(NDManager manager, List<byte[]> images, int size) {
    int plane = size * size;
    float[] data = new float[images.size() * 3 * plane];
    int o = 0;
    for (byte[] img : images) {
      if (img.length != 3 * plane) {
        throw new IllegalArgumentException("image has " + img.length + " bytes, expected " + 3 * plane);
      }
      for (int c = 0; c < 3; c++) {
        float mean = PocketConfig.MEAN[c];
        float std = PocketConfig.STD[c];
        for (int p = 0; p < plane; p++) {
          data[o++] = ((img[3 * p + c] & 0xff) / 255f - mean) / std;
        }
      }
    }
    return manager.create(data, new Shape(images.size(), 3, size, size));
  }
}
