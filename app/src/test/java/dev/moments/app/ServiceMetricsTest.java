package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moments.api.metrics.Metrics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** The metrics endpoint of featurize and index, over real HTTP. */
class ServiceMetricsTest {
  @Test
  void metrics_are_prometheus_text_read_afresh_at_every_scrape() throws Exception {
    AtomicLong frames = new AtomicLong(7);
    Map<TopicPartition, OptionalLong> lags = new LinkedHashMap<>();
    lags.put(new TopicPartition("moments.frames", 1), OptionalLong.of(12));
    lags.put(new TopicPartition("moments.frames", 3), OptionalLong.empty());
    HttpClient http = HttpClient.newHttpClient();
    try (ServiceMetrics m = ServiceMetrics.start("127.0.0.1", 0, () -> new ServiceMetrics.Text("featurize")
        .partitions(lags).counter("moments_featurizer_records_total", "Records.", frames.get()).toString())) {
      URI uri = URI.create("http://127.0.0.1:" + m.port() + "/metrics");
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
      assertThat(r.body()).isEqualTo("""
          # HELP moments_owned_partitions Partitions of the input topic this instance owns (1 each; absent: owned by another instance).
          # TYPE moments_owned_partitions gauge
          moments_owned_partitions{service="featurize",topic="moments.frames",partition="1"} 1
          moments_owned_partitions{service="featurize",topic="moments.frames",partition="3"} 1
          # HELP moments_partition_lag Records behind the end of an owned partition (read_committed; NaN while not known).
          # TYPE moments_partition_lag gauge
          moments_partition_lag{service="featurize",topic="moments.frames",partition="1"} 12
          moments_partition_lag{service="featurize",topic="moments.frames",partition="3"} NaN
          # HELP moments_featurizer_records_total Records.
          # TYPE moments_featurizer_records_total counter
          moments_featurizer_records_total{service="featurize"} 7
          """);

      frames.set(9);
      lags.remove(new TopicPartition("moments.frames", 3));
      Map<String, Double> again = Metrics.parse(
          http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body());
      assertThat(again).containsEntry("moments_featurizer_records_total{service=\"featurize\"}", 9.0)
          .containsKey("moments_owned_partitions{service=\"featurize\",topic=\"moments.frames\",partition=\"1\"}")
          .doesNotContainKey("moments_owned_partitions{service=\"featurize\",topic=\"moments.frames\",partition=\"3\"}");

      assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + m.port() + "/other")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
      HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.noBody())
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(405);
      assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
    }
  }

  @Test
  void a_port_out_of_range_is_rejected_with_its_value() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ServiceMetrics.start("127.0.0.1", 70_000, () -> ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("metrics port must be between 0 and 65535, got 70000");
  }
}
