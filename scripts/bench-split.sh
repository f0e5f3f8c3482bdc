#!/usr/bin/env bash
# A workload split across two hosts over wRPC against the same workload on one host
# (issue 22; the figures go to docs/benchmarks.md, "wRPC"). A benchmark, not a test:
# .ci/run does not run it.
#
# fixtures/web's greeter and formatter, `GET /greet/ann` under wrk:
#   single: `compose serve fixtures/web/workload.toml`, one process;
#   split:  host A serves the formatter over wRPC (`--wrpc`, a workload of the formatter
#           alone), host B serves the greeter with `[remotes.formatter]` at host A's address:
#           every request makes one wRPC call over loopback TCP.
# Both processes share the machine's cores with each other and with wrk. Prints requests/s
# and p50/p99 (medians of the rounds) and split ÷ single.
#
# Usage: scripts/bench-split.sh [SECONDS per wrk run, default 5] [ROUNDS, default 3]
#        [CONNECTIONS, default 16]
# Needs: wrk (installed from Debian's packages when missing), a release build of compose
# (built here, or the binary in $COMPOSE).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${1:-5}"
rounds="${2:-3}"
conns="${3:-16}"
cd "$root"
# setup, start, interleaved, ratios, machine
source "$root/scripts/bench-lib.sh"
setup
port=18480
wrpc=18499
components="$root/fixtures/components"

cat >"$work/formatter.toml" <<TOML
name = "text"
[components.formatter]
path = "$components/formatter.wasm"
TOML
"$compose" serve --wrpc "tcp://127.0.0.1:$wrpc" "$work/formatter.toml" >"$work/formatter.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do
  grep -q "over wRPC on" "$work/formatter.log" && break
  sleep 0.1
done
cat >"$work/split.toml" <<TOML
name = "split"
[host]
interfaces = ["wasi:*@0.2.0"]
backends = { visits = "wasi:keyvalue/store@0.2.0-draft" }
[components.greeter]
path = "$components/http-greeter.wasm"
[remotes.formatter]
url = "tcp://127.0.0.1:$wrpc"
exports = ["acme:text/format@0.1.0"]
types = "$components/formatter.wasm"
TOML

names=(single split) ports=()
start "$compose" serve --addr @ADDR fixtures/web/workload.toml
ports+=("$port")
start "$compose" serve --addr @ADDR "$work/split.toml"
ports+=("$port")

machine
echo "wrk: $rounds rounds of ${duration} s per server, $conns connections, servers interleaved; GET /greet/ann; medians"
interleaved "$conns"
ratios
