# Functions the benchmark scripts share (sourced by bench-serve.sh, bench-cost.sh,
# bench-telemetry.sh and bench-split.sh). The functions use $work (a scratch folder), $pids (the servers to
# stop on exit) and $port (the last loopback port used), which the caller sets or `setup`
# does.

# wrk (installed from Debian's packages when missing); $compose, the binary in $COMPOSE or
# a release build made here; $work, removed on exit; $pids, each sent SIGINT on exit.
setup() {
  command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
  if [ -n "${COMPOSE:-}" ]; then
    compose="$COMPOSE"
  else
    cargo build --release -p compose-cli >&2
    compose="${CARGO_TARGET_DIR:-$root/target}/release/compose"
  fi
  work="$(mktemp -d)"
  pids=()
  # TERM, not INT: a script's background processes ignore SIGINT (the python receiver
  # would outlive the script); compose and wasmtime shut down gracefully on either.
  trap 'for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
}

# The machine and the date, for the record in docs/benchmarks.md.
machine() {
  echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d)"
}

# Starts a server in the background (its arguments are "$@", with @ADDR replaced by the
# next loopback address) and waits until it answers `GET ${warm_path:-/greet/warm}` with
# any status, which also warms it; sets $port and $server_pid.
start() {
  port=$((port + 1))
  local args=()
  for arg in "$@"; do args+=("${arg/@ADDR/127.0.0.1:$port}"); done
  "${args[@]}" >"$work/server-$port.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 1 600); do
    if curl -s -o /dev/null "http://127.0.0.1:$port${warm_path:-/greet/warm}"; then return 0; fi
    sleep 0.1
  done
  echo "error: the server did not start: $*" >&2
  cat "$work/server-$port.log" >&2
  exit 1
}

# `wrk` on port $1 at $2 connections for ${duration:-5} s against /greet/ann: "req/s p50 p99"
# (latencies in ms), plus the count of non-2xx answers when there are any.
load() {
  local port="$1" conns="$2" threads=2
  [ "$conns" -lt 2 ] && threads=1
  wrk -t "$threads" -c "$conns" -d "${duration:-5}s" --latency "http://127.0.0.1:$port/greet/ann" |
    awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; return v * 1000 }
         /Requests\/sec/ {rps=$2} /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)}
         /Non-2xx/ {bad=$NF} END {printf "%s %.3f %.3f%s\n", rps, p50, p99, (bad ? " non-2xx=" bad : "")}'
}

# The median of each column of the lines on standard input.
medians() {
  awk '{for (i = 1; i <= 3; i++) v[i, NR] = $i} END {
         for (i = 1; i <= 3; i++) { n = NR; for (j = 1; j <= n; j++) a[j] = v[i, j];
           for (j = 1; j <= n; j++) for (k = j + 1; k <= n; k++) if (a[k] < a[j]) { t = a[j]; a[j] = a[k]; a[k] = t }
           m[i] = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
         printf "%.0f req/s, p50 %.2f ms, p99 %.2f ms\n", m[1], m[2], m[3] }'
}

# The resident set (KiB) and OS thread count of process $1 before, and their highest
# while $3 connections keep `GET $4` (a request that stays open, such as /sleep/1000) in
# flight on port $2 for 5 s: "idle_kib peak_kib idle_threads peak_threads".
slow_load_rss() {
  local pid="$1" port="$2" conns="$3" path="$4" idle threads peak=0 peak_threads=0 rss n
  idle="$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
  threads="$(awk '/^Threads/ {print $2}' "/proc/$pid/status")"
  wrk -t 2 -c "$conns" -d 5s --timeout 10s "http://127.0.0.1:$port$path" >/dev/null &
  local wrk_pid=$!
  while kill -0 "$wrk_pid" 2>/dev/null; do
    rss="$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
    n="$(awk '/^Threads/ {print $2}' "/proc/$pid/status")"
    [ "$rss" -gt "$peak" ] && peak="$rss"
    [ "$n" -gt "$peak_threads" ] && peak_threads="$n"
    sleep 0.1
  done
  echo "$idle $peak $threads $peak_threads"
}

# `load` on each server of ${ports[@]} (named by ${names[@]}) at $1 connections, $rounds
# rounds with the servers interleaved: each server's lines in $work/runs-INDEX.
interleaved() {
  local i
  for i in "${!names[@]}"; do : >"$work/runs-$i"; done
  for _ in $(seq 1 "$rounds"); do
    for i in "${!names[@]}"; do load "${ports[$i]}" "$1" >>"$work/runs-$i"; done
  done
}

# Each server's medians after `interleaved`, and its requests/s ÷ the first server's.
ratios() {
  local i line rps first=""
  for i in "${!names[@]}"; do
    line="$(medians <"$work/runs-$i")"
    rps="${line%% req/s*}"
    [ -z "$first" ] && first="$rps"
    echo "${names[$i]}: $line ($(awk -v a="$rps" -v b="$first" 'BEGIN {printf "%.3f", a / b}')x ${names[0]})"
  done
}
