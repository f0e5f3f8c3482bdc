#!/usr/bin/env bash
# What traces and metrics cost `compose serve` (issue 23; the figures go to
# docs/benchmarks.md, "Tracing"). A benchmark, not a test: .ci/run does not run it.
#
# fixtures/web served three ways, interleaved, `GET /greet/ann` under wrk:
#   off:     no OTEL_* variable and no --metrics (no subscriber: spans cost an atomic load);
#   metrics: `--metrics ADDR`, scraped once at the end;
#   otlp:    OTEL_EXPORTER_OTLP_ENDPOINT at a loopback receiver (python's http.server
#            answering every export 200) with every span sampled.
# Prints requests/s and p50/p99 (medians of the rounds) and the ratios to `off`.
#
# Usage: scripts/bench-telemetry.sh [SECONDS per wrk run, default 5] [ROUNDS, default 3]
#        [CONNECTIONS, default 16]
# Needs: wrk (installed from Debian's packages when missing), python3, a release build of
# compose (built here, or the binary in $COMPOSE).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${1:-5}"
rounds="${2:-3}"
conns="${3:-16}"
cd "$root"
# setup, start, interleaved, ratios, machine
source "$root/scripts/bench-lib.sh"
setup
port=18280

# The OTLP receiver: every POST answered 200 with an empty ExportTraceServiceResponse.
receiver=18399
python3 - "$receiver" <<'PY' >"$work/receiver.log" 2>&1 &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Sink(BaseHTTPRequestHandler):
    # Keep-alive, as a collector does: the exporter's connection is reused, not a thread
    # and a connection per batch.
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
PY
pids+=("$!")

web=fixtures/web/workload.toml
names=(off metrics otlp) ports=()
start "$compose" serve --addr @ADDR "$web"
ports+=("$port")
metrics_port=18398
start "$compose" serve --addr @ADDR --metrics "127.0.0.1:$metrics_port" "$web"
ports+=("$port")
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$receiver" OTEL_TRACES_SAMPLER=always_on \
  start "$compose" serve --addr @ADDR "$web"
ports+=("$port")

machine
echo "wrk: $rounds rounds of ${duration} s per server, $conns connections, servers interleaved; GET /greet/ann; medians"
interleaved "$conns"
ratios
echo "metrics scraped: $(curl -s "http://127.0.0.1:$metrics_port/metrics" | grep -c '^compose_') compose_ lines"
