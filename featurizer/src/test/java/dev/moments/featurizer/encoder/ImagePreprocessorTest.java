package dev.moments.featurizer.encoder;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The preprocessing reads the rasters ImageIO's JPEG reader and the ingest make directly (no
 * per-pixel {@link BufferedImage#getRGB}); every raster type must give exactly the floats the
 * getRGB path gives for the same pixels.
 */
class ImagePreprocessorTest {
  private static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
  private static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};

  /** The same pixels as a TYPE_INT_ARGB_PRE copy: a type read through getRGB. */
  private static BufferedImage viaGetRgb(BufferedImage img) {
    BufferedImage copy = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_ARGB_PRE);
    copy.setRGB(0, 0, img.getWidth(), img.getHeight(),
        img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth()), 0, img.getWidth());
    return copy;
  }

  private static BufferedImage random(int type, int w, int h, long seed) {
    Random rnd = new Random(seed);
    BufferedImage img = new BufferedImage(w, h, type);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, 0xFF000000 | rnd.nextInt(1 << 24));
      }
    }
    return img;
  }

  @Test
  void every_raster_type_gives_the_floats_of_the_getrgb_path() {
    for (EncoderConfig.ResizeMode mode : EncoderConfig.ResizeMode.values()) {
      ImagePreprocessor pre = new ImagePreprocessor(24, mode, MEAN, STD);
      for (int type : new int[] {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_INT_RGB,
          BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_INT_BGR, BufferedImage.TYPE_BYTE_GRAY}) {
        BufferedImage img = random(type, 61, 37, type);
        float[] got = pre.batch(List.of(img));
        float[] want = pre.batch(List.of(viaGetRgb(img)));
        assertThat(got).as("type %d, %s", type, mode).containsExactly(want);
      }
    }
  }

  @Test
  void a_sub_image_is_read_from_its_own_pixels() {
    BufferedImage whole = random(BufferedImage.TYPE_3BYTE_BGR, 80, 50, 7);
    BufferedImage sub = whole.getSubimage(9, 5, 40, 30);
    ImagePreprocessor pre = new ImagePreprocessor(16, EncoderConfig.ResizeMode.SHORTEST_EDGE_CENTER_CROP, MEAN, STD);
    assertThat(pre.batch(List.of(sub))).containsExactly(pre.batch(List.of(viaGetRgb(sub))));
  }

  @Test
  void a_jpeg_decoded_by_imageio_gives_the_floats_of_the_getrgb_path() throws IOException {
    BufferedImage src = random(BufferedImage.TYPE_INT_RGB, 160, 90, 3);
    ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
    assertThat(ImageIO.write(src, "jpg", jpeg)).isTrue();
    BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(jpeg.toByteArray()));
    assertThat(decoded.getType()).isEqualTo(BufferedImage.TYPE_3BYTE_BGR);
    ImagePreprocessor pre = new ImagePreprocessor(64, EncoderConfig.ResizeMode.SHORTEST_EDGE_CENTER_CROP, MEAN, STD);
    assertThat(pre.batch(List.of(decoded))).containsExactly(pre.batch(List.of(viaGetRgb(decoded))));
  }
}
