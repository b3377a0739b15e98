package dev.moments.api.frames;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where the frames of one stream are: capture time → (partition, offset), sorted by time, in
 * chunks of at most {@value #CHUNK} entries held in two primitive arrays (the time, and partition
 * and offset packed into one {@code long}). 16 bytes per frame when frames come in time order
 * (about 16 MB per million frames), at most 32 bytes when out-of-order frames split chunks in
 * halves; an append in time order costs O(log chunks), an insert out of order O(log n +
 * {@value #CHUNK}). Thread-safe: the counter thread adds while lookups read.
 */
final class StreamFrames {
  static final int CHUNK = 1024;
  private static final int FIRST_CAPACITY = 16;
  private static final long OFFSET_MASK = (1L << 48) - 1;

  /** A frame's capture time and packed location ({@link #loc}). */
  record Hit(long timeMs, long loc) {
    int partition() {
      return StreamFrames.partition(loc);
    }

    long offset() {
      return StreamFrames.offset(loc);
    }
  }

  // Sorted by first time; every time of chunk i is <= every time of chunk i+1; none is empty.
  private final List<Chunk> chunks = new ArrayList<>();
  private long size;

  /** Partition (16 bits) and offset (48 bits) in one long. */
  static long loc(int partition, long offset) {
    if (partition < 0 || partition > 0xFFFF || offset < 0 || offset > OFFSET_MASK) {
      throw new IllegalArgumentException("partition " + partition + " offset " + offset + " out of range");
    }
    return ((long) partition << 48) | offset;
  }

  static int partition(long loc) {
    return (int) (loc >>> 48);
  }

  static long offset(long loc) {
    return loc & OFFSET_MASK;
  }

  synchronized long size() {
    return size;
  }

  /** Adds a frame; frames with equal times keep the order they were added in. */
  synchronized void add(long timeMs, long loc) {
    if (chunks.isEmpty()) {
      chunks.add(new Chunk(FIRST_CAPACITY));
    }
    int ci = chunkFor(timeMs);
    Chunk c = chunks.get(ci);
    int at = c.upperBound(timeMs);
    if (c.n == CHUNK) {
      if (ci == chunks.size() - 1 && at == c.n) {
        // In time order past a full last chunk: start a new one, so that ordered chunks stay full.
        c = new Chunk(FIRST_CAPACITY);
        chunks.add(c);
        at = 0;
      } else {
        Chunk right = c.splitOff(CHUNK / 2);
        chunks.add(ci + 1, right);
        if (at > c.n) {
          at -= c.n;
          c = right;
        }
      }
    }
    c.insert(at, timeMs, loc);
    size++;
  }

  /**
   * The frame whose time is nearest to {@code timeMs}; of two equally near, the earlier. Null
   * when there is none.
   */
  synchronized Hit nearest(long timeMs) {
    if (size == 0) {
      return null;
    }
    int ci = chunkFor(timeMs);
    Chunk c = chunks.get(ci);
    int at = c.lowerBound(timeMs);
    Hit after = at < c.n ? c.hit(at) : ci + 1 < chunks.size() ? chunks.get(ci + 1).hit(0) : null;
    Hit before = at > 0 ? c.hit(at - 1) : ci > 0 ? chunks.get(ci - 1).hit(chunks.get(ci - 1).n - 1) : null;
    if (before == null || after == null) {
      return before == null ? after : before;
    }
    return distance(before.timeMs(), timeMs) <= distance(timeMs, after.timeMs()) ? before : after;
  }

  /** The count and first and last time, or null when empty. */
  synchronized FrameStore.FrameSpan span() {
    if (size == 0) {
      return null;
    }
    Chunk last = chunks.get(chunks.size() - 1);
    return new FrameStore.FrameSpan(size, chunks.get(0).times[0], last.times[last.n - 1]);
  }

  /**
   * Drops the frames below each partition's first offset ({@code firstOffsets}: partition →
   * log start offset), i.e. those the topic's retention deleted; returns how many were dropped.
   */
  synchronized long retainFrom(Map<Integer, Long> firstOffsets) {
    List<Chunk> kept = new ArrayList<>();
    Chunk out = null;
    long dropped = 0;
    for (Chunk c : chunks) {
      for (int i = 0; i < c.n; i++) {
        Long first = firstOffsets.get(partition(c.locs[i]));
        if (first != null && offset(c.locs[i]) < first) {
          dropped++;
          continue;
        }
        if (out == null || out.n == CHUNK) {
          out = new Chunk(CHUNK);
          kept.add(out);
        }
        out.insert(out.n, c.times[i], c.locs[i]);
      }
    }
    if (dropped > 0) {
      chunks.clear();
      chunks.addAll(kept);
      size -= dropped;
    }
    return dropped;
  }

  // The last chunk whose first time is <= timeMs, or 0 when none is.
  private int chunkFor(long timeMs) {
    int lo = 0;
    int hi = chunks.size() - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (chunks.get(mid).times[0] <= timeMs) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  // b - a for a <= b, saturating instead of overflowing.
  private static long distance(long a, long b) {
    long d = b - a;
    return d < 0 ? Long.MAX_VALUE : d;
  }

  private static final class Chunk {
    long[] times;
    long[] locs;
    int n;

    Chunk(int capacity) {
      times = new long[capacity];
      locs = new long[capacity];
    }

    Hit hit(int i) {
      return new Hit(times[i], locs[i]);
    }

    // First index whose time is >= t.
    int lowerBound(long t) {
      int lo = 0;
      int hi = n;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (times[mid] < t) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo;
    }

    // First index whose time is > t.
    int upperBound(long t) {
      int lo = 0;
      int hi = n;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (times[mid] <= t) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo;
    }

    void insert(int at, long t, long loc) {
      if (n == times.length) {
        int capacity = Math.min(CHUNK, times.length * 2);
        times = java.util.Arrays.copyOf(times, capacity);
        locs = java.util.Arrays.copyOf(locs, capacity);
      }
      System.arraycopy(times, at, times, at + 1, n - at);
      System.arraycopy(locs, at, locs, at + 1, n - at);
      times[at] = t;
      locs[at] = loc;
      n++;
    }

    // Moves the entries from index `from` on into a new chunk.
    Chunk splitOff(int from) {
      Chunk right = new Chunk(CHUNK);
      right.n = n - from;
      System.arraycopy(times, from, right.times, 0, right.n);
      System.arraycopy(locs, from, right.locs, 0, right.n);
      n = from;
      return right;
    }
  }
}
