#!/usr/bin/env bash
# Where a message.publish call's time goes, from socket to socket, in each
# benchmark provider: instruction counts per call under callgrind (user
# space; repeatable on a busy machine), then natively, with perf, the CPU
# time, the user/kernel split and the syscalls per call. See BREAKDOWN.md.
#
#   bench/breakdown/run.sh [output dir]      # default /tmp/exhook-breakdown
#
# Needs valgrind, linux-perf and nghttp2-client (apt-get install them);
# the servers run on CPU 0, h2load on CPU 1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-/tmp/exhook-breakdown}"
mkdir -p "$out"
target="${CARGO_TARGET_DIR:-$root/target}"

cargo build --release -q -p exhook-bench --bin baseline --bin frame \
  -p exhook-examples --example bench_provider --manifest-path "$root/Cargo.toml"
# Copies: a target directory shared with other checkouts may be rebuilt
# while this runs.
cp "$("$root/bench/go/build.sh")" "$target/release/baseline" \
  "$target/release/examples/bench_provider" "$out/"
"$target/release/frame" >"$out/publish.grpc"

# name, binary, environment (one VAR=value or -)
providers=(
  "hand-written $out/baseline -"
  "exhook-whole $out/bench_provider EXHOOK_BENCH_FULL_ANSWERS=1"
  "exhook-compact $out/bench_provider -"
  "go $out/exhook-go-peer -"
)
port=19700
url="http://127.0.0.1:$port/emqx.exhook.v3.HookProvider/OnMessagePublish"
load() { # calls connections streams
  taskset -c 1 h2load -t 1 -n "$1" -c "$2" -m "$3" -d "$out/publish.grpc" \
    -H 'content-type: application/grpc' -H 'te: trailers' "$url" >"$out/h2load.log"
  grep -q "$1 succeeded" "$out/h2load.log" || { cat "$out/h2load.log"; exit 1; }
}
wait_listening() {
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return
    sleep 0.1
  done
  echo "the server did not start" >&2
  exit 1
}
serve() { # env, command...
  local env="$1"
  shift
  if [ "$env" = - ]; then env=EXHOOK_BREAKDOWN=1; fi
  env "$env" EXHOOK_LISTEN="127.0.0.1:$port" taskset -c 0 "$@" >/dev/null 2>"$out/server.log" &
  server=$!
  wait_listening
}
stop() {
  # The provider itself: $server, or its child under perf stat, which
  # reports when the provider exits.
  pkill -TERM -P "$server" || kill -TERM "$server"
  wait "$server" || true
}

concurrent=20000
serial=2000
for p in "${providers[@]}"; do
  read -r name binary env <<<"$p"
  echo "== $name" >&2

  # 1. Native: CPU time and syscalls per call, 4 connections x 64 streams
  # and serial; perf stat counts the server process from start to exit.
  events=task-clock,raw_syscalls:sys_enter
  for s in writev sendmsg sendto write recvfrom recvmsg read epoll_wait futex; do
    events="$events,syscalls:sys_enter_$s"
  done
  for mode in concurrent serial; do
    if [ $mode = concurrent ]; then n=$concurrent c=4 m=64; else n=$serial c=1 m=1; fi
    serve "$env" perf stat -x, -e "$events" -o "$out/$name.$mode.perfstat" -- "$binary"
    load 1000 "$c" "$m"
    load "$n" "$c" "$m"
    stop
    echo "calls $((n + 1000))" >>"$out/$name.$mode.perfstat"
  done

  # 2. Native: where the CPU time goes, user space or kernel, sampled.
  serve "$env" "$binary"
  load 1000 4 64
  perf record -q -e cpu-clock -F 4999 -p "$server" -o "$out/$name.perf.data" 2>/dev/null &
  recorder=$!
  sleep 0.5
  load "$concurrent" 4 64
  kill -INT "$recorder"
  wait "$recorder" || true
  stop
  perf report -i "$out/$name.perf.data" --stdio --sort dso 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -8 >"$out/$name.dso.txt"

  # 3. Instructions per call under callgrind: warm up, zero the counters,
  # a fixed number of calls, dump. Not for the Go peer (its runtime's own
  # threads and GC make instruction counts a different kind of figure).
  [ "$name" = go ] && continue
  rm -f "$out/$name".callgrind.*
  serve "$env" valgrind --tool=callgrind --callgrind-out-file="$out/$name.callgrind.%p" "$binary"
  load 2000 4 64
  callgrind_control -z "$server" >/dev/null
  load 10000 4 64
  callgrind_control --dump=concurrent "$server" >/dev/null
  callgrind_control -z "$server" >/dev/null
  load 1000 1 1
  callgrind_control --dump=serial "$server" >/dev/null
  stop
done

# The report.
for p in "${providers[@]}"; do
  read -r name _ _ <<<"$p"
  echo "## $name"
  for mode in concurrent serial; do
    echo "### native, $mode ($(sed -n 's/^calls //p' "$out/$name.$mode.perfstat") calls incl. warm-up)"
    awk -F, -v calls="$(sed -n 's/^calls //p' "$out/$name.$mode.perfstat")" '
      $3 == "task-clock" { printf "CPU per call: %.2f us\n", $1 * 1000 / calls }
      $3 ~ /sys_enter/ && $1 > 0 { sub(/.*sys_enter_?/, "", $3); printf "%s per call: %.2f\n", ($3 == "" ? "all syscalls" : $3), $1 / calls }
    ' "$out/$name.$mode.perfstat"
  done
  echo "### native, 4x64: CPU samples by binary"
  cat "$out/$name.dso.txt"
  for dump in "$out/$name".callgrind.*; do
    case "$dump" in
      *.1) echo "### callgrind, 4x64, 10000 calls"; python3 "$here/callgrind_costs.py" 10000 "$dump" ;;
      *.2) echo "### callgrind, serial, 1000 calls"; python3 "$here/callgrind_costs.py" 1000 "$dump" ;;
    esac
  done
done
