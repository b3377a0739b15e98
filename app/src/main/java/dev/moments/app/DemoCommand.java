package dev.moments.app;

import dev.moments.app.demo.DemoRunner;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moments demo}: the whole live pipeline in one JVM on rendered scenes. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the whole pipeline in one JVM: render first-person scenes, train a pocket "
        + "encoder pair and a LAVITI model on them (cached), then embedded Kafka, the scenes ingested as "
        + "camera streams, featurizer, indexer and the query API; print example answers and "
        + "'ready: URL', then serve until Ctrl-C.")
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--data", defaultValue = "data/demo", paramLabel = "DIR",
      description = "Where the demo keeps everything it makes; reused by the next run (default: ${DEFAULT-VALUE}).")
  Path data;

  @Option(names = "--port", defaultValue = "7070", description = "HTTP port (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--videos", defaultValue = "4", description = "Demo videos / camera streams (default: ${DEFAULT-VALUE}).")
  int videos;

  @Option(names = "--minutes", defaultValue = "2", description = "Length of each video (default: ${DEFAULT-VALUE}).")
  double minutes;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the rendered world (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--speed", defaultValue = "0",
      description = "Ingest speed: 0 = as fast as possible, 1 = real time (default: ${DEFAULT-VALUE}).")
  double speed;

  @Option(names = "--encoder", paramLabel = "DIR", description = "Encoder directory (default: the pocket encoders the demo trains on its scenes).")
  Path encoder;

  @Option(names = "--model", paramLabel = "DIR", description = "LAVITI checkpoint (default: the model the demo trains on its scenes).")
  Path model;

  @Option(names = "--no-browser", description = "Do not open a browser.")
  boolean noBrowser;

  @Option(names = "--exit-when-ready", description = "Stop after printing the ready line (scripts, tests).")
  boolean exitWhenReady;

  @Override
  public Integer call() throws Exception {
    DemoRunner runner = new DemoRunner(
        new DemoRunner.Options(data, port, videos, minutes, seed, speed, encoder, model), System.out::println);
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      runner.close();
      stopped.countDown();
    }, "demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    runner.start();
    System.out.println();
    System.out.println("Example questions (top answer over all streams; times from the video's start):");
    for (DemoRunner.Answer a : runner.examples(3)) {
      System.out.printf(Locale.ROOT, "  %-30s -> %s %s-%s score %.3f   truth: %s %s-%s  %s%n",
          a.question(), a.streamId() == null ? "(none)" : a.streamId(), clock(a.startSec()), clock(a.endSec()),
          a.score(), a.truthStream(), clock(a.truthStart()), clock(a.truthEnd()),
          a.overlaps() ? "overlaps" : "no overlap");
    }
    System.out.println();
    System.out.println("ready: " + runner.readyUrl());
    System.out.flush();
    if (exitWhenReady) {
      Runtime.getRuntime().removeShutdownHook(hook);
      runner.close();
      return 0;
    }
    if (!noBrowser) {
      openBrowser(runner.readyUrl());
    }
    stopped.await();
    return 0;
  }

  private static String clock(double sec) {
    long s = Math.round(sec);
    return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }

  private static void openBrowser(String url) {
    try {
      new ProcessBuilder("xdg-open", url).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    } catch (java.io.IOException e) {
      System.out.println("(no browser opener found; open the URL above yourself)");
    }
  }
}
