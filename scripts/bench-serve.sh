#!/usr/bin/env bash
# Measures `compose serve` over loopback with wrk; the figures go to docs/benchmarks.md
# ("compose serve"). A benchmark, not a test: .ci/run does not run it.
#
# The workload (written to a temporary folder): fixtures/web's greeter and formatter with
# the `visits` label served by a third component, kv-memory, so that the same workload
# runs on all three servers (wasmtime serve cannot serve a labelled host backend):
#   (a) linked:   `compose serve` on the workload, each request linking lazily;
#   (b) composed: `compose build` of the workload, served by `compose serve` as one component;
#   (c) wasmtime: `wasmtime serve` on (b)'s component, when `wasmtime` 48 is on PATH (or in
#       $WASMTIME). This script does not install it: `cargo install wasmtime-cli@48 --locked`
#       builds Wasmtime from source (see docs/benchmarks.md for the features used).
# For each: requests/s and p50/p99 latency of `GET /greet/ann` at 1, 16 and 64 connections;
# (a) also with the pooling allocator off; resident memory at 64 concurrent slow requests
# (`GET /sleep/1000`) for (a) and (b).
#
# Usage: scripts/bench-serve.sh [SECONDS per wrk run, default 10]
# Needs: wrk (installed from Debian's packages when missing), a release build of compose
# (built here).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${1:-10}"
cd "$root"

if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null
fi
cargo build --release -p compose-cli >&2
compose="${CARGO_TARGET_DIR:-$root/target}/release/compose"
wasmtime="${WASMTIME:-$(command -v wasmtime || true)}"

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

components="$root/fixtures/components"
cat >"$work/linked.toml" <<EOF
name = "web-bench"
[host]
interfaces = ["wasi:*@0.2.0"]
[components.greeter]
path = "$components/http-greeter.wasm"
[components.formatter]
path = "$components/formatter.wasm"
[components.visits]
path = "$components/kv-memory.wasm"
EOF
"$compose" build "$work/linked.toml" -o "$work/web.wasm" >&2
cat >"$work/composed.toml" <<EOF
name = "web-bench-composed"
[host]
interfaces = ["wasi:*@0.2.0"]
[components.web]
path = "web.wasm"
EOF

# Starts a server in the background (its arguments are "$@", with @ADDR replaced by the
# next loopback address), waits until it answers; sets $port and $server_pid.
port=18080
start() {
  port=$((port + 1))
  local args=()
  for arg in "$@"; do args+=("${arg/@ADDR/127.0.0.1:$port}"); done
  "${args[@]}" >"$work/server-$port.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 1 200); do
    if curl -fs "http://127.0.0.1:$port/greet/warm" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "error: the server did not start: $*" >&2
  cat "$work/server-$port.log" >&2
  exit 1
}

stop() {
  kill -INT "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}

# `wrk` at $1 connections for $duration s against /greet/ann: "req/s p50 p99".
load() {
  local conns="$1" threads=2
  [ "$conns" -lt 2 ] && threads=1
  wrk -t "$threads" -c "$conns" -d 2s "http://127.0.0.1:$port/greet/ann" >/dev/null
  wrk -t "$threads" -c "$conns" -d "${duration}s" --latency "http://127.0.0.1:$port/greet/ann" |
    awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
         /Non-2xx/ {bad=$NF} END {printf "%s %s %s%s\n", rps, p50, p99, (bad ? " non-2xx=" bad : "")}'
}

# The highest resident set size (KiB) of $server_pid while 64 connections keep
# `GET /sleep/1000` requests in flight for 5 s, and before (idle, after warm-up).
rss_under_slow_load() {
  local idle peak=0 rss
  idle="$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")"
  wrk -t 2 -c 64 -d 5s --timeout 10s "http://127.0.0.1:$port/sleep/1000" >/dev/null &
  local wrk_pid=$!
  while kill -0 "$wrk_pid" 2>/dev/null; do
    rss="$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")"
    [ "$rss" -gt "$peak" ] && peak="$rss"
    sleep 0.1
  done
  echo "idle ${idle} KiB, peak ${peak} KiB at 64 slow requests"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d)"
echo "wrk runs of ${duration} s, GET /greet/ann; columns: req/s p50 p99"

run_all() {
  local name="$1"
  shift
  start "$@"
  for c in 1 16 64; do echo "$name c=$c: $(load "$c")"; done
  stop
}

run_all "(a) linked, pooling" "$compose" serve --addr @ADDR "$work/linked.toml"
run_all "(a) linked, no pooling" "$compose" serve --addr @ADDR "$work/linked.toml" --pool 0
run_all "(b) composed, pooling" "$compose" serve --addr @ADDR "$work/composed.toml"
if [ -n "$wasmtime" ] && "$wasmtime" --version | grep -q '^wasmtime 48\.'; then
  run_all "(c) $("$wasmtime" --version)" "$wasmtime" serve --addr @ADDR "$work/web.wasm"
else
  echo "(c) skipped: no wasmtime 48 on PATH or in \$WASMTIME"
fi

start "$compose" serve --addr @ADDR "$work/linked.toml"
echo "(a) linked: $(rss_under_slow_load)"
stop
start "$compose" serve --addr @ADDR "$work/composed.toml"
echo "(b) composed: $(rss_under_slow_load)"
stop
