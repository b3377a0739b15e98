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

  @Test
  void at_a_clip_end_the_pending_hop_window_comes_before_the_final_one_so_no_frame_is_left_out() {
    // 485 s clip at 6 fps (2910 frames), W = hop = 120 s, lateness 10 s: hop windows end at 120,
    // 240, 360 s; the one ending at 480 s would be due at 490 s. A final window alone ([365, 485))
    // would leave 360..365 s (frames 2160..2189) in no window; the indexer now emits the window
    // ending at 480 s first, and the windows are those of offline sliding windows with stride W.
    assertThat(LiveWindows.live(2910, 6, 120, 120, 10)).containsExactly(
        new Window(0, 720), new Window(720, 1440), new Window(1440, 2160), new Window(2160, 2880),
        new Window(2190, 2910));
    assertThat(LiveWindows.offline(2910, 6, 120, 120)).isEqualTo(LiveWindows.live(2910, 6, 120, 120, 10));
    // a clip a little longer than one window, nothing due before its end: [0, 120) then [5, 125)
    assertThat(LiveWindows.live(750, 6, 120, 120, 10)).containsExactly(new Window(0, 720), new Window(30, 750));
    // the pending window is not added when the final window covers everything since the last one
    assertThat(LiveWindows.live(1790, 6, 120, 60, 10)).containsExactly(
        new Window(0, 360), new Window(0, 720), new Window(360, 1080), new Window(720, 1440),
        new Window(1071, 1790));
  }

  @Test
  void every_frame_of_a_live_placement_is_in_some_window() {
    for (int frames = 1; frames < 1500; frames += 7) {
      for (double[] whl : new double[][] {{120, 120, 10}, {120, 50, 10}, {60, 60, 0}, {100, 30, 25}}) {
        boolean[] seen = new boolean[frames];
        for (Window w : LiveWindows.live(frames, 6, whl[0], whl[1], whl[2])) {
          assertThat(w.to() - w.from()).isLessThanOrEqualTo((int) Math.round(whl[0] * 6));
          for (int i = w.from(); i < w.to(); i++) {
            seen[i] = true;
          }
        }
        for (int i = 0; i < frames; i++) {
          assertThat(seen[i]).as("frame %d of %d, W/hop/lateness %s", i, frames, java.util.Arrays.toString(whl))
              .isTrue();
        }
      }
    }
  }
}
