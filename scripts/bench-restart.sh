#!/usr/bin/env bash
# Start-up with and without the compiled-code cache (issue 19; figures in
# docs/benchmarks.md, "The compiled-code cache"). A benchmark, not a test: .ci/run does not
# run it.
#
# For each workload: the time from starting `compose serve` to its first answer on
# loopback, with an empty cache (cold: everything is compiled, the entries written) and
# then warm (everything loaded from the cache), and the same with --no-cache (what every
# start cost before the cache); and `compose run --invoke` of the shop, cold and warm.
#
# Usage: scripts/bench-restart.sh [ROUNDS, default 3]   (needs curl; builds release compose)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"
cd "$root"
cargo build --release -p compose-cli >&2
compose="${CARGO_TARGET_DIR:-$root/target}/release/compose"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Seconds from start to the first 200 of GET $2 of `compose serve $1 ${@:3}`.
first_answer() {
  local workload=$1 path=$2; shift 2
  local start end log="$work/serve.log"
  start=$(date +%s.%N)
  "$compose" serve "$workload" --addr 127.0.0.1:0 "$@" 2> "$log" &
  local pid=$!
  local addr=""
  until [ -n "$addr" ]; do
    addr=$(grep -o 'http://[0-9.:]*' "$log" | head -n 1 || true)
    sleep 0.005
  done
  until curl -sf "$addr$path" > /dev/null; do sleep 0.005; done
  end=$(date +%s.%N)
  kill -TERM "$pid"; wait "$pid" || true
  echo "$end - $start" | bc
}

printf '%-34s %-8s %9s\n' workload cache seconds
for round in $(seq "$rounds"); do
  for case in "fixtures/web-js/workload.toml /hello/ann" "fixtures/web/workload.toml /greet/ann"; do
    set -- $case
    export COMPOSE_CACHE_DIR="$work/cache-$round"
    rm -rf "$COMPOSE_CACHE_DIR"
    printf '%-34s %-8s %9.3f\n' "$1" cold "$(first_answer "$1" "$2")"
    printf '%-34s %-8s %9.3f\n' "$1" warm "$(first_answer "$1" "$2")"
    printf '%-34s %-8s %9.3f\n' "$1" none "$(first_answer "$1" "$2" --no-cache)"
  done
  export COMPOSE_CACHE_DIR="$work/run-$round"
  for state in cold warm; do
    start=$(date +%s.%N)
    "$compose" run fixtures/shop/workload.toml --env GREETING=Hi \
      --invoke 'handler#greet("ann")' > /dev/null
    printf '%-34s %-8s %9.3f\n' "run fixtures/shop" "$state" "$(echo "$(date +%s.%N) - $start" | bc)"
  done
done

# Against `wasmtime run --invoke` with Wasmtime's cache, when `wasmtime` 48 is on PATH (or
# in $WASMTIME; built as docs/benchmarks.md says): the shop without its host backend
# (wasmtime cannot serve a label), linked by compose and composed for wasmtime, each run
# warm (cache filled by a first run), the mean of 20 whole runs.
wasmtime="${WASMTIME:-$(command -v wasmtime || true)}"
[ -n "$wasmtime" ] || exit 0
mkdir -p "$work/shop"
sed -e '/^\[components.reporter\]/,/^$/d' -e '/"acme:app\/report@0.1.0"/d' \
  -e 's/^backends = .*//' -e 's|"\.\./components/|"'"$root"'/fixtures/components/|' \
  fixtures/shop/workload.toml > "$work/shop/workload.toml"
"$compose" build "$work/shop/workload.toml" -o "$work/shop.wasm" 2> /dev/null
call='acme:app/handler.greet@0.1.0("ann")'
export COMPOSE_CACHE_DIR="$work/vs-cache"
mean() {
  "$@" > /dev/null
  local start; start=$(date +%s.%N)
  for _ in $(seq 20); do "$@" > /dev/null; done
  echo "($(date +%s.%N) - $start) / 20" | bc -l
}
printf '%-34s %-8s %9.4f\n' "compose run (linked)" warm \
  "$(mean "$compose" run "$work/shop/workload.toml" --env GREETING=Hi --invoke "$call")"
printf '%-34s %-8s %9.4f\n' "compose run (composed)" warm \
  "$(mean "$compose" run "$work/shop/workload.toml" --link composed --env GREETING=Hi --invoke "$call")"
printf '%-34s %-8s %9.4f\n' "wasmtime run (composed)" warm \
  "$(mean "$wasmtime" run -C cache=y -W component-model-implements=y --env GREETING=Hi --invoke "$call" "$work/shop.wasm")"
