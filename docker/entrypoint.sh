#!/bin/sh
# Container entrypoint: the same JVM flags as the ./moments launcher (native access for
# DJL/JavaCV/Lucene, the vector API for Lucene, DJL strictly offline, deliberate libtorch
# threading), then the moments command with the container's arguments.
set -e
exec java ${MOMENTS_JAVA_OPTS:-} \
  --enable-native-access=ALL-UNNAMED \
  --add-modules jdk.incubator.vector \
  -Dai.djl.offline=true -DOPT_OUT_TRACKING=true \
  -Dai.djl.pytorch.num_threads="${MOMENTS_TORCH_THREADS:-$(nproc)}" \
  -Dai.djl.pytorch.num_interop_threads=1 \
  -Dmoments.home=/opt/moments \
  -XX:+UseG1GC \
  --sun-misc-unsafe-memory-access=allow \
  -cp "/opt/moments/moments-app.jar:/opt/moments/lib/*" \
  dev.moments.app.Moments "$@"
