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
