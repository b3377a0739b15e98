package dev.moments.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/**
 * docker-compose.yml read the way compose reads it, for tests without a Docker engine: {@code
 * ${VAR}} / {@code ${VAR:-default}} interpolated from a given environment ({@code $$} is a dollar),
 * then YAML with anchors, aliases and {@code <<} merge keys (the {@code x-moments} block).
 */
final class ComposeFile {
  private static final Pattern VARIABLE = Pattern.compile("\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:?-([^}]*))?}");

  /** One service after merging, with list-or-map fields normalized. */
  record Service(String name, Map<String, Object> raw, List<String> command, Map<String, String> environment,
      List<String> volumes, List<String> ports, List<String> profiles) {}

  private final Path file;
  private final Map<String, Object> root;

  private ComposeFile(Path file, Map<String, Object> root) {
    this.file = file;
    this.root = root;
  }

  /** The repository root: the first folder at or above the working directory with a docker-compose.yml. */
  static Path repositoryRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("docker-compose.yml"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("no docker-compose.yml above " + Path.of("").toAbsolutePath());
    }
    return p;
  }

  /** Reads {@code file}, interpolating variables from {@code shell} (the environment compose runs in). */
  static ComposeFile load(Path file, Map<String, String> shell) throws IOException {
    Matcher m = VARIABLE.matcher(Files.readString(file));
    StringBuilder text = new StringBuilder();
    while (m.find()) {
      String value;
      if (m.group().equals("$$")) {
        value = "$";
      } else {
        String set = shell.get(m.group(1));
        boolean useDefault = m.group(2) != null
            && (set == null || (m.group(2).startsWith(":") && set.isEmpty()));
        value = useDefault ? m.group(3) : set == null ? "" : set;
      }
      m.appendReplacement(text, Matcher.quoteReplacement(value));
    }
    m.appendTail(text);
    Map<String, Object> root = new Yaml().load(text.toString());
    return new ComposeFile(file, root);
  }

  Path file() {
    return file;
  }

  /** The top-level map (services, volumes, x-* extensions). */
  Map<String, Object> root() {
    return root;
  }

  /** Every service, in file order. */
  Map<String, Service> services() {
    Map<String, Service> out = new LinkedHashMap<>();
    map(root.get("services")).forEach((name, body) -> out.put(name, service(name, map(body))));
    return out;
  }

  /** The named volumes declared at the top level. */
  List<String> volumes() {
    return new ArrayList<>(map(root.get("volumes")).keySet());
  }

  private static Service service(String name, Map<String, Object> s) {
    Map<String, String> env = new LinkedHashMap<>();
    Object e = s.get("environment");
    if (e instanceof Map<?, ?> em) {
      em.forEach((k, v) -> env.put(String.valueOf(k), v == null ? "" : String.valueOf(v)));
    } else if (e instanceof List<?> el) {
      for (Object kv : el) {
        String[] p = String.valueOf(kv).split("=", 2);
        env.put(p[0], p.length > 1 ? p[1] : "");
      }
    }
    Object c = s.get("command");
    List<String> command = c == null ? List.of()
        : c instanceof List<?> cl ? cl.stream().map(String::valueOf).toList()
        : List.of(String.valueOf(c).trim().split("\\s+"));
    return new Service(name, s, command, env, strings(s.get("volumes")), strings(s.get("ports")),
        strings(s.get("profiles")));
  }

  private static List<String> strings(Object o) {
    return o == null ? List.of() : ((List<?>) o).stream().map(String::valueOf).toList();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o == null ? Map.of() : (Map<String, Object>) o;
  }
}
