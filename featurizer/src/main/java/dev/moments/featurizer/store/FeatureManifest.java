package dev.moments.featurizer.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code manifest.json} of a frame-feature directory (DESIGN §5): one {@code {video_uid}.npy}
 * per video plus this file.
 *
 * <pre>
 * {"encoder_id": "moments-tiny-v1", "fps": 6.0, "dim": 512,
 *  "videos": {"uid-1": {"frames": 3600, "duration_sec": 600.0}, ...}}
 * </pre>
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record FeatureManifest(
    @com.fasterxml.jackson.annotation.JsonProperty("encoder_id") String encoderId,
    @com.fasterxml.jackson.annotation.JsonProperty("fps") double fps,
    @com.fasterxml.jackson.annotation.JsonProperty("dim") int dim,
    @com.fasterxml.jackson.annotation.JsonProperty("videos") Map<String, Video> videos) {

  public static final String FILE_NAME = "manifest.json";
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** One video's entry. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Video(
      @com.fasterxml.jackson.annotation.JsonProperty("frames") int frames,
      @com.fasterxml.jackson.annotation.JsonProperty("duration_sec") double durationSec) {}

  public FeatureManifest {
    videos = videos == null ? new TreeMap<>() : new TreeMap<>(videos);
  }

  /** The .npy file of a video in {@code dir}. */
  public static Path featureFile(Path dir, String videoUid) {
    return dir.resolve(videoUid + ".npy");
  }

  /**
   * Reads {@code dir/manifest.json}.
   *
   * @throws IllegalArgumentException when it is missing or malformed
   */
  public static FeatureManifest read(Path dir) throws IOException {
    Path f = dir.resolve(FILE_NAME);
    try {
      FeatureManifest m = JSON.readValue(f.toFile(), FeatureManifest.class);
      if (m.encoderId() == null || m.fps() <= 0 || m.dim() <= 0) {
        throw new IllegalArgumentException(f + ": needs encoder_id, fps > 0 and dim > 0");
      }
      return m;
    } catch (NoSuchFileException | java.io.FileNotFoundException e) {
      throw new IllegalArgumentException("no " + FILE_NAME + " in feature directory " + dir, e);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IllegalArgumentException(f + " is not a valid feature manifest: " + e.getOriginalMessage(), e);
    }
  }

  /** Writes {@code dir/manifest.json} atomically. */
  public void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path tmp = dir.resolve(FILE_NAME + ".tmp");
    JSON.writeValue(tmp.toFile(), this);
    Files.move(tmp, dir.resolve(FILE_NAME), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** A copy with one more (or a replaced) video entry. */
  public FeatureManifest with(String videoUid, Video video) {
    Map<String, Video> v = new TreeMap<>(videos);
    v.put(videoUid, video);
    return new FeatureManifest(encoderId, fps, dim, v);
  }
}
