#!/usr/bin/env bash
# A throwaway OCI registry for the tests of components from registries (docs/registry.md).
#
# Installs Debian's `docker-registry` package (the CNCF distribution registry, no Docker
# needed) when it is missing (as root: `apt-get update && apt-get install -y
# docker-registry`), then starts a registry of its own: its config and its storage in a
# temporary folder, listening on 127.0.0.1 on a free port only, plain HTTP, no
# authentication, deletes allowed, no blob-descriptor cache (so a test that corrupts a blob
# on disk gets the corrupted bytes served); and a second one that asks for a login (HTTP
# basic authentication, htpasswd, a fixed test user). The machine's own `docker-registry`
# service is never used or started.
# It exports COMPOSE_TEST_REGISTRY (127.0.0.1:PORT) and COMPOSE_REGISTRY_DIR (its folder;
# the blobs are under storage/docker/registry/v2/blobs/sha256/), COMPOSE_TEST_AUTH_REGISTRY
# with COMPOSE_TEST_AUTH_USER and COMPOSE_TEST_AUTH_PASSWORD, and stops both registries
# and deletes their folder afterwards.
#
# Usage:
#   scripts/registry.sh                  start, print the variables, wait for Ctrl-C, stop
#   scripts/registry.sh run -- CMD ...   start, run CMD with the variables set, stop;
#                                        exits with CMD's status
#   source scripts/registry.sh           start and export the variables into this shell;
#                                        the registry stops when the shell exits (trap EXIT,
#                                        added to any EXIT trap already set, such as
#                                        scripts/postgres.sh's)
#   scripts/registry.sh start            start; print `export NAME=VALUE` lines (for eval)
#                                        including COMPOSE_REGISTRY_DIR; it keeps running
#   scripts/registry.sh stop [DIR]       stop the registry in DIR (default
#                                        $COMPOSE_REGISTRY_DIR) and delete DIR
# Progress goes to stderr; only `start` writes to stdout.

# Sourced: run this file as a program (so none of its shell options leak into the caller),
# export what it prints, and stop the registry when the caller's shell exits.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  _compose_registry_script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
  _compose_registry_env="$("$_compose_registry_script" start)" || return 1
  eval "$_compose_registry_env"
  unset _compose_registry_env
  # One EXIT trap per shell: run this stop, then whatever trap was set before (`trap -p`
  # prints it quoted for the shell; the words are `trap -- CMD EXIT`).
  eval "_compose_registry_prev=($(trap -p EXIT))"
  # shellcheck disable=SC2064 # expand now: the trap must stop this registry
  trap "\"$_compose_registry_script\" stop \"$COMPOSE_REGISTRY_DIR\"; ${_compose_registry_prev[2]:-}" EXIT
  unset _compose_registry_prev
  return 0
fi

set -euo pipefail

log() { echo "registry.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# The registry's binary: Debian's name, or upstream's.
find_registry() { command -v docker-registry || command -v registry || true; }

install_registry() {
  [[ "$(id -u)" == 0 ]] || die "docker-registry is not installed; run as root to install it, or: apt-get install -y docker-registry"
  log "installing the registry (apt-get install -y docker-registry)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends docker-registry >&2
}

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  local port tries
  for tries in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "found no free TCP port"
}

# Whether the registry at 127.0.0.1:$1 answers `GET /v2/` (the distribution spec's
# version check) with 200, or 401 for the one that asks for a login.
answers() {
  local reply
  reply="$( (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    head -n1 <&3
  ) 2>/dev/null)" || return 1
  [[ "$reply" == *" 200 "* || "$reply" == *" 401 "* ]]
}

# The login of the registry that asks for one, and its bcrypt hash (htpasswd -B), written
# here so that no htpasswd tool is needed: test credentials, nothing to keep secret.
AUTH_USER=compose
AUTH_PASSWORD=compose-test-password
AUTH_HASH='$2y$05$P4G47ZMTrd.DfZv/E17O0.kNokMHoR3kvlFfAUgkb1YH.uBNdyYNG'

# The configuration of registry $3 (`open` or `auth`) in folder $1 on port $2.
config() {
  cat <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $1/$3/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$2
YAML
  if [[ "$3" == auth ]]; then
    printf 'auth:\n  htpasswd:\n    realm: compose-tests\n    path: %s\n' "$1/auth/htpasswd"
  fi
}

# Starts registry $2 (`open` or `auth`) with its files in $1/$2; prints its port.
start_one() {
  local binary="$1" dir="$2" name="$3" port pid tries
  mkdir -p "$dir/$name"
  [[ "$name" == auth ]] && echo "$AUTH_USER:$AUTH_HASH" >"$dir/auth/htpasswd"
  for tries in 1 2 3 4 5; do
    port="$(free_port)"
    config "$dir" "$port" "$name" >"$dir/$name/config.yml"
    # Detached from this script's output: `start` is read through $(...), which would
    # otherwise wait for the registry to exit.
    "$binary" serve "$dir/$name/config.yml" </dev/null >"$dir/$name/registry.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/$name/pid"
    local waited
    for waited in $(seq 1 100); do
      if answers "$port"; then
        echo "$port"
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  cat "$dir/$name/registry.log" >&2
  return 1
}

start() {
  local binary dir port auth_port
  binary="$(find_registry)"
  if [[ -z "$binary" ]]; then
    install_registry
    binary="$(find_registry)"
    [[ -n "$binary" ]] || die "docker-registry not found after installing it"
  fi
  dir="$(mktemp -d "${TMPDIR:-/tmp}/compose-registry.XXXXXX")"
  chmod 700 "$dir"
  port="$(start_one "$binary" "$dir" open)" &&
    auth_port="$(start_one "$binary" "$dir" auth)" ||
    { stop_all "$dir"; die "the registry did not start"; }
  log "listening on 127.0.0.1:$port and, asking for a login, 127.0.0.1:$auth_port ($("$binary" --version 2>&1 | head -n1)); storage in $dir"
  printf 'export COMPOSE_REGISTRY_DIR=%q\n' "$dir/open"
  printf 'export COMPOSE_TEST_REGISTRY=%q\n' "127.0.0.1:$port"
  printf 'export COMPOSE_TEST_AUTH_REGISTRY=%q\n' "127.0.0.1:$auth_port"
  printf 'export COMPOSE_TEST_AUTH_USER=%q\n' "$AUTH_USER"
  printf 'export COMPOSE_TEST_AUTH_PASSWORD=%q\n' "$AUTH_PASSWORD"
}

# Stops every registry under folder $1 and deletes it.
stop_all() {
  local dir="$1" pid name waited
  for name in open auth; do
    [[ -f "$dir/$name/pid" ]] || continue
    pid="$(cat "$dir/$name/pid")"
    if kill "$pid" 2>/dev/null; then
      for waited in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$dir"
}

# Stops the registries of COMPOSE_REGISTRY_DIR ($1/open, or $1 itself) and deletes
# their folder.
stop() {
  local dir="${1:-${COMPOSE_REGISTRY_DIR:-}}"
  [[ -n "$dir" ]] || die "stop: no folder given and COMPOSE_REGISTRY_DIR is not set"
  [[ "$(basename "$dir")" == open ]] && dir="$(dirname "$dir")"
  [[ -f "$dir/open/pid" && -f "$dir/open/config.yml" ]] || die "stop: $dir holds no registry of this script"
  stop_all "$dir"
  log "stopped and removed $dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  run)
    shift
    [[ "${1:-}" == "--" ]] && shift
    (($#)) || die "run: no command given (scripts/registry.sh run -- CMD ...)"
    # Assigned first: a failed start must stop here (`eval "$(start)"` would go on).
    env_lines="$(start)"
    eval "$env_lines"
    trap 'stop "$COMPOSE_REGISTRY_DIR"' EXIT
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
  "")
    # Assigned first: a failed start must stop here (`eval "$(start)"` would go on).
    env_lines="$(start)"
    eval "$env_lines"
    trap 'stop "$COMPOSE_REGISTRY_DIR"' EXIT
    trap 'exit 0' INT TERM
    echo "export COMPOSE_TEST_REGISTRY='$COMPOSE_TEST_REGISTRY'"
    log "running; press Ctrl-C to stop"
    while true; do sleep 3600 & wait $!; done
    ;;
  -h | --help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command \`$1\` (try --help)" ;;
esac
