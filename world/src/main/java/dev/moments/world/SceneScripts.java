package dev.moments.world;

import dev.moments.world.Scene.CameraKey;
import dev.moments.world.Scene.Kind;
import dev.moments.world.Scene.PlaceAt;
import dev.moments.world.Scene.Placement;
import dev.moments.world.Scene.SceneEvent;
import dev.moments.world.Scene.SceneQuery;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes the event script of one synthetic video, deterministically from a seed: a room of six
 * places (always with the drawer) around the wearer, five items resting in them, and over the
 * video's duration alternating long idle stretches (looking around) with episodes in which the
 * wearer walks to an item, picks it up (opening the drawer first when it is in there), walks to
 * another place and puts it down. Every action is narrated in Ego4D style at its contact time.
 */
public final class SceneScripts {
  /** Places per room. */
  public static final int PLACES_PER_ROOM = 6;

  /** Items per room. */
  public static final int ITEMS_PER_ROOM = 5;

  /** Ego4D NLQ template of the generated queries. */
  public static final String PUT_TEMPLATE = "Objects: Where did I put object X?";

  private static final double PICK_CONTACT = 1.2;
  private static final double PICK_LENGTH = 2.4;
  private static final double DOOR_CONTACT = 0.8;
  private static final double DOOR_LENGTH = 1.6;
  private static final double PAN_DEG_PER_SEC = 70;
  private static final double LOOK_DEG_PER_SEC = 35;
  private static final double ACTION_ZOOM = 1.25;

  private final String videoUid;
  private final Random rng;
  private final List<CameraKey> keys = new ArrayList<>();
  private final List<SceneEvent> events = new ArrayList<>();
  private final List<double[]> idleStretches = new ArrayList<>();
  private final Map<Item, Placement> resting = new EnumMap<>(Item.class);
  private final Map<Place, Double> yaws = new EnumMap<>(Place.class);
  private double t;
  private double yaw;
  private boolean drawerOpen;

  private SceneScripts(String videoUid, long seed) {
    this.videoUid = videoUid;
    this.rng = new Random(seed);
  }

  /**
   * The scene of one video.
   *
   * @throws IllegalArgumentException when {@code durationSec < 20}, {@code fps < 1} or a size is
   *     not positive
   */
  public static Scene generate(String videoUid, long seed, double durationSec, int fps, int width, int height) {
    if (!(durationSec >= 20)) {
      throw new IllegalArgumentException("durationSec must be >= 20, got " + durationSec);
    }
    if (fps < 1) {
      throw new IllegalArgumentException("fps must be >= 1, got " + fps);
    }
    if (width < 16 || height < 16) {
      throw new IllegalArgumentException("size must be at least 16x16, got " + width + "x" + height);
    }
    return new SceneScripts(videoUid, seed).write(durationSec, fps, width, height, seed);
  }

  private Scene write(double duration, int fps, int width, int height, long seed) {
    // the room: the drawer plus five other places, evenly around the wearer
    List<Place> others = new ArrayList<>(Arrays.asList(Place.values()));
    others.remove(Place.DRAWER);
    Collections.shuffle(others, rng);
    List<Place> places = new ArrayList<>(others.subList(0, PLACES_PER_ROOM - 1));
    places.add(Place.DRAWER);
    Collections.shuffle(places, rng);
    double base = rng.nextDouble() * 360;
    List<PlaceAt> placeAts = new ArrayList<>();
    for (int i = 0; i < places.size(); i++) {
      double y = mod360(base + i * (360.0 / places.size()) + uniform(-6, 6));
      yaws.put(places.get(i), y);
      placeAts.add(new PlaceAt(places.get(i), round(y)));
    }
    // the items, each in a random free slot
    List<Item> items = new ArrayList<>(Arrays.asList(Item.values()));
    Collections.shuffle(items, rng);
    items = items.subList(0, ITEMS_PER_ROOM);
    for (Item item : items) {
      Place p = places.get(rng.nextInt(places.size()));
      while (freeSlots(p).isEmpty()) {
        p = places.get(rng.nextInt(places.size()));
      }
      List<Integer> free = freeSlots(p);
      resting.put(item, new Placement(item, p, free.get(rng.nextInt(free.size()))));
    }
    List<Placement> initial = List.copyOf(resting.values());

    yaw = rng.nextDouble() * 360;
    key(0, yaw, 1);
    idle(uniform(3, 8));
    while (t < duration - 30) {
      episode(items);
      idle(Math.min(uniform(8, 24), duration - t));
    }
    if (t < duration) {
      idle(duration - t);
    }
    key(duration, yaw, 1);
    addLooks(duration);
    events.sort(Comparator.comparingDouble(SceneEvent::timeSec));
    return new Scene(videoUid, seed, duration, fps, width, height, List.copyOf(placeAts), initial,
        List.copyOf(keys), List.copyOf(events), queries());
  }

  /** One episode: move a random item from where it rests to another place. */
  private void episode(List<Item> items) {
    Item item = items.get(rng.nextInt(items.size()));
    Placement from = resting.get(item);
    List<Place> targets = new ArrayList<>();
    for (Place p : yaws.keySet()) {
      if (p != from.place() && !freeSlots(p).isEmpty()) {
        targets.add(p);
      }
    }
    Place to = targets.get(rng.nextInt(targets.size()));
    walkTo(from.place(), item, false);
    if (from.place().opens() && !drawerOpen) {
      door(Kind.OPEN, from.place());
    }
    double start = t;
    String pick = rng.nextDouble() < 0.7
        ? "#C C picks up the " + item.word() + " from the " + from.place().word()
        : "#C C takes the " + item.word() + " from the " + from.place().word();
    action(PICK_LENGTH);
    resting.remove(item);
    events.add(new SceneEvent(Kind.PICK_UP, item, from.place(), from.slot(), round(start),
        round(start + PICK_CONTACT), round(t), pick));
    if (from.place().opens() && rng.nextDouble() < 0.6) {
      door(Kind.CLOSE, from.place());
    }
    walkTo(to, item, true);
    if (to.opens() && !drawerOpen) {
      door(Kind.OPEN, to);
    }
    List<Integer> free = freeSlots(to);
    int slot = free.get(rng.nextInt(free.size()));
    start = t;
    String put = rng.nextDouble() < 0.75
        ? "#C C puts the " + item.word() + " " + to.preposition() + " the " + to.word()
        : "#C C places the " + item.word() + " " + to.preposition() + " the " + to.word();
    action(PICK_CONTACT + uniform(1.6, 2.6));
    resting.put(item, new Placement(item, to, slot));
    events.add(new SceneEvent(Kind.PUT_DOWN, item, to, slot, round(start), round(start + PICK_CONTACT),
        round(t), put));
    if (to.opens() && rng.nextDouble() < 0.7) {
      door(Kind.CLOSE, to);
    }
  }

  /** A pick-up or put-down: the camera leans in on the place and back; {@code t} moves on. */
  private void action(double length) {
    key(t, yaw, 1);
    key(t + 0.5, yaw, ACTION_ZOOM);
    key(t + length - 0.4, yaw, ACTION_ZOOM);
    key(t + length, yaw, 1);
    t += length;
  }

  private void door(Kind kind, Place place) {
    double start = t;
    key(t, yaw, 1);
    key(t + 0.4, yaw, 1.1);
    key(t + DOOR_LENGTH - 0.3, yaw, 1.1);
    key(t + DOOR_LENGTH, yaw, 1);
    t += DOOR_LENGTH;
    drawerOpen = kind == Kind.OPEN;
    String verb = kind == Kind.OPEN ? "opens" : "closes";
    events.add(new SceneEvent(kind, null, place, -1, round(start), round(start + DOOR_CONTACT), round(t),
        "#C C " + verb + " the " + place.word()));
  }

  /** Turns the camera to {@code place} along the shorter way; narrated most of the time. */
  private void walkTo(Place place, Item carried, boolean carrying) {
    double delta = shortest(yaws.get(place) - mod360(yaw));
    if (Math.abs(delta) < 3) {
      return;
    }
    double length = 0.8 + Math.abs(delta) / PAN_DEG_PER_SEC;
    double start = t;
    key(t, yaw, 1);
    yaw += delta;
    t += length;
    key(t, yaw, 1);
    String text = null;
    if (rng.nextDouble() < 0.6) {
      text = carrying
          ? "#C C carries the " + carried.word() + " to the " + place.word()
          : "#C C walks to the " + place.word();
    }
    events.add(new SceneEvent(Kind.WALK, carrying ? carried : null, place, -1, round(start),
        round(start + length / 2), round(t), text));
  }

  /** Looks around slowly for {@code length} seconds: dwell, turn a little, dwell. */
  private void idle(double length) {
    double end = t + length;
    idleStretches.add(new double[] {t, end});
    key(t, yaw, 1);
    while (end - t > 1e-9) {
      double dwell = Math.min(uniform(1.5, 4), end - t);
      t += dwell;
      key(t, yaw, 1);
      if (end - t < 1.5) {
        t = end;
        key(t, yaw, 1);
        break;
      }
      double delta = (rng.nextBoolean() ? 1 : -1) * uniform(20, 110);
      double turn = Math.min(0.5 + Math.abs(delta) / LOOK_DEG_PER_SEC, end - t);
      delta *= Math.min(1, turn / (0.5 + Math.abs(delta) / LOOK_DEG_PER_SEC));
      yaw += delta;
      t += turn;
      key(t, yaw, 1);
    }
    t = end;
  }

  /** Idle narrations every 4-7 s of each idle stretch, naming the place in view when there is one. */
  private void addLooks(double duration) {
    for (double[] stretch : idleStretches) {
      for (double nt = stretch[0] + uniform(0.8, 2.5); nt < stretch[1] - 0.5; nt += uniform(4, 7)) {
        double y = mod360(SceneTimeline.cameraAt(keys, nt)[0]);
        Place inView = null;
        for (Map.Entry<Place, Double> e : yaws.entrySet()) {
          if (Math.abs(shortest(e.getValue() - y)) < 15) {
            inView = e.getKey();
          }
        }
        String text;
        if (inView != null && rng.nextBoolean()) {
          text = "#C C looks at the " + inView.word();
        } else {
          String[] idle = {"#C C looks around", "#C C looks around the room", "#C C stands in the room"};
          text = idle[rng.nextInt(idle.length)];
        }
        events.add(new SceneEvent(Kind.LOOK, null, inView, -1, round(Math.max(0, nt - 1)), round(nt),
            round(Math.min(duration, nt + 1)), text));
      }
    }
  }

  /** "Where did I put the X?" for the last put-down of every item that was put somewhere. */
  private List<SceneQuery> queries() {
    Map<Item, SceneEvent> lastPut = new LinkedHashMap<>();
    for (SceneEvent e : events) {
      if (e.kind() == Kind.PUT_DOWN) {
        lastPut.put(e.item(), e);
      }
    }
    List<SceneQuery> out = new ArrayList<>();
    for (SceneEvent e : lastPut.values()) {
      out.add(new SceneQuery("Where did I put the " + e.item().word() + "?", PUT_TEMPLATE, e.item(),
          e.place(), e.startSec(), e.endSec()));
    }
    out.sort(Comparator.comparingDouble(SceneQuery::startSec));
    return List.copyOf(out);
  }

  private List<Integer> freeSlots(Place p) {
    boolean[] used = new boolean[Place.SLOTS];
    for (Placement r : resting.values()) {
      if (r.place() == p) {
        used[r.slot()] = true;
      }
    }
    List<Integer> free = new ArrayList<>();
    for (int s = 0; s < Place.SLOTS; s++) {
      if (!used[s]) {
        free.add(s);
      }
    }
    return free;
  }

  /** Adds a keyframe, replacing the last one when it is at the same time. */
  private void key(double time, double y, double zoom) {
    CameraKey k = new CameraKey(round(time), round(y), zoom);
    if (!keys.isEmpty() && keys.get(keys.size() - 1).t() >= k.t() - 1e-9) {
      keys.set(keys.size() - 1, k);
    } else {
      keys.add(k);
    }
  }

  private double uniform(double lo, double hi) {
    return lo + (hi - lo) * rng.nextDouble();
  }

  static double mod360(double deg) {
    double m = deg % 360;
    return m < 0 ? m + 360 : m;
  }

  /** {@code deg} wrapped to [-180, 180). */
  static double shortest(double deg) {
    return mod360(deg + 180) - 180;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
