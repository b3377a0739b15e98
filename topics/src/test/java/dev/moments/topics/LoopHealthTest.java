package dev.moments.topics;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

class LoopHealthTest {
  @Test
  void failures_back_off_from_100_ms_doubling_to_5_s_and_a_success_resets_state_and_wait() {
    LoopHealth h = new LoopHealth("frames-counter");
    assertThat(h.status().state()).isEqualTo(LoopHealth.State.OK);
    TimeoutException e = new TimeoutException("Timeout of 5000ms expired before the position could be determined");
    long[] waits = new long[9];
    for (int i = 0; i < waits.length; i++) {
      waits[i] = h.failed(e).toMillis();
    }
    assertThat(waits).containsExactly(100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000);
    LoopHealth.Status s = h.status();
    assertThat(s.loop()).isEqualTo("frames-counter");
    assertThat(s.state()).isEqualTo(LoopHealth.State.DEGRADED);
    assertThat(s.failures()).isEqualTo(9);
    assertThat(s.reason()).isEqualTo("TimeoutException: Timeout of 5000ms expired before the position could be determined");
    h.ok();
    assertThat(h.status().state()).isEqualTo(LoopHealth.State.OK);
    assertThat(h.status().failures()).isZero();
    assertThat(h.status().reason()).isNull();
    assertThat(h.failed(e).toMillis()).isEqualTo(100);
  }

  @Test
  void a_loop_is_unhealthy_when_stopped_or_failing_for_longer_than_the_grace() {
    Instant t = Instant.parse("2025-05-01T08:00:00Z");
    Duration grace = Duration.ofSeconds(10);
    LoopHealth.Status failing = new LoopHealth.Status("materializer", LoopHealth.State.DEGRADED, t, 3, "TimeoutException: x");
    assertThat(failing.unhealthy(grace, t.plusSeconds(10))).isFalse();
    assertThat(failing.unhealthy(grace, t.plusSeconds(11))).isTrue();
    assertThat(new LoopHealth.Status("m", LoopHealth.State.OK, t, 0, null).unhealthy(grace, t.plusSeconds(99))).isFalse();
    assertThat(new LoopHealth.Status("m", LoopHealth.State.STOPPED, t, 0, "boom").unhealthy(grace, t)).isTrue();
  }

  @Test
  void a_stopped_loop_keeps_its_error_and_a_back_off_ends_when_the_loop_is_closed() {
    LoopHealth h = new LoopHealth("materializer");
    assertThat(h.backOff(new TimeoutException("t"), () -> false)).isFalse();
    h.stopped(new IllegalStateException("index is corrupt"));
    assertThat(h.status().state()).isEqualTo(LoopHealth.State.STOPPED);
    assertThat(h.status().reason()).isEqualTo("IllegalStateException: index is corrupt");
  }

  @Test
  void run_retries_kafka_errors_recovers_and_stops_on_another_error() {
    LoopHealth h = new LoopHealth("t");
    int[] calls = {0};
    h.run(() -> true, () -> {
      calls[0]++;
      if (calls[0] == 1) {
        throw new TimeoutException("broker away");
      }
      if (calls[0] == 2) {
        assertThat(h.status().state()).isEqualTo(LoopHealth.State.DEGRADED);
        return;
      }
      assertThat(h.status().state()).isEqualTo(LoopHealth.State.OK);
      throw new IllegalStateException("broken");
    });
    assertThat(calls[0]).isEqualTo(3);
    assertThat(h.status().state()).isEqualTo(LoopHealth.State.STOPPED);
    assertThat(h.status().reason()).isEqualTo("IllegalStateException: broken");

    LoopHealth closed = new LoopHealth("c");
    closed.run(() -> false, () -> calls[0]++);
    assertThat(calls[0]).isEqualTo(3);
    assertThat(closed.status().state()).isEqualTo(LoopHealth.State.OK);
  }
}
