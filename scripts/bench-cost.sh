#!/usr/bin/env bash
# `compose cost`'s memory per request in flight against what `compose serve` really holds
# (issue 24; the figures go to docs/benchmarks.md, "compose cost"). A benchmark, not a
# test: .ci/run does not run it.
#
# For fixtures/web linked per component and in clusters, the same composed into one
# component by `compose build` (web-built), and the JavaScript handler (fixtures/web-js): the bytes per request `compose cost` predicts statically (the
# linear memory a request starts with) and measures with `--measure` (64 requests held
# open through the handler in its own process), against `compose serve`'s growth of
# resident set at 64 concurrent `GET /sleep/1000` (wrk): (peak - idle) / 64. All with
# instances allocated on demand (`--pool 0`), then the linked example again with the
# pooling allocator `compose serve` uses by default.
#
# Usage: scripts/bench-cost.sh. Needs: wrk (installed from Debian's packages when missing),
# jq, a release build of compose (built here, or the binary in $COMPOSE).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# setup, start, slow_load_rss, machine
source "$root/scripts/bench-lib.sh"
setup
port=18180
warm_path=/sleep/1

# `compose cost`'s JSON for export incoming-handler in mode $2 of workload $1, the rest
# of the arguments added: the figure at jq path $3.
cost() {
  local workload="$1" link="$2" field="$3"
  shift 3
  "$compose" cost "$workload" --link "$link" --export incoming-handler --format json "$@" |
    jq ".entries[0].modes[0].$field"
}


# One row, named $1: workload $2, link mode $3, pool $4 (0: on demand).
row() {
  local name="$1" workload="$2" link="$3" pool="$4" static measured idle peak served
  static="$(cost "$workload" "$link" capacity.bytes_per_call)"
  measured="$(cost "$workload" "$link" measured.resident_per_call \
    --measure --path /sleep/1000 --hold 64 --pool "$pool")"
  start "$compose" serve --addr @ADDR --link "$link" --pool "$pool" "$workload"
  read -r idle peak _ _ < <(slow_load_rss "$server_pid" "$port" 64 /sleep/1000)
  kill -INT "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  served=$(((peak - idle) * 1024 / 64))
  awk -v w="$name" -v l="$link" -v p="$pool" \
    -v s="$static" -v m="$measured" -v r="$served" 'BEGIN {
      printf "%-12s %-14s pool %-4s  static %6d KiB (%.2fx)  --measure %6d KiB (%.2fx)  served %6d KiB\n",
        w, l, p, s / 1024, s / r, m / 1024, m / r, r / 1024 }'
}

machine
echo "bytes per request in flight; (x) = prediction / served; served = (peak - idle) RSS / 64"
# fixtures/web composed by `compose build`, in a workload of its own with the same [host].
"$compose" build fixtures/web/workload.toml -o "$work/web.wasm" >&2
cat >"$work/composed.toml" <<TOML
name = "web-composed"
[host]
interfaces = ["wasi:*@0.2.0"]
backends = { visits = "wasi:keyvalue/store@0.2.0-draft" }
[components.web]
path = "web.wasm"
TOML
for link in per-component clusters; do
  row web fixtures/web/workload.toml "$link" 0
done
row web-built "$work/composed.toml" clusters 0
row web-js fixtures/web-js/workload.toml clusters 0
row web fixtures/web/workload.toml per-component 128
