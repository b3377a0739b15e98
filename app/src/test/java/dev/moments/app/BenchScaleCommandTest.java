package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code moments bench scale} at toy size: real featurize and index child processes (1, then 2)
 * on an embedded broker, 2 streams on 2 partitions, 6 s of video each (windows of 10 s every 2 s,
 * so 3 windows per stream). Checks the table, not the speed: one row per instance count with a
 * positive throughput, the exactly-once check passed, and every instance handled records.
 */
class BenchScaleCommandTest {
  private static final Pattern FEATURIZE_ROW =
      Pattern.compile("(?m)^featurize\\s+(\\d+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)x\\s+(\\S+)\\s+\\S+\\s+(.*)$");
  private static final Pattern INDEX_ROW = Pattern.compile(
      "(?m)^index\\s+(\\d+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)x\\s+(\\S+)\\s+\\S+\\s+(.*)$");
  private static final Pattern HANDLED = Pattern.compile("i(\\d+)=(\\d+)");

  @Test
  void one_row_per_instance_count_with_positive_throughput_exactly_once_and_work_for_every_instance() {
    Cli.Out out = Cli.run("bench", "scale", "--streams", "2", "--partitions", "2", "--instances", "1,2",
        "--seconds", "6", "--window", "10s", "--hop", "2s", "--lateness", "1s", "--timeout", "3m");
    System.out.println(out.out());
    assertThat(out.rc()).as(out.err() + out.out()).isZero();
    assertThat(out.out()).contains("featurize: 6 s x 6 fps = 36 frames per stream, 72 frames")
        .contains("3 windows per stream, 6 windows").doesNotContain("ERROR");
    assertThat(out.out().split("exactly-once check passed", -1)).hasSize(5); // 2 stages x 2 runs

    List<String[]> featurize = rows(FEATURIZE_ROW, out.out());
    assertThat(featurize).extracting(r -> r[0]).containsExactly("1", "2");
    for (String[] r : featurize) {
      assertThat(Double.parseDouble(r[2])).as("frames/s with %s instances", r[0]).isPositive();
      assertThat(r[4]).isEqualTo("ok");
      // frames and marks: 72 + 2, all of them consumed, by every instance
      assertThat(handled(r[5])).hasSize(Integer.parseInt(r[0])).allMatch(n -> n > 0)
          .satisfies(h -> assertThat(h.stream().mapToLong(Long::longValue).sum()).isEqualTo(74));
    }

    List<String[]> index = rows(INDEX_ROW, out.out());
    assertThat(index).extracting(r -> r[0]).containsExactly("1", "2");
    for (String[] r : index) {
      assertThat(Double.parseDouble(r[2])).as("windows/s with %s instances", r[0]).isPositive();
      assertThat(Double.parseDouble(r[3])).as("features/s with %s instances", r[0]).isPositive();
      assertThat(r[5]).isEqualTo("ok");
      assertThat(handled(r[6])).hasSize(Integer.parseInt(r[0])).allMatch(n -> n > 0)
          .satisfies(h -> assertThat(h.stream().mapToLong(Long::longValue).sum()).isEqualTo(74));
    }
  }

  private static List<String[]> rows(Pattern row, String text) {
    List<String[]> out = new ArrayList<>();
    Matcher m = row.matcher(text);
    while (m.find()) {
      String[] g = new String[m.groupCount()];
      for (int i = 0; i < g.length; i++) {
        g[i] = m.group(i + 1);
      }
      out.add(g);
    }
    return out;
  }

  private static List<Long> handled(String perInstance) {
    List<Long> out = new ArrayList<>();
    Matcher m = HANDLED.matcher(perInstance);
    while (m.find()) {
      out.add(Long.parseLong(m.group(2)));
    }
    return out;
  }
}
