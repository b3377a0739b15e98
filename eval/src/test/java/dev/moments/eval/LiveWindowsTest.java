package dev.moments.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.eval.LiveWindows.Window;
import org.junit.jupiter.api.Test;

class LiveWindowsTest {
  @Test
  void a_window_at_least_the_clip_with_hop_equal_to_it_is_one_window_live_and_offline() {
    // 120 s clip at 6 fps; W = hop = 121 s
    assertThat(LiveWindows.live(720, 6, 121, 121, 10)).containsExactly(new Window(0, 720));
    assertThat(LiveWindows.offline(720, 6, 121, 121)).containsExactly(new Window(0, 720));
  }

  @Test
  void a_30_s_hop_adds_partial_windows_that_offline_eval_never_runs() {
    // 120 s clip, W 121 s, hop 30 s, lateness 10 s: hop windows end at 30, 60, 90 s (due once the
    // newest frame at 119.83 s passes end + 10 s), then the idle flush covers every frame
    assertThat(LiveWindows.live(720, 6, 121, 30, 10)).containsExactly(
        new Window(0, 180), new Window(0, 360), new Window(0, 540), new Window(0, 720));
    assertThat(LiveWindows.offline(720, 6, 121, 30)).containsExactly(new Window(0, 720));
  }

  @Test
  void long_clips_slide_differently_live_and_offline() {
    // 300 s clip, W 120 s: live windows end at hop multiples from the first frame (the early ones
    // partial), offline slides from frame 0 and aligns the last window to the clip end
    assertThat(LiveWindows.live(1800, 6, 120, 60, 0)).containsExactly(
        new Window(0, 360), new Window(0, 720), new Window(360, 1080), new Window(720, 1440),
        new Window(1080, 1800));
    assertThat(LiveWindows.offline(1800, 6, 120, 60)).containsExactly(
        new Window(0, 720), new Window(360, 1080), new Window(720, 1440), new Window(1080, 1800));
  }
}
