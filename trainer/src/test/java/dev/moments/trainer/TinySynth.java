package dev.moments.trainer;

import dev.moments.featurizer.store.FeatureManifest;
import dev.moments.featurizer.store.Npy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A small in-test Ego4D-like dataset: K concepts, each a random unit frame-feature direction and
 * a random unit text embedding; videos are sequences of events (6-14 s, one concept each) whose
 * frames are noisy copies of the concept's direction, narrated once at a jittered time inside the
 * event with the text {@code "cK"}.
 */
final class TinySynth {
  record Event(String video, double start, double end, int concept) {}

  final Map<String, List<TimedText>> narrations = new LinkedHashMap<>();
  final Map<String, float[]> texts = new HashMap<>();
  final List<Event> events = new ArrayList<>();
  final Map<String, Integer> frames = new LinkedHashMap<>();

  static TinySynth write(Path dir, String prefix, int videos, double seconds, double fps, int c, int textDim,
      int concepts, long seed) throws IOException {
    TinySynth s = new TinySynth();
    Random conceptRnd = new Random(1234); // the concepts are the same in every split
    float[][] feat = new float[concepts][];
    for (int k = 0; k < concepts; k++) {
      feat[k] = unit(conceptRnd, c);
      s.texts.put("c" + k, unit(conceptRnd, textDim));
    }
    Random rnd = new Random(seed);
    FeatureManifest manifest = new FeatureManifest("tiny-synth", fps, c, Map.of());
    try {
      manifest = FeatureManifest.read(dir);
    } catch (IllegalArgumentException e) {
      // first split in this directory
    }
    for (int v = 0; v < videos; v++) {
      String uid = prefix + v;
      int t = (int) Math.round(seconds * fps);
      float[][] rows = new float[t][];
      List<TimedText> narr = new ArrayList<>();
      double at = 0;
      while (at < seconds) {
        double dur = 6 + rnd.nextDouble() * 8;
        double end = Math.min(seconds, at + dur);
        int k = rnd.nextInt(concepts);
        s.events.add(new Event(uid, at, end, k));
        narr.add(new TimedText(at + (end - at) * (0.3 + 0.4 * rnd.nextDouble()), "c" + k));
        for (int f = (int) Math.round(at * fps); f < Math.min(t, Math.round(end * fps)); f++) {
          float[] row = new float[c];
          for (int i = 0; i < c; i++) {
            row[i] = feat[k][i] + (float) (rnd.nextGaussian() * 0.6 / Math.sqrt(c));
          }
          rows[f] = normalize(row);
        }
        at = end;
      }
      Npy.write(FeatureManifest.featureFile(dir, uid), rows);
      manifest = manifest.with(uid, new FeatureManifest.Video(t, t / fps));
      s.narrations.put(uid, narr);
      s.frames.put(uid, t);
    }
    manifest.write(dir);
    return s;
  }

  static float[] unit(Random r, int d) {
    float[] v = new float[d];
    for (int i = 0; i < d; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return normalize(v);
  }

  static float[] normalize(float[] v) {
    double n = 0;
    for (float x : v) {
      n += x * x;
    }
    for (int i = 0; i < v.length; i++) {
      v[i] /= (float) Math.sqrt(n);
    }
    return v;
  }
}
