# Moments: one image for every service (broker-less: Kafka runs from apache/kafka, see
# docker-compose.yml). Build: docker build -t moments .   Run: docker run moments --help
#
# Stage 1 builds the app jar and its runtime libraries with Maven; stage 2 is a plain JRE with
# the jar, the libraries, the bundled models and an entrypoint that sets the launcher's JVM flags.

FROM maven:3.9-eclipse-temurin-25 AS build
WORKDIR /src
COPY . .
RUN mvn -B --no-transfer-progress -DskipTests package -pl app -am \
 && mkdir -p models

FROM eclipse-temurin:25-jre
ENV OPT_OUT_TRACKING=true \
    HOME=/home/moments
# FFmpeg ships inside JavaCV's jars, but its libavdevice links PulseAudio, ALSA and XCB client
# libraries that the JRE image lacks (without them no video decodes). Ubuntu 24.04 names ALSA's
# package libasound2t64.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpulse0 libasound2t64 libxcb1 libxcb-shm0 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system moments \
 && useradd --system --gid moments --home-dir /home/moments --create-home moments \
 && mkdir -p /data /opt/moments \
 && ln -s /data /opt/moments/data \
 && chown moments:moments /data
COPY --from=build /src/app/target/moments-app.jar /opt/moments/moments-app.jar
COPY --from=build /src/app/target/lib/ /opt/moments/lib/
COPY --from=build /src/models/ /opt/moments/models/
COPY docker/entrypoint.sh /opt/moments/entrypoint.sh
# Relative data paths (data/broker, data/index, ...) land in the /data volume.
WORKDIR /opt/moments
USER moments
VOLUME ["/data"]
EXPOSE 7070
ENTRYPOINT ["/opt/moments/entrypoint.sh"]
CMD ["--help"]
