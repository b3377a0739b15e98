package dev.moments.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenFileTest {
  @TempDir Path tmp;

  @Test
  void lines_give_tokens_their_streams_and_star_gives_every_stream() {
    Map<String, Access> t = TokenFile.parse("# comment\n\nabc kitchen, garage\n  admin *  \nx porch\n", "f");
    assertThat(t).hasSize(3);
    assertThat(t.get("admin").everyStream()).isTrue();
    assertThat(t.get("abc").streams()).isEqualTo(Set.of("kitchen", "garage"));
    assertThat(t.get("abc").allows("porch")).isFalse();
    assertThat(t.get("x").allows("porch")).isTrue();
  }

  @Test
  void a_bad_line_is_named_in_the_error() {
    assertThatThrownBy(() -> TokenFile.parse("ok *\njusttoken\n", "tokens.txt"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tokens.txt line 2: expected 'TOKEN STREAM[,STREAM...]' or 'TOKEN *', got 'justtoken'");
    assertThatThrownBy(() -> TokenFile.parse("a x\na y\n", "f")).hasMessage("f line 2: token listed twice");
    assertThatThrownBy(() -> TokenFile.parse("a x,,y\n", "f")).hasMessage("f line 1: bad stream list 'x,,y' (comma-separated stream ids, or *)");
  }

  @Test
  void a_missing_file_fails_at_load() {
    assertThatThrownBy(() -> TokenFile.load(tmp.resolve("nope.txt")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not exist");
  }

  @Test
  void the_file_is_reread_when_it_changes_and_a_broken_edit_keeps_the_old_tokens() throws Exception {
    Path f = tmp.resolve("tokens");
    Files.writeString(f, "a kitchen\n");
    TokenFile tokens = TokenFile.load(f);
    assertThat(tokens.lookup("a")).isPresent();
    assertThat(tokens.lookup(null)).isEmpty();

    Files.writeString(f, "b garage\n");
    Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 2000));
    assertThat(tokens.lookup("a")).isEmpty();
    assertThat(tokens.lookup("b").orElseThrow().streams()).containsExactly("garage");

    Files.writeString(f, "broken\n");
    Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 4000));
    assertThat(tokens.lookup("b")).isPresent();
    assertThat(tokens.lastError()).contains("line 1");
  }

  @Test
  void access_narrows_requested_streams_to_allowed_ones() {
    Access a = Access.only(Set.of("kitchen", "garage"));
    assertThat(a.narrow(null)).isEqualTo(Set.of("kitchen", "garage"));
    assertThat(a.narrow(Set.of("garage", "porch"))).isEqualTo(Set.of("garage"));
    assertThat(Access.all().narrow(null)).isNull();
    assertThat(Access.all().narrow(Set.of("porch"))).isEqualTo(Set.of("porch"));
  }
}
