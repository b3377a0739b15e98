package dev.moments.api.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Bearer tokens read from a text file, one per line: {@code TOKEN STREAM[,STREAM...]} or {@code
 * TOKEN *}; blank lines and lines starting with {@code #} are ignored. The file is re-read on the
 * first lookup after its modification time or size changes, so tokens can be added or revoked
 * without a restart.
 *
 * <p>NOTE: when a changed file fails to parse, the previous tokens stay in force and the error is
 * kept in {@link #lastError()} (a half-written file must not lock everybody out or let anybody
 * in); the file must parse when the server starts.
 */
public final class TokenFile implements Tokens {
  private final Path file;
  private volatile Snapshot snapshot;
  private volatile String lastError;

  private record Snapshot(FileTime mtime, long size, Map<String, Access> tokens) {}

  private TokenFile(Path file, Snapshot first) {
    this.file = file;
    this.snapshot = first;
  }

  /**
   * Reads the token file.
   *
   * @throws IllegalArgumentException when the file is missing, unreadable or has a bad line
   */
  public static TokenFile load(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("token file " + file + " does not exist");
    }
    return new TokenFile(file, read(file));
  }

  /**
   * Parses token file text.
   *
   * @throws IllegalArgumentException naming the line when a line is not {@code TOKEN STREAMS}
   */
  public static Map<String, Access> parse(String text, String source) {
    Map<String, Access> tokens = new HashMap<>();
    List<String> lines = text.lines().toList();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.split("\\s+", 2);
      if (parts.length != 2 || parts[1].isBlank()) {
        throw new IllegalArgumentException(source + " line " + (i + 1)
            + ": expected 'TOKEN STREAM[,STREAM...]' or 'TOKEN *', got '" + line + "'");
      }
      String rest = parts[1].strip();
      Access access;
      if (rest.equals("*")) {
        access = Access.all();
      } else {
        List<String> streams = Arrays.stream(rest.split(",")).map(String::strip).toList();
        for (String s : streams) {
          if (s.isEmpty() || s.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException(source + " line " + (i + 1)
                + ": bad stream list '" + rest + "' (comma-separated stream ids, or *)");
          }
        }
        access = Access.only(streams);
      }
      if (tokens.put(parts[0], access) != null) {
        throw new IllegalArgumentException(source + " line " + (i + 1) + ": token listed twice");
      }
    }
    return Map.copyOf(tokens);
  }

  @Override
  public Optional<Access> lookup(String token) {
    if (token == null || token.isEmpty()) {
      return Optional.empty();
    }
    return Optional.ofNullable(current().tokens().get(token));
  }

  @Override
  public boolean required() {
    return true;
  }

  /** How many tokens are in force now. */
  public int size() {
    return current().tokens().size();
  }

  /** The error of the last failed re-read, or null when the file in force parsed. */
  public String lastError() {
    return lastError;
  }

  private Snapshot current() {
    Snapshot s = snapshot;
    try {
      FileTime mtime = Files.getLastModifiedTime(file);
      long size = Files.size(file);
      if (mtime.equals(s.mtime()) && size == s.size()) {
        return s;
      }
      synchronized (this) {
        if (snapshot != s) {
          return snapshot;
        }
        snapshot = read(file);
        lastError = null;
        return snapshot;
      }
    } catch (IllegalArgumentException | IOException | UncheckedIOException e) {
      lastError = e.getMessage();
      return s;
    }
  }

  private static Snapshot read(Path file) {
    try {
      FileTime mtime = Files.getLastModifiedTime(file);
      long size = Files.size(file);
      String text = Files.readString(file, StandardCharsets.UTF_8);
      return new Snapshot(mtime, size, parse(text, file.toString()));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read token file " + file + ": " + e.getMessage(), e);
    }
  }
}
