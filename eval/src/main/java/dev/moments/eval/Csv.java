package dev.moments.eval;

import java.util.ArrayList;
import java.util.List;

/** A minimal RFC 4180 CSV line splitter (quoted cells, doubled quotes; no multi-line cells). */
final class Csv {
  private Csv() {}

  static List<String> split(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder cell = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '"') {
          if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
            cell.append('"');
            i++;
          } else {
            quoted = false;
          }
        } else {
          cell.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        out.add(cell.toString());
        cell.setLength(0);
      } else {
        cell.append(c);
      }
    }
    if (quoted) {
      throw new IllegalArgumentException("unterminated quoted cell in CSV line: " + line);
    }
    out.add(cell.toString());
    return out;
  }
}
