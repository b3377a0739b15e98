package dev.moments.app.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.ingest.FfmpegTools;
import dev.moments.world.Scene;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A camera of the demo world answered while it records: the demo (4 rendered videos of 2 min,
 * its models trained and its streams ingested as fast as possible) gets one more stream, the
 * first {@code keys end + 20 s} of the video where the keys are put down, ingested at real time
 * ({@code --speed 1}); while its frames are still being produced, "Where did I put the keys?"
 * through the served search (restricted to that stream, k = 1) answers with the put-down.
 *
 * <p>Before the demo indexed with windows of the training chunk length and a short hop (when its
 * window was the longest video, hop = window), the first answer came only at the stream's
 * end-of-stream mark: {@code seen.live()} was false.
 */
class DemoLiveTest {
  static final String KEYS = "Where did I put the keys?";

  @TempDir Path data;

  @Test
  void a_live_stream_answers_where_the_keys_are_before_it_ends() throws Exception {
    DemoRunner.Options o = new DemoRunner.Options(data, 0, 4, 2, 1, 0, null, null);
    List<String> lines = new ArrayList<>();
    try (DemoRunner demo = new DemoRunner(o, lines::add)) {
      demo.start();
      lines.forEach(System.out::println);
      Scene scene = demo.scenes().stream()
          .filter(sc -> sc.queries().stream().anyMatch(q -> q.query().equals(KEYS))).findFirst().orElseThrow();
      Scene.SceneQuery keys = scene.queries().stream().filter(q -> q.query().equals(KEYS)).findFirst().orElseThrow();
      // a section of the video: up to 20 s after the keys are down (two hops), not the whole 2 min
      double sectionSec = Math.min(scene.durationSec(), Math.ceil(keys.endSec()) + 20);
      Path section = data.resolve("live-section.mp4");
      FfmpegTools.run("-i", demo.world().resolve(scene.videoUid() + ".mp4").toString(), "-t",
          String.format(Locale.ROOT, "%.3f", sectionSec), "-c", "copy", section.toString());

      List<String> live = new ArrayList<>();
      DemoRunner.Live l = demo.streamLive("live-cam", section, sectionSec, 1.0,
          List.of(new LiveProbe.Watch(KEYS, keys.startSec(), keys.endSec())), live::add);
      live.forEach(System.out::println);

      assertThat(l.ingest().framesSent()).as("frames of the %.0f s section", sectionSec)
          .isGreaterThan((long) (sectionSec * DemoModels.FPS) - 10);
      assertThat(l.answers()).as("right answers to %s while live-cam recorded (%s-%s s)", KEYS,
          keys.startSec(), keys.endSec()).hasSize(1);
      LiveProbe.Seen seen = l.answers().get(0);
      // answered while frames were still being produced, before the section's end
      assertThat(seen.live()).as("answered at %.1f s of the stream's %.1f s", seen.capturedSec(), sectionSec).isTrue();
      assertThat(seen.capturedSec()).isLessThan(sectionSec);
      // the answer's range is the put-down
      double inter = Math.min(seen.endSec(), keys.endSec()) - Math.max(seen.startSec(), keys.startSec());
      double union = Math.max(seen.endSec(), keys.endSec()) - Math.min(seen.startSec(), keys.startSec());
      assertThat(inter / union).as("IoU of %.1f-%.1f s with the truth %.1f-%.1f s", seen.startSec(), seen.endSec(),
          keys.startSec(), keys.endSec()).isGreaterThanOrEqualTo(0.3);
      // every window of the stream, up to its end, became searchable
      assertThat(l.windows()).isNotEmpty();
      assertThat(l.windows().get(l.windows().size() - 1).endMs())
          .isGreaterThanOrEqualTo(l.startMs() + Math.round(sectionSec * 1000) - 1000);
    }
  }
}
