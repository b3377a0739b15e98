package dev.moments.featurizer.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.ingest.FfmpegTools;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench featurize --pipeline}: the DJL side computes what the featurizer computes from the
 * same JPEG bytes, and the PyTorch reference script (PIL decode, torch-op preprocessing) embeds the
 * same JPEGs to the same vectors, so both sides do the same work.
 */
class FeaturizeBenchPipelineTest {
  private static final Path PYTHON = Path.of("/usr/bin/python3");

  private static List<byte[]> jpegs(Path dir, int n) throws Exception {
    FfmpegTools.run(dir, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=6,noise=alls=12:allf=t", "-frames:v",
        Integer.toString(n), "-q:v", "3", "frame_%03d.jpg");
    List<byte[]> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.sorted().toList()) {
        out.add(Files.readAllBytes(p));
      }
    }
    assertThat(out).hasSize(n);
    return out;
  }

  @Test
  void the_pipeline_embeds_jpegs_as_the_encoder_embeds_their_decoded_images(@TempDir Path tmp) throws Exception {
    List<byte[]> data = jpegs(tmp, 3);
    try (FeaturizeBench.Pipeline p = new FeaturizeBench.Pipeline(TestModels.torchscriptDir());
        ImageEncoder enc = Encoders.loadImage(TestModels.torchscriptDir())) {
      long[] ns = new long[3];
      // batch of 4 from a set of 3: the first JPEG again at the end (cycled, as the reference)
      float[][] got = p.run(data, 0, 4, ns);
      List<BufferedImage> imgs = new ArrayList<>();
      for (int i : new int[] {0, 1, 2, 0}) {
        imgs.add(ImageIO.read(new ByteArrayInputStream(data.get(i))));
      }
      float[][] want = enc.encode(imgs);
      assertThat(got).hasDimensions(4, 64);
      for (int i = 0; i < 4; i++) {
        assertThat(got[i]).containsExactly(want[i]);
      }
      assertThat(ns[0]).isPositive();
      assertThat(ns[1]).isPositive();
      assertThat(ns[2]).isPositive();
      FeaturizeBench.PipelineRow row = p.time(data, 2, 4, 1);
      assertThat(row.images()).isEqualTo(4);
      assertThat(row.batch()).isEqualTo(2);
    }
  }

  @Test
  void the_reference_script_embeds_the_same_jpegs_to_the_same_vectors(@TempDir Path tmp) throws Exception {
    assumeTrue(Files.isExecutable(PYTHON), "needs /usr/bin/python3 with torch and PIL");
    Process probe = new ProcessBuilder(PYTHON.toString(), "-c", "import torch, PIL").redirectErrorStream(true).start();
    probe.getInputStream().readAllBytes();
    assumeTrue(probe.waitFor() == 0, "needs /usr/bin/python3 with torch and PIL (python3-torch, python3-pil)");
    Path dir = Files.createDirectories(tmp.resolve("jpegs"));
    List<byte[]> data = jpegs(dir, 4);
    Path script = Path.of("").toAbsolutePath();
    while (!Files.isRegularFile(script.resolve("bench/featurize_reference.py"))) {
      script = script.getParent();
    }
    Path json = tmp.resolve("ref.json");
    EncoderConfig config = EncoderConfig.read(TestModels.torchscriptDir());
    Process p = new ProcessBuilder(PYTHON.toString(), script.resolve("bench/featurize_reference.py").toString(),
        "--model", config.image().toString(), "--size", Integer.toString(config.imageSize()), "--images", "4",
        "--batches", "4", "--threads", "1", "--jpegs", dir.toString(), "--warmup", "0",
        "--embeddings-out", json.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    JsonNode ref = new ObjectMapper().readTree(json.toFile());
    try (FeaturizeBench.Pipeline pipe = new FeaturizeBench.Pipeline(TestModels.torchscriptDir())) {
      float[][] ours = pipe.run(data, 0, 4, null);
      assertThat(ref.size()).isEqualTo(4);
      for (int i = 0; i < 4; i++) {
        double dot = 0;
        double maxDiff = 0;
        for (int d = 0; d < ours[i].length; d++) {
          double r = ref.get(i).get(d).asDouble();
          dot += r * ours[i][d];
          maxDiff = Math.max(maxDiff, Math.abs(r - ours[i][d]));
        }
        // PIL vs ImageIO (libjpeg IDCT and chroma upsampling) and torch's antialiased bicubic vs
        // the PIL-style one differ by a few 8-bit steps per pixel: the same image, not bit-equal
        assertThat(dot).as("cosine of image %d (max component diff %.4f)", i, maxDiff).isGreaterThan(0.995);
      }
    }
  }
}
