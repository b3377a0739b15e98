package dev.moments.featurizer.pocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.moments.featurizer.encoder.EncoderConfig;
import dev.moments.featurizer.encoder.EncoderPair;
import dev.moments.featurizer.encoder.Encoders;
import dev.moments.featurizer.encoder.ImageEncoder;
import dev.moments.featurizer.encoder.TextEncoder;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PocketEncodersTest {
  @TempDir Path dir;

  static final List<String> TEXTS = List.of("#C C puts the keys on the shelf", "where did I put the keys");

  @Test
  void saved_encoders_load_back_with_identical_embeddings() throws Exception {
    PocketVocab vocab = PocketVocab.build(TEXTS);
    PocketConfig config = new PocketConfig("pocket-test", 16, 32, new int[] {8, 16}, 8, 16);
    List<BufferedImage> images = List.of(picture(Color.RED), picture(Color.BLUE), picture(Color.YELLOW));
    List<byte[]> resized = new ArrayList<>();
    images.forEach(i -> resized.add(PocketImages.resize(i, 32)));
    float[] imgBefore;
    float[] txtBefore;
    try (Model m = PocketEncoders.newModel(config, vocab)) {
      PocketNet net = (PocketNet) m.getBlock();
      try (NDManager sub = m.getNDManager().newSubManager()) {
        ParameterStore ps = new ParameterStore(sub, false);
        imgBefore = net.encodeImages(ps, PocketImages.batch(sub, resized, 32), false).toFloatArray();
        float[] bags = new float[2 * vocab.size()];
        System.arraycopy(vocab.bag(TEXTS.get(0), 16), 0, bags, 0, vocab.size());
        System.arraycopy(vocab.bag(TEXTS.get(1), 16), 0, bags, vocab.size(), vocab.size());
        txtBefore = net.encodeTexts(ps, sub.create(bags, new Shape(2, vocab.size())), false).toFloatArray();
      }
      PocketEncoders.save(dir, config, vocab, m);
    }
    assertThat(dir.resolve("pocket-0000.params")).isRegularFile();
    assertThat(Files.readString(dir.resolve("encoder.json"))).contains("\"format\" : \"pocket\"");
    try (PocketEncoders.Pair pair = PocketEncoders.load(dir)) {
      assertThat(pair.image().id()).isEqualTo("pocket-test");
      assertThat(pair.text().dim()).isEqualTo(16);
      float[][] img = pair.image().encode(images);
      float[][] txt = pair.text().encode(TEXTS);
      for (int i = 0; i < 3; i++) {
        for (int d = 0; d < 16; d++) {
          assertThat(img[i][d]).isEqualTo(imgBefore[i * 16 + d]);
        }
        assertThat(norm(img[i])).isCloseTo(1.0, Offset.offset(1e-5));
      }
      for (int i = 0; i < 2; i++) {
        for (int d = 0; d < 16; d++) {
          assertThat(txt[i][d]).isEqualTo(txtBefore[i * 16 + d]);
        }
        assertThat(norm(txt[i])).isCloseTo(1.0, Offset.offset(1e-5));
      }
      // different pictures, different embeddings (the net is not constant)
      assertThat(img[0]).isNotEqualTo(img[1]);
      // unknown words are fine (they are <unk>)
      assertThat(norm(pair.text().encode("zebra crossing"))).isCloseTo(1.0, Offset.offset(1e-5));
    }
  }

  @Test
  void a_saved_pocket_pair_loads_through_encoders_load_with_the_same_embeddings() throws Exception {
    PocketVocab vocab = PocketVocab.build(TEXTS);
    PocketConfig config = new PocketConfig("pocket-wired", 16, 32, new int[] {8, 16}, 8, 16);
    try (Model m = PocketEncoders.newModel(config, vocab)) {
      PocketEncoders.save(dir, config, vocab, m);
    }
    List<BufferedImage> images = List.of(picture(Color.RED), picture(Color.GREEN));
    EncoderConfig read = EncoderConfig.read(dir);
    assertThat(read.format()).isEqualTo(EncoderConfig.Format.POCKET);
    assertThat(read.hasText()).isTrue();
    assertThat(read.image()).isNull();
    assertThat(read.tokenizer()).isEqualTo(dir.resolve("vocab.txt"));
    try (EncoderPair viaEncoders = Encoders.load(dir);
        PocketEncoders.Pair direct = PocketEncoders.load(dir);
        ImageEncoder imageOnly = Encoders.loadImage(dir);
        TextEncoder textOnly = Encoders.loadText(dir)) {
      assertThat(viaEncoders.image()).isInstanceOf(PocketEncoders.Image.class);
      assertThat(viaEncoders.text()).isInstanceOf(PocketEncoders.Text.class);
      assertThat(viaEncoders.id()).isEqualTo("pocket-wired");
      assertThat(viaEncoders.dim()).isEqualTo(16);
      float[][] img = direct.image().encode(images);
      float[][] txt = direct.text().encode(TEXTS);
      assertThat(viaEncoders.image().encode(images)).isDeepEqualTo(img);
      assertThat(imageOnly.encode(images)).isDeepEqualTo(img);
      assertThat(viaEncoders.text().encode(TEXTS)).isDeepEqualTo(txt);
      assertThat(textOnly.encode(TEXTS)).isDeepEqualTo(txt);
      assertThat(img[0]).hasSize(16).isNotEqualTo(img[1]);
    }
  }

  @Test
  void the_tokenizer_drops_tags_and_maps_unknown_words_to_unk() {
    PocketVocab vocab = PocketVocab.build(TEXTS);
    assertThat(PocketVocab.tokenize("#C C puts the Keys, on the shelf! #unsure"))
        .containsExactly("c", "puts", "the", "keys", "on", "the", "shelf");
    assertThat(vocab.words()).startsWith(PocketVocab.UNK).contains("keys", "where").doesNotContain("#c");
    float[] bag = vocab.bag("the keys zebra the", 16);
    assertThat(bag[vocab.id("the")]).isEqualTo(0.5f);
    assertThat(bag[vocab.id("keys")]).isEqualTo(0.25f);
    assertThat(bag[0]).isEqualTo(0.25f); // zebra
    assertThat(vocab.bag("the keys zebra", 2)[0]).isZero(); // context length 2 cuts zebra
  }

  @Test
  void a_folder_with_another_format_is_rejected() throws Exception {
    Files.writeString(dir.resolve("encoder.json"), "{\"id\":\"x\",\"format\":\"onnx\",\"dim\":4}");
    assertThatThrownBy(() -> PocketEncoders.load(dir)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("format 'onnx', expected 'pocket'");
    assertThatThrownBy(() -> PocketEncoders.load(dir.resolve("missing"))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no encoder.json");
  }

  static BufferedImage picture(Color c) {
    BufferedImage img = new BufferedImage(80, 60, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.GRAY);
    g.fillRect(0, 0, 80, 60);
    g.setColor(c);
    g.fillOval(20, 10, 30, 30);
    g.dispose();
    return img;
  }

  static double norm(float[] v) {
    double s = 0;
    for (float x : v) {
      s += x * x;
    }
    return Math.sqrt(s);
  }
}
