package dev.moments.api.alerts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class WebhookConfigTest {
  @Test
  void the_default_back_off_doubles_from_one_second_up_to_a_minute() {
    WebhookConfig c = WebhookConfig.defaults();
    assertThat(IntStream.rangeClosed(1, 8).mapToObj(n -> c.backoff(n).toSeconds()).toList())
        .containsExactly(1L, 2L, 4L, 8L, 16L, 32L, 60L, 60L);
    assertThat(c.attempts()).isEqualTo(6);
    assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void bad_values_are_refused_with_their_name() {
    assertThatThrownBy(() -> WebhookConfig.defaults().with(0, Duration.ofSeconds(1)))
        .hasMessage("webhook attempts must be >= 1, got 0");
    assertThatThrownBy(() -> new WebhookConfig(1, Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(1), 1))
        .hasMessage("webhook back-off must satisfy 0 <= first <= max, got PT2S and PT1S");
  }

  @Test
  void the_signature_is_the_hex_hmac_sha256_of_the_body_keyed_with_the_decoded_secret() {
    // openssl dgst -sha256 -mac HMAC -macopt hexkey:0011...eeff on the 7 bytes {"a":1}
    assertThat(WebhookDelivery.sign("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "{\"a\":1}".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .isEqualTo("sha256=55866b7e4a6891ec0ed516c74af2212ad50654f85f107e7699435a0db19a7f97");
    assertThatThrownBy(() -> WebhookDelivery.sign(null, new byte[0])).hasMessage("the rule has no webhook secret");
  }
}
