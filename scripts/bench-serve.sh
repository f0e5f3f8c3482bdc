#!/usr/bin/env bash
# Measures `compose serve` over loopback with wrk; the figures go to docs/benchmarks.md
# ("compose serve"). A benchmark, not a test: .ci/run does not run it.
#
# The workload (written to a temporary folder): fixtures/web's greeter and formatter with
# the `visits` label served by a third component, kv-memory, so that the same workload
# runs on all three servers (wasmtime serve cannot serve a labelled host backend):
#   (a) linked:   `compose serve` on the workload, each request linking lazily;
#   (a') clustered: the same with the three components in one `[clusters]` entry, which
#       the run-time linker fuses into one component when it compiles the workload;
#   (b) composed: `compose build` of the workload, served by `compose serve` as one component;
#   (c) wasmtime: `wasmtime serve` on (b)'s component, when `wasmtime` 48 is on PATH (or in
#       $WASMTIME). This script does not install it: `cargo install wasmtime-cli@48 --locked`
#       builds Wasmtime from source (see docs/benchmarks.md for the features used). The
#       composed component keeps its inner components' `implements` options, so it needs
#       `-W component-model-implements=y`.
# For each: requests/s and p50/p99 latency of `GET /greet/ann` at 1, 16 and 64 connections;
# (a) also with the pooling allocator off; resident memory at 64 concurrent slow requests
# (`GET /sleep/1000`) for (a), (b) and (c), with the OS thread count.
#
# Usage: scripts/bench-serve.sh [SECONDS per wrk run, default 5] [ROUNDS, default 3]
# Needs: wrk (installed from Debian's packages when missing), a release build of compose
# (built here, or the binary in $COMPOSE).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${1:-5}"
rounds="${2:-3}"
cd "$root"

# setup, start, interleaved (load), medians, slow_load_rss, machine
source "$root/scripts/bench-lib.sh"
setup
wasmtime="${WASMTIME:-$(command -v wasmtime || true)}"
port=18080

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
sed 's/^\[components.greeter\]/[clusters]\nweb = ["greeter", "formatter", "visits"]\n&/' \
  "$work/linked.toml" >"$work/clustered.toml"
"$compose" build "$work/linked.toml" -o "$work/web.wasm" >&2
cat >"$work/composed.toml" <<EOF
name = "web-bench-composed"
[host]
interfaces = ["wasi:*@0.2.0"]
[components.web]
path = "web.wasm"
EOF

# slow_load_rss's figures as a sentence.
rss_sentence() {
  local idle peak threads peak_threads
  read -r idle peak threads peak_threads < <(slow_load_rss "$1" "$2" 64 /sleep/1000)
  echo "idle ${idle} KiB and ${threads} threads; peak ${peak} KiB and ${peak_threads} threads at 64 slow requests"
}

machine
echo "wrk: $rounds rounds of ${duration} s per server and connection count, servers interleaved; GET /greet/ann; medians"

names=() ports=() server_pids=()
serve() {
  local name="$1"
  shift
  start "$@"
  names+=("$name") ports+=("$port") server_pids+=("$server_pid")
}
serve "(a) linked" "$compose" serve --addr @ADDR "$work/linked.toml"
serve "(a) linked, no pooling" "$compose" serve --addr @ADDR --pool 0 "$work/linked.toml"
serve "(a') linked, one cluster" "$compose" serve --addr @ADDR "$work/clustered.toml"
serve "(b) composed" "$compose" serve --addr @ADDR "$work/composed.toml"
if [ -n "$wasmtime" ] && "$wasmtime" --version | grep -q '^wasmtime 48\.'; then
  serve "(c) $("$wasmtime" --version | cut -d' ' -f1-2) serve" "$wasmtime" serve -W component-model-implements=y --addr @ADDR "$work/web.wasm"
else
  echo "(c) skipped: no wasmtime 48 on PATH or in \$WASMTIME"
fi

for c in 1 16 64; do
  interleaved "$c"
  for i in "${!names[@]}"; do
    bad="$(grep -o 'non-2xx=[0-9]*' "$work/runs-$i" | paste -sd' ' || true)"
    echo "${names[$i]} c=$c: $(medians <"$work/runs-$i")${bad:+ ($bad)}"
  done
done

# The host's backends at 64 connections: fixtures/web itself, its `visits` served by the
# `memory` plugin, and by the `postgres` plugin when TEAM_A_DATABASE_URL is set
# (scripts/postgres.sh): each request reads and writes its row through the plugin.
web="$root/fixtures/web/workload.toml"
sed "s|\"\.\./components/|\"$components/|" "$web" >"$work/memory.toml"
backend_names=("(d) fixtures/web, visits on the memory plugin") backend_files=("$work/memory.toml")
if [ -n "${TEAM_A_DATABASE_URL:-}" ]; then
  sed 's|backends = { visits = "wasi:keyvalue/store@0.2.0-draft" }|[host.backends.visits]\ninterface = "wasi:keyvalue/store@0.2.0-draft"\nplugin = "postgres"\nurl-env = "TEAM_A_DATABASE_URL"|' \
    "$work/memory.toml" >"$work/postgres.toml"
  backend_names+=("(e) fixtures/web, visits on the postgres plugin") backend_files+=("$work/postgres.toml")
else
  echo "(e) skipped: TEAM_A_DATABASE_URL is not set (scripts/postgres.sh run -- $0)"
fi
for i in "${!backend_files[@]}"; do
  start "$compose" serve --addr @ADDR "${backend_files[$i]}"
  : >"$work/backend-runs"
  for _ in $(seq 1 "$rounds"); do load "$port" 64 >>"$work/backend-runs"; done
  echo "${backend_names[$i]} c=64: $(medians <"$work/backend-runs")"
  kill -INT "$server_pid" 2>/dev/null || true
done

# Memory on fresh servers (the ones above have served the load): idle after one request,
# then the peak under 64 slow requests.
for i in "${server_pids[@]}"; do kill -INT "$i" 2>/dev/null || true; done
start "$compose" serve --addr @ADDR "$work/linked.toml"
echo "(a) linked: $(rss_sentence "$server_pid" "$port")"
start "$compose" serve --addr @ADDR "$work/composed.toml"
echo "(b) composed: $(rss_sentence "$server_pid" "$port")"
if [ -n "$wasmtime" ] && "$wasmtime" --version | grep -q '^wasmtime 48\.'; then
  start "$wasmtime" serve -W component-model-implements=y --addr @ADDR "$work/web.wasm"
  echo "(c) wasmtime serve: $(rss_sentence "$server_pid" "$port")"
fi
