package dev.moments.featurizer.encoder;

import static dev.moments.featurizer.encoder.TestModels.floats;
import static dev.moments.featurizer.encoder.TestModels.longs;
import static dev.moments.featurizer.encoder.TestModels.maxAbsDiff;
import static dev.moments.featurizer.encoder.TestModels.norm;
import static dev.moments.featurizer.encoder.TestModels.testImage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EncodersTest {
  // PIL rounds its fixed-point bicubic weights differently from our double weights, so single
  // pixels may differ by one 8-bit step; through the tiny net that moves embedding components by
  // well under 1e-3. Text embeddings have no such source of difference.
  private static final double IMAGE_TOLERANCE = 2e-3;
  private static final double TEXT_TOLERANCE = 1e-5;

  private static EncoderPair torchscript;
  private static EncoderPair onnx;
  private static JsonNode expected;

  @BeforeAll
  static void load() throws IOException {
    torchscript = Encoders.load(TestModels.torchscriptDir());
    onnx = Encoders.load(TestModels.onnxDir());
    expected = TestModels.expected();
  }

  @AfterAll
  static void close() {
    torchscript.close();
    onnx.close();
  }

  @Test
  void bundled_encoder_reads_its_id_and_dim_from_encoder_json() {
    assertThat(torchscript.id()).isEqualTo("moments-tiny-clip-v1");
    assertThat(torchscript.dim()).isEqualTo(64);
    assertThat(onnx.id()).isEqualTo("moments-tiny-clip-v1");
    assertThat(onnx.text().dim()).isEqualTo(64);
  }

  @Test
  void torchscript_image_embeddings_equal_what_torch_computed() {
    float[][] got = torchscript.image().encode(List.of(testImage(0), testImage(1)));
    for (int i = 0; i < 2; i++) {
      float[] want = floats(expected.get("images").get(i).get("embedding"));
      assertThat(got[i]).hasSize(64);
      assertThat(maxAbsDiff(got[i], want)).as("image %d", i).isLessThan(IMAGE_TOLERANCE);
    }
    // The two images are far apart compared with the tolerance (so the comparison means something).
    assertThat(maxAbsDiff(got[0], got[1])).isGreaterThan(10 * IMAGE_TOLERANCE);
    assertThat(maxAbsDiff(got[0], floats(expected.get("images").get(0).get("embedding"))))
        .as("measured image tolerance").isLessThan(IMAGE_TOLERANCE / 2);
  }

  @Test
  void torchscript_text_embeddings_equal_what_torch_computed() {
    JsonNode texts = expected.get("texts");
    float[][] got = torchscript.text().encode(List.of(texts.get(0).get("text").asText(), texts.get(1).get("text").asText()));
    for (int i = 0; i < 2; i++) {
      assertThat(maxAbsDiff(got[i], floats(texts.get(i).get("embedding")))).as("text %d", i).isLessThan(TEXT_TOLERANCE);
    }
  }

  @Test
  void tokenizer_json_gives_the_ids_python_computed_with_sot_eot_padding_and_truncation() {
    EncoderConfig c = EncoderConfig.read(TestModels.torchscriptDir());
    try (ClipTokenizer tok = new ClipTokenizer(c.tokenizer(), c.contextLength(), c.padId())) {
      for (JsonNode t : expected.get("texts")) {
        assertThat(tok.ids(t.get("text").asText())).containsExactly(longs(t.get("ids")));
      }
      // "Where did I leave my KEYS?" -> SOT where did i leave my keys ? EOT, then zeros.
      long[] ids = tok.ids("Where did I leave my KEYS?");
      assertThat(ids[0]).isEqualTo(342);
      assertThat(ids[8]).isEqualTo(343);
      assertThat(ids[9]).isZero();
      // 20 words do not fit in 16: SOT + 14 words + EOT.
      long[] cut = tok.ids("a b c d e f g h i j k l m n o p q r s t".replaceAll("[b-hj-t]", "cup"));
      assertThat(cut).hasSize(16);
      assertThat(cut[0]).isEqualTo(342);
      assertThat(cut[15]).isEqualTo(343);
      assertThat(cut[14]).isNotEqualTo(343);
    }
  }

  @Test
  void onnx_and_torchscript_give_the_same_embeddings() {
    List<BufferedImage> images = List.of(testImage(0), testImage(1), new BufferedImage(200, 50, BufferedImage.TYPE_INT_RGB));
    float[][] a = torchscript.image().encode(images);
    float[][] b = onnx.image().encode(images);
    for (int i = 0; i < images.size(); i++) {
      assertThat(maxAbsDiff(a[i], b[i])).as("image %d", i).isLessThan(1e-5);
    }
    List<String> texts = List.of("the keys are on the kitchen table", "a dog", "");
    float[][] ta = torchscript.text().encode(texts);
    float[][] tb = onnx.text().encode(texts);
    for (int i = 0; i < texts.size(); i++) {
      assertThat(maxAbsDiff(ta[i], tb[i])).as("text %d", i).isLessThan(1e-5);
    }
  }

  @Test
  void embeddings_have_unit_length_and_batching_does_not_change_them() {
    float[][] batch = torchscript.image().encode(List.of(testImage(1), testImage(0)));
    float[][] single = torchscript.image().encode(List.of(testImage(0)));
    assertThat(norm(batch[0])).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    assertThat(norm(batch[1])).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    assertThat(maxAbsDiff(batch[1], single[0])).isLessThan(1e-5);
    assertThat(norm(onnx.text().encode("where is the remote"))).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
  }

  @Test
  void squash_resize_uses_the_whole_image() throws IOException {
    // A 128x64 image whose right half is white: a centre crop keeps half of each colour, a squash
    // also does, but a left-aligned crop would not. Compare to the same pixels already square.
    BufferedImage wide = new BufferedImage(128, 64, BufferedImage.TYPE_INT_RGB);
    BufferedImage square = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 64; y++) {
      for (int x = 0; x < 128; x++) {
        wide.setRGB(x, y, x < 64 ? 0x000000 : 0xFFFFFF);
      }
      for (int x = 0; x < 64; x++) {
        square.setRGB(x, y, x < 32 ? 0x000000 : 0xFFFFFF);
      }
    }
    ImagePreprocessor squash = new ImagePreprocessor(64, EncoderConfig.ResizeMode.SQUASH, new float[] {0, 0, 0}, new float[] {1, 1, 1});
    ImagePreprocessor crop = new ImagePreprocessor(64, EncoderConfig.ResizeMode.SHORTEST_EDGE_CENTER_CROP, new float[] {0, 0, 0}, new float[] {1, 1, 1});
    float[] s = squash.batch(List.of(wide));
    float[] c = crop.batch(List.of(wide));
    float[] q = crop.batch(List.of(square));
    // Squash: left 32 columns black, right 32 white (up to the bicubic edge ringing at the seam).
    assertThat(s[5 * 64 + 2]).isEqualTo(0f);
    assertThat(s[5 * 64 + 61]).isEqualTo(1f);
    // Centre crop of the 128-wide image: columns 32..95, so 32 black then 32 white, like square.
    assertThat(c[5 * 64 + 2]).isEqualTo(0f);
    assertThat(c[5 * 64 + 61]).isEqualTo(1f);
    assertThat(q).containsExactly(c);
    // Mean/std are applied: with mean 0.5 and std 0.25, black becomes -2 and white +2.
    ImagePreprocessor norm = new ImagePreprocessor(64, EncoderConfig.ResizeMode.SQUASH, new float[] {.5f, .5f, .5f}, new float[] {.25f, .25f, .25f});
    float[] n = norm.batch(List.of(square));
    assertThat(n[0]).isCloseTo(-2f, org.assertj.core.data.Offset.offset(1e-6f));
    assertThat(n[63]).isCloseTo(2f, org.assertj.core.data.Offset.offset(1e-6f));
  }

  @Test
  void a_missing_directory_is_rejected_with_its_path(@TempDir Path tmp) {
    Path missing = tmp.resolve("nope");
    assertThatThrownBy(() -> Encoders.load(missing))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("encoder directory does not exist: " + missing);
    assertThatThrownBy(() -> Encoders.loadImage(tmp))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("no encoder.json in encoder directory " + tmp);
  }

  @Test
  void an_unknown_format_is_rejected(@TempDir Path tmp) throws IOException {
    Files.writeString(tmp.resolve("encoder.json"), "{\"id\": \"x\", \"format\": \"tflite\", \"image\": \"i.pt\", \"dim\": 8}");
    assertThatThrownBy(() -> Encoders.loadImage(tmp))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(tmp.resolve("encoder.json") + ": unknown format 'tflite' (expected torchscript, onnx or pocket)");
  }

  @Test
  void a_missing_model_file_is_rejected(@TempDir Path tmp) throws IOException {
    Files.writeString(tmp.resolve("encoder.json"), "{\"id\": \"x\", \"format\": \"onnx\", \"image\": \"image.onnx\", \"dim\": 8}");
    assertThatThrownBy(() -> Encoders.loadImage(tmp))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"image\" names " + tmp.resolve("image.onnx") + ", which does not exist");
  }

  @Test
  void a_dim_that_differs_from_the_model_output_is_rejected(@TempDir Path tmp) throws IOException {
    for (String f : List.of("image.pt", "text.pt", "tokenizer.json")) {
      Files.copy(TestModels.torchscriptDir().resolve(f), tmp.resolve(f));
    }
    Files.writeString(tmp.resolve("encoder.json"),
        "{\"id\": \"x\", \"format\": \"torchscript\", \"image\": \"image.pt\", \"text\": \"text.pt\", "
            + "\"tokenizer\": \"tokenizer.json\", \"dim\": 512, \"image_size\": 64, \"context_length\": 16}");
    assertThatThrownBy(() -> Encoders.load(tmp))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("returned shape (1, 64), expected (1, 512)");
    Files.copy(TestModels.onnxDir().resolve("image.onnx"), tmp.resolve("image.onnx"));
    Files.writeString(tmp.resolve("encoder.json"),
        "{\"id\": \"x\", \"format\": \"onnx\", \"image\": \"image.onnx\", \"dim\": 32, \"image_size\": 64}");
    assertThatThrownBy(() -> Encoders.loadImage(tmp))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("returned shape [1, 64], expected [1, 32]");
  }

  @Test
  void a_file_that_is_not_a_model_is_rejected(@TempDir Path tmp) throws IOException {
    Files.writeString(tmp.resolve("image.pt"), "not a zip");
    Files.writeString(tmp.resolve("encoder.json"), "{\"id\": \"x\", \"format\": \"torchscript\", \"image\": \"image.pt\", \"dim\": 8}");
    assertThatThrownBy(() -> Encoders.loadImage(tmp))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(tmp.resolve("image.pt") + " is not a loadable TorchScript module");
  }
}
