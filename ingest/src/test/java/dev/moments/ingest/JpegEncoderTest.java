package dev.moments.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * JPEGs from {@link JpegEncoder} (FFmpeg's MJPEG encoder) decode with ImageIO, as the featurizer
 * and the query API decode them, to the size and colours that went in: PSNR against the source
 * image at the default quality, for even and odd sizes, BGR and other image types.
 */
class JpegEncoderTest {

  /** A smooth colour image with some edges, like a camera frame rather than noise. */
  private static BufferedImage picture(int w, int h, int type) {
    BufferedImage img = new BufferedImage(w, h, type);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int r = 255 * x / Math.max(1, w - 1);
        int g = 255 * y / Math.max(1, h - 1);
        int b = ((x / 16 + y / 16) % 2) * 160 + 40;
        img.setRGB(x, y, (r << 16) | (g << 8) | b);
      }
    }
    return img;
  }

  private static double psnr(BufferedImage a, BufferedImage b) {
    double se = 0;
    for (int y = 0; y < a.getHeight(); y++) {
      for (int x = 0; x < a.getWidth(); x++) {
        int p = a.getRGB(x, y);
        int q = b.getRGB(x, y);
        for (int s = 0; s <= 16; s += 8) {
          double d = ((p >> s) & 0xff) - ((q >> s) & 0xff);
          se += d * d;
        }
      }
    }
    double mse = se / (3.0 * a.getWidth() * a.getHeight());
    return 10 * Math.log10(255.0 * 255.0 / mse);
  }

  @ParameterizedTest(name = "{0}x{1} type {2}")
  @CsvSource({"640, 360, 5", "97, 65, 5", "320, 240, 1", "160, 120, 4"})
  void decodesToTheSameSizeAndColours(int w, int h, int type) throws Exception {
    BufferedImage src = picture(w, h, type);
    try (JpegEncoder enc = new JpegEncoder(0.85)) {
      byte[] jpeg = enc.encode(src);
      byte[] again = enc.encode(picture(w, h, BufferedImage.TYPE_3BYTE_BGR));
      assertThat(jpeg[0] & 0xff).isEqualTo(0xFF);
      assertThat(jpeg[1] & 0xff).isEqualTo(0xD8);
      BufferedImage back = ImageIO.read(new ByteArrayInputStream(jpeg));
      assertThat(back).as("ImageIO decodes it").isNotNull();
      assertThat(back.getWidth()).isEqualTo(w);
      assertThat(back.getHeight()).isEqualTo(h);
      BufferedImage bgrSrc = picture(w, h, BufferedImage.TYPE_3BYTE_BGR);
      // ImageIO's own writer at 0.85 reaches 27.8 dB (640x360) and 27.7 dB (97x65) on this picture.
      double min = w % 2 == 0 ? 26 : 22;
      assertThat(psnr(bgrSrc, back)).as("PSNR dB").isGreaterThan(min);
      assertThat(ImageIO.read(new ByteArrayInputStream(again)).getWidth()).isEqualTo(w);
    }
  }

  @ParameterizedTest(name = "quality {0}")
  @CsvSource({"0", "1.5", "-0.1", "NaN"})
  void rejectsAQualityOutsideZeroToOne(double q) {
    assertThatThrownBy(() -> new JpegEncoder(q)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("jpeg quality must be in (0, 1]");
  }
}
