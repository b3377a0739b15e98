package dev.moments.world;

import java.util.List;

/**
 * The ground truth of one synthetic video: the room layout, where every item starts, the camera
 * track, the event script with its narrations, and the NLQ queries with their answer intervals.
 * All times are seconds from the first frame. {@code scenes.json} is a list of these.
 *
 * @param videoUid the video's id, also its file name without {@code .mp4}
 * @param places where each place stands, as a camera yaw in degrees
 * @param initial where each item rests at time 0
 * @param camera camera keyframes, strictly increasing in time, eased between
 * @param events the script in time order (actions, walks and idle looks)
 * @param queries "where did I put X" questions, one per item that was put somewhere
 */
public record Scene(
    String videoUid,
    long seed,
    double durationSec,
    int fps,
    int width,
    int height,
    List<PlaceAt> places,
    List<Placement> initial,
    List<CameraKey> camera,
    List<SceneEvent> events,
    List<SceneQuery> queries) {

  /** A place and the yaw (degrees, 0..360) at which it stands. */
  public record PlaceAt(Place place, double yaw) {}

  /** An item resting in a slot of a place. */
  public record Placement(Item item, Place place, int slot) {}

  /** The camera at time {@code t}: yaw in degrees (unwrapped, continuous) and zoom (1 = normal). */
  public record CameraKey(double t, double yaw, double zoom) {}

  /** What an event does. */
  public enum Kind {
    /** The wearer takes an item from a place into the hand (at {@code timeSec}). */
    PICK_UP,
    /** The wearer puts the held item into a slot of a place (at {@code timeSec}). */
    PUT_DOWN,
    /** The drawer opens at {@code timeSec}. */
    OPEN,
    /** The drawer closes at {@code timeSec}. */
    CLOSE,
    /** The camera turns to a place. */
    WALK,
    /** An idle moment; only a narration. */
    LOOK
  }

  /**
   * One scripted event; {@code item}/{@code place} are null where they do not apply, {@code slot}
   * is the slot used by a put-down (else -1), {@code narration} the Ego4D-style text
   * ({@code "#C C puts the keys on the shelf"}) or null when the event is not narrated.
   */
  public record SceneEvent(
      Kind kind,
      Item item,
      Place place,
      int slot,
      double startSec,
      double timeSec,
      double endSec,
      String narration) {}

  /**
   * A natural-language query and the interval where its answer is visible (the put-down: the
   * item arriving at the place and the camera still on it).
   */
  public record SceneQuery(
      String query, String template, Item item, Place place, double startSec, double endSec) {}

  /** The yaw of {@code place} in this room. */
  public double yawOf(Place place) {
    for (PlaceAt p : places) {
      if (p.place() == place) {
        return p.yaw();
      }
    }
    throw new IllegalArgumentException("place " + place + " is not in scene " + videoUid);
  }

  /** Number of frames the video has ({@code round(durationSec * fps)}). */
  public int frameCount() {
    return (int) Math.round(durationSec * fps);
  }
}
