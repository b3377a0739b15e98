package dev.moments.featurizer.pocket;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The word-level tokenizer of the pocket text tower: lower-case words of letters and digits,
 * Ego4D tags ({@code #C}, {@code #unsure}) dropped, every word outside the vocabulary mapped to
 * {@code <unk>} (id 0). A text becomes a bag-of-words vector whose entries sum to 1, so that
 * multiplying it with the embedding table is exactly mean pooling of the word embeddings.
 */
public final class PocketVocab {
  public static final String UNK = "<unk>";

  private final List<String> words;
  private final Map<String, Integer> ids = new HashMap<>();

  private PocketVocab(List<String> words) {
    if (words.isEmpty() || !words.get(0).equals(UNK)) {
      throw new IllegalStateException("a pocket vocabulary starts with " + UNK);
    }
    this.words = List.copyOf(words);
    for (int i = 0; i < this.words.size(); i++) {
      if (ids.put(this.words.get(i), i) != null) {
        throw new IllegalStateException("duplicate word in vocabulary: " + this.words.get(i));
      }
    }
  }

  /** A vocabulary of every word of {@code texts}, sorted, after {@code <unk>}. */
  public static PocketVocab build(Collection<String> texts) {
    TreeSet<String> all = new TreeSet<>();
    for (String t : texts) {
      all.addAll(tokenize(t));
    }
    List<String> words = new ArrayList<>();
    words.add(UNK);
    words.addAll(all);
    return new PocketVocab(words);
  }

  /** The words of {@code text}: lower case, split on anything but letters and digits, tags dropped. */
  public static List<String> tokenize(String text) {
    List<String> out = new ArrayList<>();
    for (String raw : text.toLowerCase(Locale.ROOT).split("\\s+")) {
      if (raw.startsWith("#")) {
        continue; // #c, #o, #unsure, #summary
      }
      for (String w : raw.split("[^\\p{L}\\p{N}]+")) {
        if (!w.isEmpty()) {
          out.add(w);
        }
      }
    }
    return out;
  }

  public int size() {
    return words.size();
  }

  public List<String> words() {
    return words;
  }

  /** The id of {@code word} (already lower case), or 0 for {@code <unk>}. */
  public int id(String word) {
    return ids.getOrDefault(word, 0);
  }

  /**
   * The bag-of-words vector of {@code text} over its first {@code contextLength} words (entries
   * sum to 1; an empty text is all {@code <unk>}).
   */
  public float[] bag(String text, int contextLength) {
    float[] v = new float[words.size()];
    List<String> toks = tokenize(text);
    int n = Math.min(toks.size(), contextLength);
    if (n == 0) {
      v[0] = 1;
      return v;
    }
    for (int i = 0; i < n; i++) {
      v[id(toks.get(i))] += 1f / n;
    }
    return v;
  }

  public void write(Path file) throws IOException {
    Files.write(file, words, StandardCharsets.UTF_8);
  }

  /**
   * Reads a vocabulary written by {@link #write}.
   *
   * @throws IllegalArgumentException when the file is missing
   */
  public static PocketVocab read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("no vocabulary file " + file);
    }
    return new PocketVocab(Files.readAllLines(file, StandardCharsets.UTF_8));
  }
}
