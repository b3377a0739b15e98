package dev.moments.world;

import java.awt.Color;

/**
 * A small object the wearer moves around. Every item has a distinct saturated main colour (not
 * used by any {@link Place} or the walls) and its own shape, and no text is drawn anywhere.
 */
public enum Item {
  KEYS("keys", new Color(255, 210, 0)),
  MUG("mug", new Color(220, 20, 30)),
  PHONE("phone", new Color(0, 220, 230)),
  WALLET("wallet", new Color(140, 0, 200)),
  BOOK("book", new Color(0, 80, 255)),
  BOTTLE("bottle", new Color(0, 200, 60)),
  REMOTE("remote", new Color(255, 60, 170));

  private final String word;
  private final Color color;

  Item(String word, Color color) {
    this.word = word;
    this.color = color;
  }

  /** The noun used in narrations and queries ("keys"). */
  public String word() {
    return word;
  }

  /** The main colour; tests look for it in decoded frames. */
  public Color color() {
    return color;
  }
}
