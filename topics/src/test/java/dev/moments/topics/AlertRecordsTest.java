package dev.moments.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class AlertRecordsTest {
  @Test
  void ruleRoundTripsThroughItsJson() {
    AlertRule r = new AlertRule("r-1", "sha256:ab", "the keys are put on the shelf", List.of("cam-1"),
        0.25f, 60_000, "http://127.0.0.1:9/hook", "00ff", new float[] {0.6f, -0.8f}, "table-v1",
        1_780_000_000_000L);
    byte[] json = r.toBytes();
    assertThat(new String(json, StandardCharsets.UTF_8))
        .contains("\"q\":\"the keys are put on the shelf\"", "\"cooldownMs\":60000", "\"embedding\":[0.6,-0.8]");
    assertThat(AlertRule.fromBytes(json)).isEqualTo(r);
    assertThat(r.watches("cam-1")).isTrue();
    assertThat(r.watches("cam-2")).isFalse();
    AlertRule all = new AlertRule("r-2", "insecure", "x", null, 0f, 0, null, null, new float[] {1f}, "e", 0);
    assertThat(all.watches("cam-2")).isTrue();
    assertThat(AlertRule.serde().deserializer().deserialize("t", null)).isNull();
  }

  @Test
  void alertRoundTripsAndItsIdIsDeterministic() {
    AlertRecord a = new AlertRecord(AlertRecord.idFor("r-1", "cam-1/0/3"), "r-1", "insecure", "keys",
        "cam-1", "cam-1/0/3", "cam-1/0", 1000, 5000, 0.31f, 42);
    assertThat(a.alertId()).isEqualTo("r-1/cam-1/0/3");
    assertThat(AlertRecord.fromBytes(a.toBytes())).isEqualTo(a);
  }

  @Test
  void garbageIsAClearError() {
    assertThatThrownBy(() -> AlertRule.fromBytes("{\"id\":".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an alert rule");
    assertThatThrownBy(() -> AlertRecord.fromBytes(new byte[] {1, 2}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an alert record");
  }

  @Test
  void theRulesTopicIsCompacted() {
    Topics t = Topics.defaults();
    assertThat(t.names()).contains("moments.alert-rules", "moments.alerts");
    assertThat(TopicAdmin.configs(t, "moments.alert-rules")).containsEntry("cleanup.policy", "compact");
    assertThat(TopicAdmin.configs(t, "moments.alerts")).doesNotContainKey("cleanup.policy");
  }
}
