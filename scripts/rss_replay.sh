#!/usr/bin/env bash
# Memory over an accelerated replay (issue 10, point 6): a real broker and the featurize, index and
# serve services as separate processes (./moments, so the launcher's JVM flags), one camera stream
# ingested from VIDEO at SPEED x real time, searches every 10 s, and scripts/rss_curve.py sampling
# VmRSS of every process every EVERY seconds. After the ingest ends it keeps sampling for TAIL
# seconds, then records each service's heap (jcmd GC.heap_info) and native memory (the services run
# with -XX:NativeMemoryTracking=summary: jcmd VM.native_memory summary), stops them and prints the
# report (start/peak/end RSS, slope after warm-up, ASCII curve, rss.png).
#
#   scripts/rss_replay.sh VIDEO [SPEED=60] [OUT=target/rss-replay] [EVERY=5] [TAIL=60]
#
# Ports: broker $RSS_BROKER_PORT (default 19392), HTTP $RSS_HTTP_PORT (default 17071). $RSS_FPS
# (default 6) is the sampling rate of the ingest and the indexer's feature rate. After the ingest the
# script waits (at most TAIL seconds) until the featurizer has featurized every frame sent, then
# samples 60 s more.
# MOMENTS_CLASSPATH is honoured (a packaged jar instead of building). Everything is under OUT.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VIDEO="$(readlink -f "${1:?usage: scripts/rss_replay.sh VIDEO [SPEED] [OUT] [EVERY] [TAIL]}")"
SPEED="${2:-60}"
OUT="$(mkdir -p "${3:-$ROOT/target/rss-replay}" && cd "${3:-$ROOT/target/rss-replay}" && pwd)"
EVERY="${4:-5}"
TAIL="${5:-60}"
BPORT="${RSS_BROKER_PORT:-19392}"
HPORT="${RSS_HTTP_PORT:-17071}"
BOOT="localhost:$BPORT"
FPS="${RSS_FPS:-6}"
M="$ROOT/moments"
rm -rf "$OUT/broker" "$OUT/index" "$OUT/indexer-state"
export MOMENTS_JAVA_OPTS="${MOMENTS_JAVA_OPTS:-} -XX:NativeMemoryTracking=summary"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_port() { # waits up to 120 s for localhost:$1
  for _ in $(seq 1 240); do (exec 3<>"/dev/tcp/localhost/$1") 2>/dev/null && return 0; sleep 0.5; done
  echo "rss_replay: nothing listens on port $1 after 120 s" >&2; exit 1
}

echo "rss_replay: $(date -u +%FT%TZ) uptime: $(uptime)"
# On a loaded machine the broker may not answer its own topic creation within its 30 s: try 3 times.
for attempt in 1 2 3; do
  "$M" broker --data "$OUT/broker" --port "$BPORT" >"$OUT/broker.log" 2>&1 & BROKER=$!
  for _ in $(seq 1 600); do
    grep -q "Kafka broker ready" "$OUT/broker.log" && break
    kill -0 "$BROKER" 2>/dev/null || break
    sleep 0.5
  done
  grep -q "Kafka broker ready" "$OUT/broker.log" && break
  echo "rss_replay: broker attempt $attempt failed: $(tail -n 2 "$OUT/broker.log" | tr '\n' ' ')" >&2
  kill "$BROKER" 2>/dev/null || true; wait "$BROKER" 2>/dev/null || true
  [ "$attempt" = 3 ] && exit 1
done
pids+=("$BROKER")
"$M" featurize --bootstrap "$BOOT" >"$OUT/featurize.log" 2>&1 & pids+=($!); FEAT=$!
"$M" index --bootstrap "$BOOT" --state-dir "$OUT/indexer-state" --fps "$FPS" >"$OUT/index.log" 2>&1 & pids+=($!); INDEX=$!
"$M" serve --bootstrap "$BOOT" --index "$OUT/index" --port "$HPORT" --insecure >"$OUT/serve.log" 2>&1 & pids+=($!)
SERVE=$!
/usr/bin/python3 "$ROOT/scripts/rss_curve.py" sample --out "$OUT/rss.csv" --every "$EVERY" \
  broker="$BROKER" featurize="$FEAT" index="$INDEX" serve="$SERVE" & SAMPLER=$!
wait_port "$HPORT"
echo "rss_replay: services up (broker $BROKER, featurize $FEAT, index $INDEX, serve $SERVE); ingesting $VIDEO at ${SPEED}x"
( while sleep 10; do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "http://localhost:$HPORT/api/search?q=where+did+I+leave+my+keys" \
      >>"$OUT/search.log" || true
  done ) & SEARCHER=$!; pids+=($SEARCHER)
t0=$(date +%s)
"$M" ingest --bootstrap "$BOOT" --stream cam1 --fps "$FPS" --speed "$SPEED" "$VIDEO" >"$OUT/ingest.log" 2>&1
t1=$(date +%s)
echo "rss_replay: ingest done in $((t1 - t0)) s: $(tail -n 1 "$OUT/ingest.log")"
sent="$(sed -n 's/.*sent \([0-9]*\) frames.*/\1/p' "$OUT/ingest.log" | tail -n 1)"
for _ in $(seq 1 "$TAIL"); do
  done_="$(sed -n 's/.*totals: \([0-9]*\) frames.*/\1/p' "$OUT/featurize.log" | tail -n 1)"
  [ -n "$sent" ] && [ -n "$done_" ] && [ "$done_" -ge "$sent" ] && break
  sleep 1
done
t2=$(date +%s)
echo "rss_replay: featurized ${done_:-?} of ${sent:-?} frames $((t2 - t0)) s after the ingest started"
sleep 60
for p in featurize:$FEAT index:$INDEX serve:$SERVE; do
  name="${p%%:*}"; pid="${p#*:}"
  { echo "== $name ($pid) VmRSS: $(grep VmRSS /proc/"$pid"/status)"; jcmd "$pid" GC.heap_info; \
    jcmd "$pid" VM.native_memory summary; } >"$OUT/$name.memory.txt" 2>&1 || true
done
kill "$SEARCHER" "$SERVE" "$INDEX" "$FEAT" 2>/dev/null || true
wait "$SERVE" "$INDEX" "$FEAT" 2>/dev/null || true
kill "$BROKER" 2>/dev/null || true; wait "$BROKER" 2>/dev/null || true
kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true
echo "rss_replay: $(date -u +%FT%TZ) uptime: $(uptime); ingest $((t1 - t0)) s, sampled $(( $(date +%s) - t0 )) s after it started"
echo "searches: $(wc -l <"$OUT/search.log") ($(grep -c '^200 ' "$OUT/search.log" || true) answered 200)"
/usr/bin/python3 "$ROOT/scripts/rss_curve.py" report "$OUT/rss.csv" --png "$OUT/rss.png" \
  --title "RSS, 1 camera, $(basename "$VIDEO") at ${SPEED}x"
