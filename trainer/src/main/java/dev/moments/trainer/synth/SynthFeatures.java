package dev.moments.trainer.synth;

import dev.moments.featurizer.store.FeatureManifest;
import dev.moments.featurizer.store.Npy;
import dev.moments.featurizer.store.TextEmbeddings;
import dev.moments.trainer.ego4d.Narrations;
import dev.moments.trainer.ego4d.NlqAnnotations;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;

/**
 * A synthetic dataset in the real Ego4D/CharadesEgo formats, for tests and smoke runs of the
 * trainer and eval (DESIGN §5). Deterministic by seed.
 *
 * <p>The world: 4 verbs x 12 objects x 6 places; the concept of an event (verb, object, place) is
 * {@code normalize(V[verb] + O[object] + 0.7 P[place])} from random unit vectors. Each video is a
 * sequence of events (duration 4-30 s, gaps 2-15 s); a frame's feature is {@code normalize(1.0 c +
 * 0.8 b_t + 0.6 n_t)} inside an event of concept c and {@code normalize(0.8 b_t + 0.6 n_t)} in a
 * gap, where {@code b_t} is a slowly drifting unit background and {@code n_t} fresh Gaussian noise
 * of unit expected norm. A text's embedding is {@code normalize(0.8 c + 0.6 R c + 0.3 n_text)} with
 * one fixed random signed permutation R for the whole dataset and a fixed noise vector per text:
 * text and frames share a direction (frame similarity finds events roughly) but are not the same
 * space (a model has to learn the map to beat it). A query or class text uses the partial concept
 * {@code normalize(V[verb] + O[object])}.
 *
 * <p>{@link Config#hard()} makes a harder world ({@link Difficulty#HARD}): objects come in
 * look-alike pairs (cosine about 0.8, so "the keys" also lights up where the knife was), the
 * background drifts three times as fast, frames carry more noise (0.9 instead of 0.6), and query
 * texts are noisier (text noise 0.6 instead of 0.3, and 30 % of the query's verb swapped for
 * another verb's vector). The manifest's encoder id ends in {@code -hard}.
 *
 * <p>Files under {@code out}: {@code features/{uid}.npy} + {@code features/manifest.json} (all
 * videos); {@code narration.json} (training videos only; one narration per event at its middle in
 * pass 1, {@code "#C C puts the keys on the shelf"}, a jittered copy of about half of them in pass
 * 2, and a few {@code "#unsure"} narrations that clean-up drops); {@code nlq_val.json} (held-out
 * videos only; one clip of up to 480 s per video, one query per event whose verb and object are
 * unique in the clip, e.g. {@code "Where did I put the keys?"} with that event's clip-relative
 * interval, plus one query per clip without a {@code query} text); {@code
 * CharadesEgo_v1_test.csv} + {@code Charades_v1_classes.txt} (held-out videos; 48 classes, one per
 * verb x object, {@code c000 Putting keys somewhere}); {@code text_embeddings.npz} covering every
 * narration, query and class text; {@code events.json}, the generated events per video.
 */
public final class SynthFeatures {
  static final String[] VERBS = {"put", "pick", "wash", "look"};
  static final String[] OBJECTS = {
    "keys", "knife", "cup", "phone", "wallet", "book", "bottle", "scissors", "plate", "towel",
    "remote", "glasses"
  };
  static final String[] PLACES = {"shelf", "table", "counter", "sink", "sofa", "desk"};

  /** Generation settings; {@link #defaults()} gives the command's defaults. */
  public record Config(int videos, int valVideos, double minutes, int dim, double fps, long seed, boolean hard) {
    /** A dataset at the default difficulty. */
    public Config(int videos, int valVideos, double minutes, int dim, double fps, long seed) {
      this(videos, valVideos, minutes, dim, fps, seed, false);
    }

    public Config {
      if (videos < 2) {
        throw new IllegalArgumentException("--videos must be at least 2 (training + held-out), got " + videos);
      }
      if (valVideos < 1 || valVideos >= videos) {
        throw new IllegalArgumentException(
            "--val-videos must be in [1, videos - 1] = [1, " + (videos - 1) + "], got " + valVideos);
      }
      if (!(minutes >= 0.5) || minutes > 600) {
        throw new IllegalArgumentException("--minutes must be in [0.5, 600], got " + minutes);
      }
      if (dim < 8) {
        throw new IllegalArgumentException("--dim must be at least 8, got " + dim);
      }
      if (!(fps > 0) || fps > 60) {
        throw new IllegalArgumentException("--fps must be in (0, 60], got " + fps);
      }
    }

    /** 8 videos (2 held out), 10 minutes each, 64-d features at 6 fps, seed 7. */
    public static Config defaults() {
      return new Config(8, 2, 10, 64, 6, 7);
    }

    /** A copy with another number of videos and the default held-out share (a quarter, >= 1). */
    public Config withVideos(int n) {
      return new Config(n, Math.max(1, n / 4), minutes, dim, fps, seed, hard);
    }

    /** A copy at the harder difficulty ({@link Difficulty#HARD}). */
    public Config withHard(boolean h) {
      return new Config(videos, valVideos, minutes, dim, fps, seed, h);
    }

    Difficulty difficulty() {
      return hard ? Difficulty.HARD : Difficulty.DEFAULT;
    }
  }

  /**
   * How hard the world is to search.
   *
   * @param lookAlike weight of an object's twin in its vector: objects come in pairs (keys and
   *     knife, cup and phone, ...), the second of a pair being {@code normalize(lookAlike o_first +
   *     sqrt(1 - lookAlike^2) r)}, so the pair's cosine is about {@code lookAlike}; 0 = unrelated
   * @param drift background drift per frame, in units of 1/sqrt(dim)
   * @param frameNoise weight of the fresh Gaussian noise of every frame
   * @param textNoise weight of a query text's own noise vector
   * @param verbMix share of a query text's verb replaced by another verb's vector (a vaguer
   *     question)
   */
  record Difficulty(double lookAlike, double drift, double frameNoise, double textNoise, double verbMix) {
    /** The generator as it always was. */
    static final Difficulty DEFAULT = new Difficulty(0, 0.05, 0.6, 0.3, 0);
    /** Look-alike object pairs (cosine 0.8), three times the drift, noisier frames and texts. */
    static final Difficulty HARD = new Difficulty(0.8, 0.15, 0.9, 0.6, 0.3);
  }

  /** One generated event, times in video seconds. */
  public record Event(double startSec, double endSec, String verb, String object, String place) {}

  /**
   * What was generated.
   *
   * @param encoderId the encoder id written to the manifest ({@code synth-d{dim}-s{seed}})
   * @param trainVideos uids whose narrations are in narration.json
   * @param valVideos uids of nlq_val.json and the CharadesEgo CSV
   * @param skippedQueries queries written without a {@code query} text
   */
  public record Summary(
      Path out, String encoderId, List<String> trainVideos, List<String> valVideos,
      int frames, int narrations, int queries, int skippedQueries, int classes, int texts) {}

  private SynthFeatures() {}

  /** The encoder id a synthetic dataset's manifest carries. */
  public static String encoderId(Config cfg) {
    return "synth-d" + cfg.dim() + "-s" + cfg.seed() + (cfg.hard() ? "-hard" : "");
  }

  /** Generates the dataset under {@code out} (created if needed; existing files replaced). */
  public static Summary generate(Path out, Config cfg) throws IOException {
    int d = cfg.dim();
    Random world = new Random(cfg.seed());
    float[][] verbs = randomUnit(world, VERBS.length, d);
    Difficulty diff = cfg.difficulty();
    float[][] objects = randomUnit(world, OBJECTS.length, d);
    if (diff.lookAlike() > 0) {
      double keep = Math.sqrt(1 - diff.lookAlike() * diff.lookAlike());
      for (int i = 1; i < objects.length; i += 2) {
        for (int j = 0; j < d; j++) {
          objects[i][j] = (float) (diff.lookAlike() * objects[i - 1][j] + keep * objects[i][j]);
        }
        normalize(objects[i]);
      }
    }
    float[][] places = randomUnit(world, PLACES.length, d);
    int[] perm = new int[d];
    float[] sign = new float[d];
    for (int i = 0; i < d; i++) {
      perm[i] = i;
      sign[i] = world.nextBoolean() ? 1f : -1f;
    }
    for (int i = d - 1; i > 0; i--) {
      int j = world.nextInt(i + 1);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    TextSpace texts = new TextSpace(perm, sign, cfg.seed(), diff.textNoise());

    Path featDir = out.resolve("features");
    Files.createDirectories(featDir);
    String encoderId = encoderId(cfg);
    FeatureManifest manifest = new FeatureManifest(encoderId, cfg.fps(), d, Map.of());
    int frames = (int) Math.round(cfg.minutes() * 60 * cfg.fps());
    double duration = frames / cfg.fps();

    List<String> train = new ArrayList<>();
    List<String> val = new ArrayList<>();
    Map<String, List<Event>> eventsByVideo = new LinkedHashMap<>();
    Map<String, Map<Narrations.Pass, List<Narrations.Raw>>> narrations = new TreeMap<>();
    List<NlqAnnotations.Clip> clips = new ArrayList<>();
    List<String[]> charadesRows = new ArrayList<>();
    int narrationCount = 0;
    int queryCount = 0;
    int skipped = 0;

    for (int v = 0; v < cfg.videos(); v++) {
      String uid = uuid(cfg.seed(), "video-" + v);
      boolean isVal = v >= cfg.videos() - cfg.valVideos();
      (isVal ? val : train).add(uid);
      Random r = new Random(cfg.seed() * 1_000_003L + v);
      List<Event> events = events(r, duration);
      eventsByVideo.put(uid, events);
      Npy.write(FeatureManifest.featureFile(featDir, uid),
          frames(r, events, frames, cfg.fps(), d, verbs, objects, places, diff));
      manifest = manifest.with(uid, new FeatureManifest.Video(frames, duration));

      if (!isVal) {
        List<Narrations.Raw> p1 = new ArrayList<>();
        List<Narrations.Raw> p2 = new ArrayList<>();
        for (Event e : events) {
          String text = narration(e);
          texts.add(Narrations.clean(text), concept(e, verbs, objects, places));
          double mid = (e.startSec() + e.endSec()) / 2;
          p1.add(new Narrations.Raw(round3(mid), text));
          narrationCount++;
          if (r.nextBoolean()) {
            double jitter = (r.nextDouble() - 0.5) * Math.min(2.0, e.endSec() - e.startSec());
            p2.add(new Narrations.Raw(round3(mid + jitter), text));
            narrationCount++;
          }
          if (r.nextInt(8) == 0) {
            p2.add(new Narrations.Raw(round3(e.endSec()), "#unsure"));
          }
        }
        narrations.put(uid, Map.of(Narrations.Pass.PASS_1, p1, Narrations.Pass.PASS_2, p2));
      } else {
        double clipLen = Math.min(480.0, duration);
        double clipStart = round3(r.nextDouble() * (duration - clipLen));
        double clipEnd = round3(clipStart + clipLen);
        Map<String, Integer> verbObjectCount = new TreeMap<>();
        for (Event e : events) {
          if (e.startSec() >= clipStart && e.endSec() <= clipEnd) {
            verbObjectCount.merge(e.verb() + "/" + e.object(), 1, Integer::sum);
          }
        }
        List<NlqAnnotations.LanguageQuery> lqs = new ArrayList<>();
        for (Event e : events) {
          if (e.startSec() >= clipStart && e.endSec() <= clipEnd
              && verbObjectCount.get(e.verb() + "/" + e.object()) == 1) {
            String q = query(e.verb(), e.object());
            texts.add(q, vague(partial(e.verb(), e.object(), verbs, objects), e.verb(), verbs, diff.verbMix()));
            lqs.add(new NlqAnnotations.LanguageQuery(round3(e.startSec() - clipStart),
                round3(e.endSec() - clipStart), q, template(e.verb())));
            queryCount++;
          }
        }
        // One deliberately incomplete query per clip (the real files have some): no "query".
        lqs.add(new NlqAnnotations.LanguageQuery(0.0, Math.min(5.0, clipLen), null,
            "Objects: Where is object X before / after event Y?"));
        skipped++;
        clips.add(new NlqAnnotations.Clip(uid, uuid(cfg.seed(), "clip-" + v), clipStart, clipEnd,
            List.of(new NlqAnnotations.Annotation(uuid(cfg.seed(), "annotation-" + v), lqs))));

        StringBuilder actions = new StringBuilder();
        for (Event e : events) {
          if (!actions.isEmpty()) {
            actions.append(';');
          }
          actions.append(String.format(Locale.ROOT, "c%03d %.2f %.2f",
              classIndex(e.verb(), e.object()), e.startSec(), e.endSec()));
        }
        charadesRows.add(new String[] {uid, "SYN" + v, "Kitchen", "6", "7", "Yes",
            "A person handles things around the house.", "keys;cup", "A person moves objects.",
            actions.toString(), String.format(Locale.ROOT, "%.2f", duration)});
      }
    }

    manifest.write(featDir);
    Narrations.write(out.resolve("narration.json"), narrations);
    NlqAnnotations.write(out.resolve("nlq_val.json"), "val", clips);

    List<String> classLines = new ArrayList<>();
    for (int vi = 0; vi < VERBS.length; vi++) {
      for (int oi = 0; oi < OBJECTS.length; oi++) {
        String name = className(VERBS[vi], OBJECTS[oi]);
        classLines.add(String.format(Locale.ROOT, "c%03d %s", classIndex(VERBS[vi], OBJECTS[oi]), name));
        texts.add(name, partial(VERBS[vi], OBJECTS[oi], verbs, objects));
      }
    }
    Files.write(out.resolve("Charades_v1_classes.txt"), classLines, StandardCharsets.UTF_8);
    try (Writer w = Files.newBufferedWriter(out.resolve("CharadesEgo_v1_test.csv"), StandardCharsets.UTF_8)) {
      w.write("id,subject,scene,quality,relevance,verified,script,objects,descriptions,actions,length\n");
      for (String[] row : charadesRows) {
        List<String> cells = new ArrayList<>();
        for (String c : row) {
          cells.add(csv(c));
        }
        w.write(String.join(",", cells));
        w.write('\n');
      }
    }
    TextEmbeddings.write(out.resolve("text_embeddings.npz"), texts.table);
    writeEvents(out.resolve("events.json"), eventsByVideo);

    return new Summary(out, encoderId, List.copyOf(train), List.copyOf(val), frames, narrationCount,
        queryCount, skipped, VERBS.length * OBJECTS.length, texts.table.size());
  }

  // --- texts ---

  static String narration(Event e) {
    return "#C C " + switch (e.verb()) {
      case "put" -> "puts the " + e.object() + " on the " + e.place();
      case "pick" -> "picks up the " + e.object() + " from the " + e.place();
      case "wash" -> "washes the " + e.object() + " at the " + e.place();
      default -> "looks at the " + e.object() + " near the " + e.place();
    };
  }

  static String query(String verb, String object) {
    return switch (verb) {
      case "put" -> "Where did I put the " + object + "?";
      case "pick" -> "When did I pick up the " + object + "?";
      case "wash" -> "When did I wash the " + object + "?";
      default -> "Where did I see the " + object + "?";
    };
  }

  private static String template(String verb) {
    return verb.equals("put") || verb.equals("look")
        ? "Objects: Where is object X?"
        : "Objects: When did I do X with object Y?";
  }

  static String className(String verb, String object) {
    return switch (verb) {
      case "put" -> "Putting " + object + " somewhere";
      case "pick" -> "Picking up " + object;
      case "wash" -> "Washing " + object;
      default -> "Looking at " + object;
    };
  }

  static int classIndex(String verb, String object) {
    return indexOf(VERBS, verb) * OBJECTS.length + indexOf(OBJECTS, object);
  }

  private static int indexOf(String[] a, String s) {
    for (int i = 0; i < a.length; i++) {
      if (a[i].equals(s)) {
        return i;
      }
    }
    throw new IllegalArgumentException("unknown word " + s);
  }

  /** Text vectors: {@code normalize(0.8 c + 0.6 R c + 0.3 n_text)}, noise seeded by the text. */
  private static final class TextSpace {
    final Map<String, float[]> table = new TreeMap<>();
    final int[] perm;
    final float[] sign;
    final long seed;
    final double noiseWeight;

    TextSpace(int[] perm, float[] sign, long seed, double noiseWeight) {
      this.perm = perm;
      this.sign = sign;
      this.seed = seed;
      this.noiseWeight = noiseWeight;
    }

    void add(String text, float[] concept) {
      if (table.containsKey(text)) {
        return;
      }
      Random r = new Random(seed ^ ((long) text.hashCode() * 0x9E3779B97F4A7C15L));
      int d = concept.length;
      float[] v = new float[d];
      double s = 1.0 / Math.sqrt(d);
      for (int i = 0; i < d; i++) {
        v[i] = (float) (0.8 * concept[i] + 0.6 * sign[i] * concept[perm[i]] + noiseWeight * s * r.nextGaussian());
      }
      table.put(text, normalize(v));
    }
  }

  // --- vectors ---

  static float[] concept(Event e, float[][] verbs, float[][] objects, float[][] places) {
    float[] v = verbs[indexOf(VERBS, e.verb())];
    float[] o = objects[indexOf(OBJECTS, e.object())];
    float[] p = places[indexOf(PLACES, e.place())];
    float[] c = new float[v.length];
    for (int i = 0; i < c.length; i++) {
      c[i] = v[i] + o[i] + 0.7f * p[i];
    }
    return normalize(c);
  }

  private static float[] partial(String verb, String object, float[][] verbs, float[][] objects) {
    float[] v = verbs[indexOf(VERBS, verb)];
    float[] o = objects[indexOf(OBJECTS, object)];
    float[] c = new float[v.length];
    for (int i = 0; i < c.length; i++) {
      c[i] = v[i] + o[i];
    }
    return normalize(c);
  }

  /** {@code concept} with {@code mix} of its verb's vector swapped for the next verb's (0: unchanged). */
  private static float[] vague(float[] concept, String verb, float[][] verbs, double mix) {
    if (mix == 0) {
      return concept;
    }
    int vi = indexOf(VERBS, verb);
    float[] v = verbs[vi];
    float[] other = verbs[(vi + 1) % verbs.length];
    float[] out = concept.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] += (float) (mix * (other[i] - v[i]));
    }
    return normalize(out);
  }

  private static List<Event> events(Random r, double duration) {
    List<Event> out = new ArrayList<>();
    double t = 1 + r.nextDouble() * 10;
    while (true) {
      double len = 4 + r.nextDouble() * 26;
      if (t + len > duration - 0.5) {
        if (!out.isEmpty() || duration - 0.5 - t < 2) {
          break;
        }
        len = duration - 0.5 - t; // a short video still gets one event
      }
      out.add(new Event(round3(t), round3(t + len), VERBS[r.nextInt(VERBS.length)],
          OBJECTS[r.nextInt(OBJECTS.length)], PLACES[r.nextInt(PLACES.length)]));
      t += len + 2 + r.nextDouble() * 13;
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("video of " + duration + " s is too short for an event");
    }
    return out;
  }

  private static float[][] frames(Random r, List<Event> events, int frames, double fps, int d,
      float[][] verbs, float[][] objects, float[][] places, Difficulty diff) {
    float[][] out = new float[frames][];
    float[] background = randomUnit(r, 1, d)[0];
    double noise = 1.0 / Math.sqrt(d);
    int ei = 0;
    float[] concept = null;
    for (int t = 0; t < frames; t++) {
      double sec = t / fps;
      while (ei < events.size() && events.get(ei).endSec() <= sec) {
        ei++;
        concept = null;
      }
      boolean inside = ei < events.size() && events.get(ei).startSec() <= sec;
      if (inside && concept == null) {
        concept = concept(events.get(ei), verbs, objects, places);
      }
      // the background drifts: a small random step per frame, renormalized
      for (int i = 0; i < d; i++) {
        background[i] += (float) (diff.drift() * noise * r.nextGaussian());
      }
      normalize(background);
      float[] f = new float[d];
      for (int i = 0; i < d; i++) {
        f[i] = (float) (0.8 * background[i] + diff.frameNoise() * noise * r.nextGaussian()
            + (inside ? concept[i] : 0f));
      }
      out[t] = normalize(f);
    }
    return out;
  }

  private static float[][] randomUnit(Random r, int n, int d) {
    float[][] out = new float[n][d];
    for (float[] v : out) {
      for (int i = 0; i < d; i++) {
        v[i] = (float) r.nextGaussian();
      }
      normalize(v);
    }
    return out;
  }

  static float[] normalize(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    float inv = (float) (1.0 / Math.sqrt(Math.max(s, 1e-24)));
    for (int i = 0; i < v.length; i++) {
      v[i] *= inv;
    }
    return v;
  }

  // --- small helpers ---

  private static double round3(double x) {
    return Math.round(x * 1000.0) / 1000.0;
  }

  private static String uuid(long seed, String what) {
    return UUID.nameUUIDFromBytes(("moments-synth-" + seed + "-" + what).getBytes(StandardCharsets.UTF_8))
        .toString();
  }

  private static String csv(String cell) {
    if (cell.contains(",") || cell.contains("\"") || cell.contains("\n")) {
      return "\"" + cell.replace("\"", "\"\"") + "\"";
    }
    return cell;
  }

  private static void writeEvents(Path file, Map<String, List<Event>> events) throws IOException {
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var root = json.createObjectNode();
    for (var e : events.entrySet()) {
      var arr = root.putArray(e.getKey());
      for (Event ev : e.getValue()) {
        arr.addObject().put("start_sec", ev.startSec()).put("end_sec", ev.endSec())
            .put("verb", ev.verb()).put("object", ev.object()).put("place", ev.place())
            .put("narration", Narrations.clean(narration(ev)));
      }
    }
    json.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
  }

  /** Reads {@code events.json} back (used by tests and the trainer's checks). */
  public static Map<String, List<Event>> readEvents(Path out) throws IOException {
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var root = json.readTree(out.resolve("events.json").toFile());
    Map<String, List<Event>> m = new LinkedHashMap<>();
    for (var e : root.properties()) {
      List<Event> list = new ArrayList<>();
      for (var n : e.getValue()) {
        list.add(new Event(n.get("start_sec").asDouble(), n.get("end_sec").asDouble(),
            n.get("verb").asText(), n.get("object").asText(), n.get("place").asText()));
      }
      m.put(e.getKey(), List.copyOf(list));
    }
    return m;
  }
}
