package dev.moments.world;

import java.awt.Color;

/**
 * A piece of furniture in the synthetic room: where items rest. Each has its own colour and
 * silhouette so that a small image encoder can tell them apart, and three slots for items. Only
 * the {@link #DRAWER} opens; items in it are visible only while it is open.
 */
public enum Place {
  TABLE("table", "on", new Color(150, 95, 45)),
  SHELF("shelf", "on", new Color(95, 115, 150)),
  SOFA("sofa", "on", new Color(105, 110, 40)),
  DRAWER("drawer", "in", new Color(215, 125, 35)),
  COUNTER("counter", "on", new Color(200, 200, 190)),
  BED("bed", "on", new Color(230, 195, 150)),
  DESK("desk", "on", new Color(55, 65, 80));

  /** Slots per place. */
  public static final int SLOTS = 3;

  private final String word;
  private final String preposition;
  private final Color color;

  Place(String word, String preposition, Color color) {
    this.word = word;
    this.preposition = preposition;
    this.color = color;
  }

  /** The noun used in narrations and queries ("shelf"). */
  public String word() {
    return word;
  }

  /** "on" or "in". */
  public String preposition() {
    return preposition;
  }

  /** The main colour of the silhouette. */
  public Color color() {
    return color;
  }

  /** Whether the place opens and closes (and hides its items while closed). */
  public boolean opens() {
    return this == DRAWER;
  }
}
