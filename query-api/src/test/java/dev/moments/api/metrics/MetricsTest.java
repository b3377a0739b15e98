package dev.moments.api.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsTest {
  @Test
  void histogram_buckets_are_cumulative_with_sum_and_count() {
    Metrics m = new Metrics();
    m.searchSeconds(0.003); // le 0.005
    m.searchSeconds(0.02); // le 0.025
    m.searchSeconds(3.0); // le 5
    m.searchSeconds(9.0); // only +Inf
    Map<String, Double> s = Metrics.parse(m.scrape());
    assertThat(s.get("moments_search_latency_seconds_bucket{le=\"0.001\"}")).isEqualTo(0.0);
    assertThat(s.get("moments_search_latency_seconds_bucket{le=\"0.005\"}")).isEqualTo(1.0);
    assertThat(s.get("moments_search_latency_seconds_bucket{le=\"0.025\"}")).isEqualTo(2.0);
    assertThat(s.get("moments_search_latency_seconds_bucket{le=\"2.5\"}")).isEqualTo(2.0);
    assertThat(s.get("moments_search_latency_seconds_bucket{le=\"5\"}")).isEqualTo(3.0);
    assertThat(s.get("moments_search_latency_seconds_bucket{le=\"+Inf\"}")).isEqualTo(4.0);
    assertThat(s.get("moments_search_latency_seconds_count")).isEqualTo(4.0);
    assertThat(s.get("moments_search_latency_seconds_sum")).isEqualTo(12.023, org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void gauges_are_read_at_scrape_time_and_request_counts_carry_labels() {
    Metrics m = new Metrics();
    long[] lag = {5};
    m.gauge("moments_ingest_lag_records", "lag", () -> lag[0]);
    m.request("GET", "/api/search", 200);
    m.request("GET", "/api/search", 200);
    m.request("GET", "/api/streams", 401);
    lag[0] = 12;
    String text = m.scrape();
    assertThat(text).contains("# TYPE moments_ingest_lag_records gauge\n", "# TYPE moments_search_latency_seconds histogram\n");
    Map<String, Double> s = Metrics.parse(text);
    assertThat(s.get("moments_ingest_lag_records")).isEqualTo(12.0);
    assertThat(s.get("moments_http_requests_total{method=\"GET\",route=\"/api/search\",status=\"200\"}")).isEqualTo(2.0);
    assertThat(s.get("moments_http_requests_total{method=\"GET\",route=\"/api/streams\",status=\"401\"}")).isEqualTo(1.0);
  }
}
