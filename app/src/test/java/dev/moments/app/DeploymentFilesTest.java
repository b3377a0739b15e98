package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The Dockerfile and docker-compose.yml at the repository root, checked without a Docker engine. */
class DeploymentFilesTest {
  private static final Path ROOT = findRoot();
  private static final List<String> MOMENTS_SERVICES = List.of("featurize", "index", "serve", "ingest");

  private static Path findRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("docker-compose.yml"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("no docker-compose.yml above " + Path.of("").toAbsolutePath());
    }
    return p;
  }

  private record Run(int exit, String out) {}

  private static Run compose(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("docker-compose", "-f", ROOT.resolve("docker-compose.yml").toString()));
    cmd.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true);
    // the file's own defaults, not whatever the developer's shell exports
    pb.environment().keySet().removeIf(k -> k.startsWith("MOMENTS_") || k.startsWith("COMPOSE_"));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("docker-compose %s finished", args).isTrue();
    return new Run(p.exitValue(), out);
  }

  private static boolean onPath(String exe) {
    String path = System.getenv("PATH");
    return path != null && Arrays.stream(path.split(File.pathSeparator))
        .anyMatch(d -> Files.isExecutable(Path.of(d, exe)));
  }

  /** Splits {@code docker-compose config} output into service name -> its block of lines. */
  private static Map<String, String> serviceBlocks(String config) {
    Map<String, String> blocks = new LinkedHashMap<>();
    boolean inServices = false;
    String current = null;
    StringBuilder b = new StringBuilder();
    for (String line : config.split("\n")) {
      if (!line.startsWith(" ")) {
        inServices = line.equals("services:");
        if (current != null) {
          blocks.put(current, b.toString());
          current = null;
        }
        continue;
      }
      if (inServices && line.matches("  [A-Za-z0-9_-]+:")) {
        if (current != null) {
          blocks.put(current, b.toString());
        }
        current = line.trim().replace(":", "");
        b = new StringBuilder();
      } else if (current != null) {
        b.append(line).append('\n');
      }
    }
    if (current != null) {
      blocks.put(current, b.toString());
    }
    return blocks;
  }

  @Test
  void compose_file_is_valid_and_wires_kafka_and_every_service() throws Exception {
    assumeTrue(onPath("docker-compose"),
        "docker-compose is not on PATH (Debian package docker-compose); CI installs it");
    Run quiet = compose("config", "-q");
    assertThat(quiet.exit()).as(quiet.out()).isZero();
    assertThat(quiet.out().strip()).isEmpty();

    assertThat(compose("config", "--services").out().lines().toList())
        .contains("kafka", "featurize", "index", "serve", "ingest");
    assertThat(compose("config", "--volumes").out().lines().toList())
        .contains("kafka-data", "models", "index", "index-state");

    Map<String, String> s = serviceBlocks(compose("config").out());
    String kafka = s.get("kafka");
    assertThat(kafka).contains("image: apache/kafka:")
        .contains("KAFKA_PROCESS_ROLES: broker,controller")
        .contains("KAFKA_CONTROLLER_QUORUM_VOTERS: 1@kafka:9093")
        .contains("PLAINTEXT://kafka:9092")
        .contains("kafka-data:/var/lib/kafka/data");
    Matcher cid = Pattern.compile("CLUSTER_ID: (\\S+)").matcher(kafka);
    assertThat(cid.find()).isTrue();
    assertThat(cid.group(1)).as("a base64 UUID").matches("[A-Za-z0-9_-]{22}");

    for (String name : MOMENTS_SERVICES) {
      String block = s.get(name);
      assertThat(block).as(name).isNotNull()
          .contains("image: moments:latest")
          .contains("context: " + ROOT)
          .contains("MOMENTS_BOOTSTRAP: kafka:9092")
          .contains("    - " + name + "\n");
      // every environment variable of a Moments service follows the MOMENTS_ flag rule
      String env = block.substring(block.indexOf("    environment:\n"));
      env = env.substring("    environment:\n".length());
      for (String line : env.split("\n")) {
        if (!line.startsWith("      ")) {
          break;
        }
        String var = line.trim().split(":")[0];
        assertThat(var).as("%s env", name).matches("MOMENTS_[A-Z0-9_]+");
        String flag = "--" + var.substring("MOMENTS_".length()).toLowerCase().replace('_', '-');
        assertThat(EnvDefaults.variableFor(flag)).isEqualTo(var);
      }
    }
    assertThat(s.get("serve")).contains("published: 7070").contains("target: 7070")
        .contains("index:/data/index").contains("MOMENTS_INDEX: /data/index");
    assertThat(s.get("featurize")).contains("models:/models:ro");
    assertThat(s.get("index")).contains("models:/models:ro");
    assertThat(s.get("ingest")).contains("profiles:\n    - ingest").contains("MOMENTS_STREAM: camera-1");
  }

  @Test
  void dockerfile_builds_with_maven_and_runs_the_launcher_flags_as_non_root() throws IOException {
    String df = Files.readString(ROOT.resolve("Dockerfile"));
    assertThat(df).contains("FROM maven:3.9-eclipse-temurin-25 AS build")
        .contains("mvn -B --no-transfer-progress -DskipTests package -pl app -am")
        .contains("FROM eclipse-temurin:25-jre")
        .contains("/src/app/target/moments-app.jar")
        .contains("/src/app/target/lib/")
        .contains("/src/models/")
        .contains("VOLUME [\"/data\"]")
        .contains("ENTRYPOINT [\"/opt/moments/entrypoint.sh\"]");
    Matcher user = Pattern.compile("(?m)^USER (\\S+)$").matcher(df);
    assertThat(user.find()).isTrue();
    assertThat(user.group(1)).isNotIn("root", "0");

    // The entrypoint passes every JVM flag of the ./moments launcher.
    String launcher = Files.readString(ROOT.resolve("moments"));
    String flagsBlock = launcher.substring(launcher.indexOf("JVM_FLAGS=("), launcher.indexOf(")\n", launcher.indexOf("JVM_FLAGS=(")));
    String entry = Files.readString(ROOT.resolve("docker/entrypoint.sh"));
    assertThat(Files.isExecutable(ROOT.resolve("docker/entrypoint.sh"))).isTrue();
    List<String> flags = new ArrayList<>();
    for (String tok : flagsBlock.substring("JVM_FLAGS=(".length()).trim().split("\\s+")) {
      flags.add(tok.split("=")[0]); // compare names; values such as $ROOT differ in the image
    }
    flags.add("--sun-misc-unsafe-memory-access=allow"); // added by the launcher on JDK 24+
    assertThat(flags).contains("--enable-native-access", "-Dai.djl.offline", "-Dmoments.home");
    for (String f : flags) {
      assertThat(entry).as("entrypoint passes %s", f).contains(f);
    }
    assertThat(entry).contains("-Dmoments.home=/opt/moments").contains("dev.moments.app.Moments \"$@\"");
  }
}
