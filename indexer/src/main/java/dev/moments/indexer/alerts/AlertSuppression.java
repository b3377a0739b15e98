package dev.moments.indexer.alerts;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * When a matching moment is a new alert: the temporal NMS and cooldown of one rule on one stream.
 *
 * <p>The matcher keeps, per (rule, stream), the span of the last moment that fired. A later match
 * of that rule on that stream fires only when it starts at or after {@link #nextAllowedMs
 * max(last end, last start + cooldown)}:
 *
 * <ul>
 *   <li>a match whose span overlaps the fired span (temporal IoU &gt; 0, whole ms) is the same
 *       event seen again by an overlapping window: not a new alert;
 *   <li>a match starting less than the cooldown after the fired moment's start is within the
 *       cooldown: not a new alert;
 *   <li>a match starting before the fired moment's start (an older stretch that a later,
 *       overlapping window now scores above the threshold) is not news: alerts of a rule on a
 *       stream go forward in capture time, so no event is ever alerted twice, and a later window
 *       that gives a better-scoring moment of an already alerted event adds nothing (the first
 *       match fires: latency matters more than the best span).
 * </ul>
 *
 * A span that only touches the fired one ({@code start == last end}, IoU = 0) is a new event when
 * the cooldown allows it.
 *
 * @param momentId the fired moment
 * @param startMs its start (capture epoch ms)
 * @param endMs its end (capture epoch ms)
 */
public record AlertSuppression(String momentId, long startMs, long endMs) {
  /** The first start (capture epoch ms) at which a new alert of the rule may fire on the stream. */
  public long nextAllowedMs(long cooldownMs) {
    long cooled = cooldownMs > Long.MAX_VALUE - startMs ? Long.MAX_VALUE : startMs + cooldownMs;
    return Math.max(endMs, cooled);
  }

  /**
   * Whether a match starting at {@code startMs} is suppressed by {@code last} (null = the rule never
   * fired on the stream: nothing is suppressed).
   */
  public static boolean suppresses(AlertSuppression last, long startMs, long cooldownMs) {
    return last != null && startMs < last.nextAllowedMs(cooldownMs);
  }

  /** Store encoding: startMs, endMs (int64 each), then the moment id in UTF-8. */
  public byte[] toBytes() {
    byte[] id = momentId.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(16 + id.length).putLong(startMs).putLong(endMs).put(id).array();
  }

  public static AlertSuppression fromBytes(byte[] b) {
    ByteBuffer buf = ByteBuffer.wrap(b);
    long start = buf.getLong();
    long end = buf.getLong();
    return new AlertSuppression(new String(b, 16, b.length - 16, StandardCharsets.UTF_8), start, end);
  }

  /** The store key of (rule, stream): {@code <ruleId> NUL <streamId>}. */
  public static String key(String ruleId, String streamId) {
    return ruleId + '\u0000' + streamId;
  }
}
