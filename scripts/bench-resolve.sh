#!/usr/bin/env bash
# End-to-end timing of the release `compose resolve` (text and `--format json`) on the
# generated workloads of resolver/benches/shapes.rs: chain, fan-out, labels, warnings and
# errors at 1,000, 10,000 and 100,000 components (issue 9; figures in docs/benchmarks.md).
#
#   scripts/bench-resolve.sh [SECONDS]   # SECONDS: give up on one run after this long (default 120)
#
# Prints one line per run: shape, components, format, wall seconds (or `>SECONDS`), peak RSS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
limit=${1:-120}
target=${CARGO_TARGET_DIR:-target}
dir="$target/resolve-shapes"
# One build for the binary and the benches, so that Wasmtime is compiled once (the features
# of one `cargo build` are unified over the packages it builds).
cargo build --release -p compose-cli -p compose-tests -p compose-resolver --bins --benches
if [ ! -e "$dir/chain-100000/workload.toml" ]; then
  COMPOSE_SHAPES_DIR="$PWD/$dir" cargo bench -p compose-resolver --bench shapes
fi
measure=$(mktemp)
printf '%-9s %7s %-5s %9s %10s\n' shape n format seconds "rss KiB"
for shape in chain fan-out labels warnings errors; do
  for n in 1000 10000 100000; do
    for format in text json; do
      start=$(date +%s.%N)
      status=0
      /usr/bin/time -f '%M' -o "$measure" timeout "$limit" "$target/release/compose" resolve \
        "$dir/$shape-$n/workload.toml" --format "$format" > /dev/null 2>&1 || status=$?
      seconds=$(echo "$(date +%s.%N) - $start" | bc)
      rss=$(tail -n 1 "$measure")
      # Exit status 1 is a workload that does not resolve (the errors shape).
      if [ "$status" -gt 1 ]; then seconds=">$limit (status $status)"; rss=-; fi
      printf '%-9s %7s %-5s %9s %10s\n' "$shape" "$n" "$format" "$seconds" "$rss"
    done
  done
done
rm -f "$measure"
