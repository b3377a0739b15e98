package dev.moments.world;

import dev.moments.world.Scene.Kind;
import dev.moments.world.Scene.PlaceAt;
import dev.moments.world.Scene.Placement;
import dev.moments.world.Scene.SceneEvent;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Point2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;

/**
 * Draws frames of a {@link Scene} with Java2D: the room is a cylinder around the wearer, the
 * camera sees {@link #FOV_DEG} degrees of it, each place is a flat coloured silhouette standing
 * on the floor at its yaw, items sit in its slots, and the wearer's arm reaches in during
 * actions and holds the carried item at the bottom of the frame. Geometry is defined on a
 * 320x240 canvas and scaled to the scene's size.
 */
public final class SceneRenderer {
  /** Horizontal field of view of the camera, in degrees. */
  public static final double FOV_DEG = 90;

  private static final double BASE_W = 320;
  private static final double FLOOR_Y = 70; // below the frame centre, base units
  private static final Color SKIN = new Color(225, 175, 135);
  private static final Color FLOOR = new Color(118, 104, 92);

  private final SceneTimeline timeline;
  private final Scene scene;
  private final int w;
  private final int h;
  private final double unit;

  public SceneRenderer(Scene scene) {
    this.scene = scene;
    this.timeline = new SceneTimeline(scene);
    this.w = scene.width();
    this.h = scene.height();
    this.unit = w / BASE_W;
  }

  /** A new frame image ({@code TYPE_3BYTE_BGR}, what the video recorder takes) at time {@code t}. */
  public BufferedImage render(double t) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
    render(img, t);
    return img;
  }

  /** Draws the frame at time {@code t} into {@code img} (of the scene's size). */
  public void render(BufferedImage img, double t) {
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      double[] cam = timeline.camera(t);
      SceneTimeline.State state = timeline.stateAt(t);
      double bob = 1.5 * Math.sin(2 * Math.PI * 0.9 * t) * unit;
      drawRoom(g, cam[0], cam[1], bob);
      for (PlaceAt p : scene.places()) {
        AffineTransform at = placeTransform(p.yaw(), cam, bob);
        if (at == null) {
          continue;
        }
        AffineTransform saved = g.getTransform();
        g.transform(at);
        drawPlace(g, p.place(), state.drawerOpen());
        for (Placement r : state.resting().values()) {
          if (r.place() == p.place() && (!p.place().opens() || state.drawerOpen())) {
            AffineTransform s2 = g.getTransform();
            g.translate(slotX(p.place(), r.slot()), surfaceY(p.place(), state.drawerOpen()));
            drawItem(g, r.item());
            g.setTransform(s2);
          }
        }
        g.setTransform(saved);
      }
      drawHand(g, state, cam, bob);
    } finally {
      g.dispose();
    }
  }

  /**
   * Where {@code item} appears at time {@code t} while it rests at a place in view, in frame
   * pixels (clipped to the frame), or null when it is held, hidden in the closed drawer or out
   * of view.
   */
  public Rectangle2D itemBox(double t, Item item) {
    SceneTimeline.State state = timeline.stateAt(t);
    Placement r = state.resting().get(item);
    if (r == null || (r.place().opens() && !state.drawerOpen())) {
      return null;
    }
    double[] cam = timeline.camera(t);
    double bob = 1.5 * Math.sin(2 * Math.PI * 0.9 * t) * unit;
    AffineTransform at = placeTransform(scene.yawOf(r.place()), cam, bob);
    if (at == null) {
      return null;
    }
    at.translate(slotX(r.place(), r.slot()), surfaceY(r.place(), state.drawerOpen()));
    Rectangle2D box = at.createTransformedShape(new Rectangle2D.Double(-10, -22, 20, 22)).getBounds2D();
    Rectangle2D clipped = box.createIntersection(new Rectangle2D.Double(0, 0, w, h));
    return clipped.isEmpty() ? null : clipped;
  }

  /** Place-local (base units, anchor on the floor) to frame pixels, or null when out of view. */
  private AffineTransform placeTransform(double placeYaw, double[] cam, double bob) {
    double delta = SceneScripts.shortest(placeYaw - cam[0]);
    if (Math.abs(delta) > FOV_DEG / 2 + 35) {
      return null;
    }
    double zoom = cam[1];
    AffineTransform at = new AffineTransform();
    at.translate(w / 2.0 + delta / FOV_DEG * w * zoom, h / 2.0 + bob);
    at.scale(unit * zoom, unit * zoom);
    at.translate(0, FLOOR_Y);
    return at;
  }

  private void drawRoom(Graphics2D g, double yaw, double zoom, double bob) {
    float hue = (float) (0.09 + 0.04 * Math.sin(Math.toRadians(yaw)));
    g.setColor(Color.getHSBColor(hue, 0.13f, 0.74f));
    g.fillRect(0, 0, w, h);
    int floorTop = (int) Math.round(h / 2.0 + bob + FLOOR_Y * unit * zoom - 6 * unit);
    g.setColor(FLOOR);
    g.fillRect(0, floorTop, w, h - floorTop);
    // the room's corners, so that turning is visible even between places
    g.setColor(new Color(120, 115, 105));
    g.setStroke(new BasicStroke((float) (2 * unit)));
    for (int k = 0; k < 4; k++) {
      double delta = SceneScripts.shortest(45 + 90 * k + 30 - yaw);
      if (Math.abs(delta) < FOV_DEG / 2 + 5) {
        int x = (int) Math.round(w / 2.0 + delta / FOV_DEG * w * zoom);
        g.drawLine(x, 0, x, floorTop);
      }
    }
    g.setStroke(new BasicStroke(1));
  }

  private static double slotX(Place p, int slot) {
    double spread = switch (p) {
      case SOFA, COUNTER -> 38;
      case BED -> 36;
      case TABLE -> 32;
      default -> 26;
    };
    double center = p == Place.BED ? 8 : 0;
    return center + (slot - 1) * spread;
  }

  private static double surfaceY(Place p, boolean drawerOpen) {
    return switch (p) {
      case TABLE -> -52;
      case SHELF -> -50;
      case SOFA -> -35;
      case DRAWER -> drawerOpen ? -78 : -75;
      case COUNTER -> -64;
      case BED -> -28;
      case DESK -> -58;
    };
  }

  private static void drawPlace(Graphics2D g, Place p, boolean drawerOpen) {
    Color c = p.color();
    Color dark = c.darker();
    switch (p) {
      case TABLE -> {
        g.setColor(c);
        g.fillRect(-56, -52, 112, 10);
        g.setColor(dark);
        g.fillRect(-50, -42, 7, 42);
        g.fillRect(43, -42, 7, 42);
      }
      case SHELF -> {
        g.setColor(new Color(175, 180, 190));
        g.fillRect(-42, -128, 84, 128);
        g.setColor(c);
        g.fillRect(-46, -132, 7, 132);
        g.fillRect(39, -132, 7, 132);
        for (int y : new int[] {-132, -90, -50, -8}) {
          g.fillRect(-46, y, 92, 6);
        }
      }
      case SOFA -> {
        g.setColor(dark);
        g.fillRect(-65, -72, 130, 40);
        g.setColor(c);
        g.fillRect(-65, -35, 130, 35);
        g.fillRoundRect(-74, -52, 14, 52, 6, 6);
        g.fillRoundRect(60, -52, 14, 52, 6, 6);
      }
      case DRAWER -> {
        g.setColor(c);
        g.fillRect(-40, -75, 80, 75);
        g.setColor(dark);
        g.fillRect(-35, -34, 70, 28);
        g.fillRect(-35, -70, 70, 28);
        g.setColor(Color.DARK_GRAY);
        g.fillOval(-4, -24, 8, 6);
        if (drawerOpen) {
          // the top drawer pulled out towards the camera: its dark inside and its front
          g.setColor(new Color(60, 35, 15));
          g.fillRect(-44, -104, 88, 30);
          g.setColor(c);
          g.fillRect(-46, -78, 92, 16);
          g.setColor(Color.DARK_GRAY);
          g.fillOval(-4, -73, 8, 6);
        } else {
          g.setColor(Color.DARK_GRAY);
          g.fillOval(-4, -60, 8, 6);
        }
      }
      case COUNTER -> {
        g.setColor(c);
        g.fillRect(-70, -60, 140, 60);
        g.setColor(new Color(150, 150, 145));
        g.fillRect(-73, -64, 146, 6);
        g.drawLine(-23, -56, -23, -2);
        g.drawLine(23, -56, 23, -2);
      }
      case BED -> {
        g.setColor(c);
        g.fillRect(-75, -28, 150, 28);
        g.setColor(dark);
        g.fillRect(-80, -60, 10, 60);
        g.setColor(Color.WHITE);
        g.fillRoundRect(-66, -38, 26, 10, 6, 6);
      }
      case DESK -> {
        g.setColor(c);
        g.fillRect(-52, -58, 104, 8);
        g.fillRect(-50, -50, 10, 50);
        g.fillRect(40, -50, 10, 50);
        g.setColor(c.brighter());
        g.fillRect(-40, -50, 30, 14);
      }
      default -> throw new IllegalStateException("no drawing for " + p);
    }
  }

  /** Draws {@code item} with its bottom centre at the origin, about 20x22 units. */
  static void drawItem(Graphics2D g, Item item) {
    Color c = item.color();
    switch (item) {
      case KEYS -> {
        g.setColor(c);
        g.setStroke(new BasicStroke(4));
        g.drawOval(-9, -20, 11, 11);
        g.setStroke(new BasicStroke(1));
        g.fillRect(0, -11, 11, 4);
        g.fillRect(7, -11, 2, 7);
        g.fillRect(-6, -7, 13, 4);
        g.fillRect(3, -7, 2, 7);
      }
      case MUG -> {
        g.setColor(c);
        g.fillRect(-9, -18, 15, 18);
        g.setStroke(new BasicStroke(3));
        g.drawOval(3, -14, 8, 9);
        g.setStroke(new BasicStroke(1));
        g.setColor(c.darker());
        g.fillRect(-9, -18, 15, 3);
      }
      case PHONE -> {
        g.setColor(new Color(20, 20, 20));
        g.fillRoundRect(-7, -22, 14, 22, 4, 4);
        g.setColor(c);
        g.fillRect(-5, -20, 10, 17);
      }
      case WALLET -> {
        g.setColor(c);
        g.fillRoundRect(-11, -13, 22, 13, 4, 4);
        g.setColor(c.darker());
        g.fillRect(-11, -9, 22, 2);
      }
      case BOOK -> {
        g.setColor(c);
        g.fillRect(-9, -22, 18, 22);
        g.setColor(Color.WHITE);
        g.fillRect(5, -20, 3, 18);
      }
      case BOTTLE -> {
        g.setColor(c);
        g.fillRoundRect(-6, -18, 12, 18, 4, 4);
        g.fillRect(-3, -25, 6, 8);
        g.setColor(Color.WHITE);
        g.fillRect(-3, -27, 6, 3);
      }
      case REMOTE -> {
        g.setColor(c);
        g.fillRoundRect(-4, -24, 8, 24, 4, 4);
        g.setColor(new Color(40, 40, 40));
        g.fillOval(-2, -21, 4, 4);
        g.fillOval(-2, -14, 4, 4);
      }
      default -> throw new IllegalStateException("no drawing for " + item);
    }
  }

  /** The wearer's arm: reaching to a place during an action, holding the carried item otherwise. */
  private void drawHand(Graphics2D g, SceneTimeline.State state, double[] cam, double bob) {
    SceneEvent action = state.action();
    Point2D rest = new Point2D.Double(w * 0.66, h - 26 * unit);
    Point2D hand = rest;
    double reach = 0;
    Point2D target = null;
    if (action != null) {
      AffineTransform at = placeTransform(scene.yawOf(action.place()), cam, bob);
      if (at != null) {
        double x = action.kind() == Kind.OPEN || action.kind() == Kind.CLOSE ? 0 : slotX(action.place(),
            action.slot() >= 0 ? action.slot() : 1);
        double y = action.kind() == Kind.OPEN || action.kind() == Kind.CLOSE ? -66
            : surfaceY(action.place(), state.drawerOpen());
        target = at.transform(new Point2D.Double(x, y), null);
        double contact = (action.timeSec() - action.startSec()) / (action.endSec() - action.startSec());
        double p = state.progress();
        // up to the place by the contact time, back down over the same time after it
        reach = p <= contact ? p / contact : Math.max(0, 1 - (p - contact) / contact);
        reach = reach * reach * (3 - 2 * reach);
        hand = new Point2D.Double(rest.getX() + (target.getX() - rest.getX()) * reach,
            rest.getY() + (target.getY() - rest.getY()) * reach);
      }
    }
    Item held = state.held();
    if (held == null && action == null) {
      return;
    }
    g.setColor(SKIN);
    g.setStroke(new BasicStroke((float) (16 * unit), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
    g.drawLine((int) (w * 0.8), h + (int) (20 * unit), (int) hand.getX(), (int) hand.getY());
    g.setStroke(new BasicStroke(1));
    if (held != null) {
      double scale = unit * (2.0 + (cam[1] - 2.0) * reach);
      AffineTransform saved = g.getTransform();
      g.translate(hand.getX(), hand.getY() + 4 * scale);
      g.scale(scale, scale);
      drawItem(g, held);
      g.setTransform(saved);
    }
    int r = (int) (9 * unit);
    g.setColor(SKIN);
    g.fillOval((int) hand.getX() - r, (int) hand.getY() - r / 2, 2 * r, r + r / 2);
  }
}
