package dev.moments.featurizer.encoder;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Turns texts into the fixed-length int64 token rows a CLIP text tower takes, with a Hugging Face
 * {@code tokenizer.json} read from a local file (DJL's tokenizers binding; its native library
 * comes from the jar, nothing is downloaded).
 *
 * <p>The tokenizer file's own normalizer, pre-tokenizer, model and post-processor run as written
 * (for CLIP: lower-casing, byte-level BPE, {@code <|startoftext|> ... <|endoftext|>}). Then CLIP's
 * convention: a row longer than {@code context_length} keeps its first {@code context_length - 1}
 * ids and ends with the post-processor's last id (EOT); shorter rows are padded with
 * {@code pad_id}. Thread-safe.
 */
public final class ClipTokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final int contextLength;
  private final long padId;

  /**
   * Loads {@code tokenizerJson}.
   *
   * @throws IllegalArgumentException when the file is missing or not a tokenizers JSON
   */
  public ClipTokenizer(Path tokenizerJson, int contextLength, long padId) {
    if (tokenizerJson == null || !Files.isRegularFile(tokenizerJson)) {
      throw new IllegalArgumentException("tokenizer file does not exist: " + tokenizerJson);
    }
    if (contextLength < 2) {
      throw new IllegalArgumentException("context length must be >= 2, got " + contextLength);
    }
    this.contextLength = contextLength;
    this.padId = padId;
    try {
      this.tokenizer =
          HuggingFaceTokenizer.builder()
              .optTokenizerPath(tokenizerJson)
              .optAddSpecialTokens(true)
              .optTruncation(false)
              .optPadding(false)
              .build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read tokenizer " + tokenizerJson, e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          tokenizerJson + " is not a Hugging Face tokenizer.json: " + e.getMessage(), e);
    }
  }

  public int contextLength() {
    return contextLength;
  }

  /** The padded/truncated ids of one text, length {@code context_length}. */
  public long[] ids(String text) {
    if (text == null) {
      throw new IllegalArgumentException("text is null");
    }
    long[] row = new long[contextLength];
    fit(tokenizer.encode(text, true, false).getIds(), row, 0);
    return row;
  }

  /**
   * A tokenized batch, row-major {@code [n, context_length]}: the ids and the attention mask
   * (1 for the tokens the tokenizer produced, 0 for padding), for ONNX towers that take one.
   */
  public record Batch(int size, int contextLength, long[] ids, long[] mask) {}

  /** Tokenizes a batch. */
  public Batch batch(List<String> texts) {
    long[] ids = new long[texts.size() * contextLength];
    long[] mask = new long[ids.length];
    for (int i = 0; i < texts.size(); i++) {
      String text = texts.get(i);
      if (text == null) {
        throw new IllegalArgumentException("text " + i + " is null");
      }
      long[] raw = tokenizer.encode(text, true, false).getIds();
      fit(raw, ids, i * contextLength);
      java.util.Arrays.fill(mask, i * contextLength, i * contextLength + Math.min(raw.length, contextLength), 1L);
    }
    return new Batch(texts.size(), contextLength, ids, mask);
  }

  private void fit(long[] raw, long[] out, int offset) {
    java.util.Arrays.fill(out, offset, offset + contextLength, padId);
    if (raw.length <= contextLength) {
      System.arraycopy(raw, 0, out, offset, raw.length);
    } else {
      System.arraycopy(raw, 0, out, offset, contextLength - 1);
      out[offset + contextLength - 1] = raw[raw.length - 1];
    }
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
