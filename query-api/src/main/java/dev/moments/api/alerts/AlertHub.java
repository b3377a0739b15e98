package dev.moments.api.alerts;

import dev.moments.api.auth.Access;
import dev.moments.api.metrics.Metrics;
import dev.moments.topics.AlertRecord;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fans live alerts out to subscribers (the Server-Sent Events clients of {@code
 * /api/alerts/stream}); knows nothing about HTTP.
 *
 * <p>{@link #publish} drops an alert whose {@code alertId} it has seen (the last {@value
 * #SEEN_IDS} ids are remembered), keeps the last {@code replay} alerts for reconnecting clients,
 * and offers the alert to every subscriber whose owner equals the alert's owner and whose access
 * (looked up again at each alert, so a token removed from the token file stops its stream) allows
 * the alert's stream. A subscriber has its own bounded queue, drained by the thread that calls
 * {@link Subscription#run()} (the client's HTTP request thread), so a slow or stuck client never
 * delays the others or the publisher: a client whose queue is full is closed (its browser
 * reconnects with {@code Last-Event-ID}). The sender writes a heartbeat after every {@code
 * heartbeat} of silence; a client that went away is noticed at that write and removed.
 */
public final class AlertHub implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AlertHub.class);

  /** How many alert ids {@link #publish} remembers to drop repeats. */
  public static final int SEEN_IDS = 100_000;

  /** The default heartbeat: a comment line after this much silence. */
  public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(15);

  /** The default number of recent alerts kept for {@code Last-Event-ID} reconnects. */
  public static final int DEFAULT_REPLAY = 1000;

  /** Alerts queued for one client before it counts as too slow and is closed. */
  public static final int QUEUE = 1000;

  /**
   * Clients at once; more are refused. NOTE: each client holds one HTTP request thread while it is
   * connected, so this stays well below the server's thread pool.
   */
  public static final int MAX_CLIENTS = 64;

  private static final AlertRecord WAKE_UP = new AlertRecord("", "", "", "", "", "", "", 0, 0, 0, 0);

  /** Where a subscriber's alerts go: one SSE client. Called from the thread that runs the subscription only. */
  public interface Sink {
    /** Sends one alert; an exception (the client went away) ends the subscription. */
    void alert(AlertRecord alert) throws java.io.IOException;

    /** Sends a heartbeat (an SSE comment line); an exception ends the subscription. */
    void heartbeat() throws java.io.IOException;
  }

  private final Duration heartbeat;
  private final int replay;
  private final Set<Subscription> subscribers = ConcurrentHashMap.newKeySet();
  private final ArrayDeque<AlertRecord> recent = new ArrayDeque<>();
  private final Map<String, Boolean> seen = new LinkedHashMap<>(1024, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > SEEN_IDS;
    }
  };
  private final Metrics.Counter fired;
  private final Metrics.Counter sent;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** A hub with the default heartbeat and replay buffer. */
  public AlertHub(Metrics metrics) {
    this(metrics, DEFAULT_HEARTBEAT, DEFAULT_REPLAY);
  }

  /**
   * @param heartbeat silence after which a client gets a comment line (also how soon a client that
   *     went away is noticed)
   * @param replay recent alerts kept for reconnects, {@code >= 0}
   */
  public AlertHub(Metrics metrics, Duration heartbeat, int replay) {
    if (heartbeat.isNegative() || heartbeat.isZero()) {
      throw new IllegalArgumentException("heartbeat must be > 0, got " + heartbeat);
    }
    if (replay < 0) {
      throw new IllegalArgumentException("replay must be >= 0, got " + replay);
    }
    this.heartbeat = heartbeat;
    this.replay = replay;
    this.fired = metrics.counter("moments_alerts_fired_total",
        "Alerts this server read from the alerts topic (each alert id once).");
    this.sent = metrics.counter("moments_alert_sse_events_total", "Alerts sent to Server-Sent Events clients.");
    metrics.gauge("moments_alert_sse_clients", "Clients connected to /api/alerts/stream.", subscribers::size);
  }

  /**
   * Publishes one alert to the subscribers it is for.
   *
   * @return false when the alert id was seen before (nothing is sent)
   */
  public boolean publish(AlertRecord alert) {
    List<Subscription> to;
    synchronized (this) {
      if (seen.putIfAbsent(alert.alertId(), Boolean.TRUE) != null) {
        return false;
      }
      if (replay > 0) {
        recent.addLast(alert);
        if (recent.size() > replay) {
          recent.removeFirst();
        }
      }
      fired.inc();
      to = new ArrayList<>(subscribers);
    }
    for (Subscription s : to) {
      s.offer(alert);
    }
    return true;
  }

  /**
   * Subscribes a client; the caller then calls {@link Subscription#run()}, which sends until the
   * client goes away or the hub closes.
   *
   * @param owner the caller's owner ({@link Owners#of})
   * @param access the caller's access now (empty = the token is no longer valid: the client is closed)
   * @param lastEventId the {@code Last-Event-ID} of a reconnecting client, or null: the alerts after
   *     it still in the replay buffer are sent first (none when the id is not there)
   */
  public Subscription subscribe(String owner, Supplier<Optional<Access>> access, String lastEventId, Sink sink) {
    Subscription s = new Subscription(Objects.requireNonNull(owner, "owner"), access, sink);
    synchronized (this) {
      if (closed.get()) {
        s.close();
        return s;
      }
      if (lastEventId != null) {
        boolean after = false;
        for (AlertRecord a : recent) {
          if (after) {
            s.offer(a);
          } else if (a.alertId().equals(lastEventId)) {
            after = true;
          }
        }
      }
      subscribers.add(s);
    }
    return s;
  }

  /** Clients subscribed now. */
  public int clients() {
    return subscribers.size();
  }

  /** Closes every client. */
  @Override
  public void close() {
    closed.set(true);
    for (Subscription s : List.copyOf(subscribers)) {
      s.close();
    }
  }

  /** One client: its filter, queue and sender. */
  public final class Subscription {
    private final String owner;
    private final Supplier<Optional<Access>> access;
    private final Sink sink;
    private final BlockingQueue<AlertRecord> queue = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicBoolean done = new AtomicBoolean();

    Subscription(String owner, Supplier<Optional<Access>> access, Sink sink) {
      this.owner = owner;
      this.access = access;
      this.sink = sink;
    }

    void offer(AlertRecord a) {
      if (done.get() || !owner.equals(a.owner())) {
        return;
      }
      Optional<Access> now = access.get();
      if (now.isEmpty()) {
        LOG.info("closing an alert stream: its token is no longer valid");
        close();
        return;
      }
      if (!now.get().allows(a.streamId())) {
        return;
      }
      if (!queue.offer(a)) {
        LOG.warn("closing an alert stream that fell {} alerts behind (it may reconnect with Last-Event-ID)", QUEUE);
        close();
      }
    }

    /**
     * Sends this client's alerts and heartbeats until it goes away (a write fails), it is closed
     * (too slow, token revoked, the hub closing) or the thread is interrupted.
     */
    public void run() {
      try {
        while (!done.get()) {
          AlertRecord a = queue.poll(heartbeat.toMillis(), TimeUnit.MILLISECONDS);
          if (done.get()) {
            break;
          }
          if (a == null) {
            sink.heartbeat();
          } else {
            sink.alert(a);
            sent.inc();
          }
        }
      } catch (java.io.IOException e) {
        LOG.debug("alert stream client went away: {}", e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        LOG.warn("alert stream client failed", e);
      } finally {
        close();
      }
    }

    /** Ends the subscription: removed from the hub; {@link #run()} returns soon after. Idempotent. */
    public void close() {
      if (done.compareAndSet(false, true)) {
        subscribers.remove(this);
        queue.clear();
        queue.offer(WAKE_UP); // wakes a run() that waits for the next alert
      }
    }
  }
}
