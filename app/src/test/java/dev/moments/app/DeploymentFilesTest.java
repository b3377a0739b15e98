package dev.moments.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The Dockerfile and docker-compose.yml at the repository root, checked without a Docker engine
 * or the docker-compose program ({@link ComposeServicesTest} starts the services).
 */
class DeploymentFilesTest {
  private static final Path ROOT = ComposeFile.repositoryRoot();
  private static final List<String> MOMENTS_SERVICES = List.of("featurize", "index", "serve", "alerts", "ingest");

  @Test
  void compose_file_wires_kafka_and_every_service_by_the_flag_rule() throws Exception {
    // read as compose reads it (anchors, << merges, ${VAR:-default}) from a shell without MOMENTS_*
    ComposeFile compose = ComposeFile.load(ROOT.resolve("docker-compose.yml"), Map.of());
    Map<String, ComposeFile.Service> s = compose.services();
    assertThat(s).containsKeys("kafka", "featurize", "index", "serve", "alerts", "ingest");
    assertThat(compose.volumes()).contains("kafka-data", "models");

    ComposeFile.Service kafka = s.get("kafka");
    assertThat(String.valueOf(kafka.raw().get("image"))).startsWith("apache/kafka:");
    assertThat(kafka.environment()).containsEntry("KAFKA_PROCESS_ROLES", "broker,controller")
        .containsEntry("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@kafka:9093");
    assertThat(kafka.environment().get("KAFKA_ADVERTISED_LISTENERS")).contains("PLAINTEXT://kafka:9092");
    assertThat(kafka.volumes()).contains("kafka-data:/var/lib/kafka/data");
    assertThat(kafka.environment().get("CLUSTER_ID")).as("a base64 UUID").matches("[A-Za-z0-9_-]{22}");

    CommandLine moments = Moments.commandLine();
    for (String name : MOMENTS_SERVICES) {
      ComposeFile.Service svc = s.get(name);
      assertThat(svc).as(name).isNotNull();
      assertThat(svc.raw()).as(name).containsEntry("image", "moments:latest").containsEntry("build", ".");
      assertThat(svc.environment()).as(name).containsEntry("MOMENTS_BOOTSTRAP", "kafka:9092");
      assertThat(svc.command()).as(name).first().isEqualTo(name);
      // every environment variable of a Moments service is an option of its command by the flag rule
      CommandLine sub = moments.getSubcommands().get(name);
      assertThat(sub).as("moments %s", name).isNotNull();
      List<String> vars = sub.getCommandSpec().options().stream()
          .map(o -> EnvDefaults.variableFor(o.longestName())).toList();
      assertThat(vars).as("variables of moments %s", name).containsAll(svc.environment().keySet());
    }
    ComposeFile.Service serve = s.get("serve");
    assertThat(serve.ports()).containsExactly("7070:7070");
    assertThat(ComposeFile.load(ROOT.resolve("docker-compose.yml"), Map.of("MOMENTS_SERVE_PORTS", "7070-7071"))
        .services().get("serve").ports()).as("the header's two serve replicas").containsExactly("7070-7071:7070");
    assertThat(serve.volumes()).contains("./config:/config:ro");
    assertThat(serve.environment()).containsEntry("MOMENTS_INDEX", "/data/index")
        .containsEntry("MOMENTS_TOKENS", "/config/tokens");
    assertThat(s.get("featurize").volumes()).contains("models:/models:ro");
    ComposeFile.Service index = s.get("index");
    assertThat(index.volumes()).contains("models:/models:ro");
    assertThat(index.environment()).containsEntry("MOMENTS_STATE_DIR", "/data/indexer-state");
    // Replicas (--scale) share named volumes and bind mounts but each gets its own /data (the
    // image's VOLUME): the index's Kafka Streams state and serve's Lucene index must be there.
    for (ComposeFile.Service svc : List.of(index, serve)) {
      assertThat(svc.volumes()).as("%s mounts nothing on /data", svc.name())
          .noneMatch(v -> v.split(":")[1].equals("/data") || v.split(":")[1].startsWith("/data/"));
    }
    ComposeFile.Service ingest = s.get("ingest");
    assertThat(ingest.profiles()).containsExactly("ingest");
    assertThat(ingest.environment()).containsEntry("MOMENTS_STREAM", "camera-1");
    assertThat(ingest.command()).containsExactly("ingest", "rtsp://camera.local:554/stream");
    // the README says how to make the token file serve mounts
    assertThat(Files.readString(ROOT.resolve("README.md"))).contains("config/tokens")
        .contains("MOMENTS_TOKENS=/config/tokens");
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
