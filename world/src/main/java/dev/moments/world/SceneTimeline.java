package dev.moments.world;

import dev.moments.world.Scene.CameraKey;
import dev.moments.world.Scene.Kind;
import dev.moments.world.Scene.Placement;
import dev.moments.world.Scene.SceneEvent;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates a {@link Scene} at any time: the camera (eased between keyframes) and the world
 * state (where items rest, what is held, whether the drawer is open, which action is under way).
 * The renderer, the annotation writer and tests all read the scene through this one class.
 */
public final class SceneTimeline {
  private final Scene scene;

  public SceneTimeline(Scene scene) {
    this.scene = scene;
  }

  public Scene scene() {
    return scene;
  }

  /** The camera at {@code t}: {@code {yaw, zoom}}. */
  public double[] camera(double t) {
    return cameraAt(scene.camera(), t);
  }

  /** Camera yaw/zoom at {@code t} on a keyframe list, smoothstep-eased; clamped at both ends. */
  static double[] cameraAt(List<CameraKey> keys, double t) {
    if (keys.isEmpty()) {
      throw new IllegalStateException("scene has no camera keyframes");
    }
    CameraKey first = keys.get(0);
    if (t <= first.t()) {
      return new double[] {first.yaw(), first.zoom()};
    }
    int lo = 0;
    int hi = keys.size() - 1;
    if (t >= keys.get(hi).t()) {
      CameraKey last = keys.get(hi);
      return new double[] {last.yaw(), last.zoom()};
    }
    // binary search for the segment [lo, lo+1] holding t
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      if (keys.get(mid).t() <= t) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    CameraKey a = keys.get(lo);
    CameraKey b = keys.get(lo + 1);
    double u = (t - a.t()) / (b.t() - a.t());
    double s = u * u * (3 - 2 * u);
    return new double[] {a.yaw() + (b.yaw() - a.yaw()) * s, a.zoom() + (b.zoom() - a.zoom()) * s};
  }

  /**
   * The world at time {@code t}.
   *
   * @param resting where each resting item is (held items are absent)
   * @param held the item in the wearer's hand, or null
   * @param drawerOpen whether the drawer is open
   * @param action the pick-up/put-down/open/close under way at {@code t}, or null
   * @param progress how far {@code action} is, 0..1 over [start, end]
   */
  public record State(
      Map<Item, Placement> resting, Item held, boolean drawerOpen, SceneEvent action, double progress) {}

  /** The world state at {@code t}: every event with {@code timeSec <= t} applied to the start. */
  public State stateAt(double t) {
    Map<Item, Placement> resting = new EnumMap<>(Item.class);
    for (Placement p : scene.initial()) {
      resting.put(p.item(), p);
    }
    Item held = null;
    boolean open = false;
    SceneEvent action = null;
    double progress = 0;
    for (SceneEvent e : scene.events()) {
      if (e.kind() == Kind.WALK || e.kind() == Kind.LOOK) {
        continue;
      }
      if (e.startSec() <= t && t < e.endSec()) {
        action = e;
        progress = (t - e.startSec()) / (e.endSec() - e.startSec());
      }
      if (e.timeSec() > t) {
        continue;
      }
      switch (e.kind()) {
        case PICK_UP -> {
          resting.remove(e.item());
          held = e.item();
        }
        case PUT_DOWN -> {
          resting.put(e.item(), new Placement(e.item(), e.place(), e.slot()));
          held = null;
        }
        case OPEN -> open = true;
        case CLOSE -> open = false;
        default -> throw new IllegalStateException("unexpected event kind " + e.kind());
      }
    }
    return new State(Collections.unmodifiableMap(resting), held, open, action, progress);
  }
}
