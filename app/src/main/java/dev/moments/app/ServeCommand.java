package dev.moments.app;

import dev.moments.api.MomentsServer;
import dev.moments.api.alerts.WebhookConfig;
import dev.moments.api.auth.TokenFile;
import dev.moments.api.auth.Tokens;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code moments serve}: the query API and web page, with the materializer filling the index. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {
      "Answer questions over HTTP: search, frames, streams, health, metrics, OpenAPI and a web page at /.",
      "Keeps the moment index equal to PREFIX.moments while it runs. Needs --tokens FILE or an explicit --insecure."
    })
final class ServeCommand implements Callable<Integer> {
  @Mixin BrokerOptions broker;

  @Option(names = "--index", defaultValue = "data/index", paramLabel = "DIR",
      description = "Moment index directory, created when missing (default: ${DEFAULT-VALUE}).")
  Path index;

  @Option(names = "--port", defaultValue = "7070", description = "HTTP port, 0 for any free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--host", defaultValue = "0.0.0.0", description = "Interface to listen on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--encoder", paramLabel = "DIR",
      description = "Text encoder directory with encoder.json, the pair of the featurizer's image encoder "
          + "(default: the bundled models/tiny-clip).")
  Path encoder;

  @Option(names = "--tokens", paramLabel = "FILE",
      description = "Bearer tokens, one line each: 'TOKEN STREAM[,STREAM...]' or 'TOKEN *'; re-read when it changes.")
  Path tokens;

  @Option(names = "--ranker", defaultValue = "fused", paramLabel = "NAME",
      description = "Span ranker of the search (known: ${COMPLETION-CANDIDATES}; default: ${DEFAULT-VALUE}).",
      completionCandidates = RankerNames.class)
  String ranker;

  /** The rankers the query API knows, for the help text. */
  static final class RankerNames implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      return dev.moments.model.rank.Rankers.names().iterator();
    }
  }

  @Option(names = "--webhook-attempts", defaultValue = "6", paramLabel = "N",
      description = "POSTs per alert to its rule's webhook before it counts as failed; waits 1, 2, 4 ... s "
          + "(at most 60 s) between them (default: ${DEFAULT-VALUE}).")
  int webhookAttempts;

  @Option(names = "--webhook-timeout-ms", defaultValue = "10000", paramLabel = "MS",
      description = "Connect and answer timeout of one webhook POST (default: ${DEFAULT-VALUE}).")
  long webhookTimeoutMs;

  @Option(names = "--insecure", description = "Serve without authentication (every caller sees every stream).")
  boolean insecure;

  @Override
  public Integer call() throws Exception {
    Tokens access = tokens();
    WebhookConfig webhooks = WebhookConfig.defaults().with(webhookAttempts, Duration.ofMillis(webhookTimeoutMs));
    broker.ensureTopics();
    MomentsServer server = MomentsServer.start(new MomentsServer.Config(index, host, port, encoder, access,
        broker.bootstrap(), broker.topics(), MomentsServer.Config.DEFAULT_FRAME_CACHE_BYTES).withRanker(ranker)
        .withWebhooks(webhooks));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "serve-shutdown"));
    System.out.printf("serving http://%s:%d/ (index %s, text encoder %s, topics %s.*, %s). Ctrl-C to stop.%n",
        host.equals("0.0.0.0") ? "localhost" : host, server.port(), index.toAbsolutePath(), server.encoder().id(),
        broker.topics().prefix(), insecure ? "NO authentication (--insecure)" : "tokens from " + tokens);
    stopped.await();
    return 0;
  }

  private Tokens tokens() {
    if (tokens != null && insecure) {
      throw new IllegalArgumentException("--tokens FILE and --insecure exclude each other");
    }
    if (tokens == null && !insecure) {
      throw new IllegalArgumentException("serve needs --tokens FILE (lines 'TOKEN STREAM[,STREAM...]' or "
          + "'TOKEN *') or an explicit --insecure to run without authentication");
    }
    return insecure ? Tokens.insecure() : TokenFile.load(tokens);
  }
}
