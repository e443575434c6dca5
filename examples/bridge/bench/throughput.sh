#!/usr/bin/env bash
# How many messages per second the bridge forwards into its sink under
# h2load-driven OnMessagePublish calls, and how long it takes to answer
# each call.
#
#   cargo build --release -p bridge --features kafka
#   cargo build --release -p exhook-bench --bin frame
#   BRIDGE_SINK=redis BRIDGE_REDIS_URL=redis://127.0.0.1:6379 \
#     examples/bridge/bench/throughput.sh 200000
#
# The sink is configured by the BRIDGE_* variables as for the bridge itself.
# The bridge runs on core 0 and h2load (Debian's nghttp2-client) on core 1;
# the sink's server runs wherever the system puts it. h2load opens
# BENCH_CLIENTS connections (4) with up to BENCH_STREAMS calls in flight on
# each (64), as fast as the bridge answers, or BENCH_RPS calls per second
# on each connection when set. Prints h2load's summary, the answer times
# from its per-call log (mean, p50, p99, p99.9, max), the bridge's CPU time,
# then the time from the first call until the sink had acknowledged every
# message. With
# BRIDGE_TOPICS=none/# nothing matches and every call is a plain IGNORE,
# the answer time to compare with.
set -euo pipefail
cd "$(dirname "$0")/../../.."
n=${1:-200000}
target=${CARGO_TARGET_DIR:-target}/release
export EXHOOK_LISTEN=127.0.0.1:${BENCH_PORT:-9000}
export BRIDGE_METRICS_LISTEN=127.0.0.1:${BENCH_METRICS_PORT:-9100}
export BRIDGE_BUFFER=${BRIDGE_BUFFER:-$n}

frame=$(mktemp)
"$target/frame" > "$frame"
taskset -c 0 "$target/bridge" 2> /tmp/bridge-throughput.log &
bridge=$!
trap 'kill $bridge 2>/dev/null; wait $bridge; rm -f "$frame"' EXIT
until curl -sf "http://$BRIDGE_METRICS_LISTEN/metrics" > /dev/null; do
  kill -0 $bridge 2> /dev/null || { cat /tmp/bridge-throughput.log >&2; exit 1; }
  sleep 0.1
done

metric() {
  curl -s "http://$BRIDGE_METRICS_LISTEN/metrics" | awk -v name="$1" '$1 ~ "^"name"[{]" {print $2}'
}

calls=$(mktemp)
trap 'kill $bridge 2>/dev/null; wait $bridge; rm -f "$frame" "$calls"' EXIT
start=$(date +%s.%N)
taskset -c 1 h2load -n "$n" -c "${BENCH_CLIENTS:-4}" -m "${BENCH_STREAMS:-64}" -t 1 \
  ${BENCH_RPS:+--rps "$BENCH_RPS"} --log-file "$calls" -d "$frame" \
  -H 'content-type: application/grpc' -H 'te: trailers' \
  "http://$EXHOOK_LISTEN/emqx.exhook.v3.HookProvider/OnMessagePublish" |
  grep -E '^(finished in|requests:|time for request:)'
# h2load's log: start (µs since the epoch), HTTP status, µs to the answer.
cut -f3 "$calls" | sort -n | awk '
  { t[NR] = $1; sum += $1 }
  END {
    printf "answer time: mean %.2f ms, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms (%d calls)\n",
      sum / NR / 1000, t[int(NR * 0.5)] / 1000, t[int(NR * 0.99)] / 1000,
      t[int(NR * 0.999)] / 1000, t[NR] / 1000, NR
  }'
expected=$n
case "${BRIDGE_TOPICS:-sensors/#}" in none/*) expected=0 ;; esac
until [ "$(metric bridge_forwarded_total)" -ge "$expected" ]; do
  kill -0 $bridge 2> /dev/null || { cat /tmp/bridge-throughput.log >&2; exit 1; }
  sleep 0.02
done
end=$(date +%s.%N)
echo "forwarded $(metric bridge_forwarded_total) messages into ${BRIDGE_SINK:-mqtt}, retried $(metric bridge_retried_total), dropped $(metric bridge_dropped_total)"
# The bridge's CPU time so far (user + system, in clock ticks).
awk -v hz="$(getconf CLK_TCK)" '{ printf "bridge CPU time: %.2f s\n", ($14 + $15) / hz }' "/proc/$bridge/stat"
awk -v s="$start" -v e="$end" -v n="$expected" \
  'BEGIN { printf "all acknowledged after %.2f s: %.0f messages/s\n", e - s, n / (e - s) }'
