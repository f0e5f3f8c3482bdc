#!/usr/bin/env bash
# A throwaway PostgreSQL for the `postgres` host plugin: two teams, two roles, isolated data.
#
# Installs PostgreSQL from Debian's packages when it is missing (as root:
# `apt-get update && apt-get install -y postgresql`), then starts a cluster of its own in a
# temporary folder, listening on 127.0.0.1 on a free port only (never on the machine's
# default cluster). In it:
#   - database `compose`;
#   - login roles `team_a` and `team_b`, each with a fresh random password;
#   - schemas `team_a` and `team_b`, each with a table `keyvalue` (the layout the `postgres`
#     plugin uses, see docs/host.md) that only its own role may use: neither role can read,
#     write or even see the other's schema, and the schema `public` is closed to both;
#   - login role `team_c`, owner of an empty schema `team_c` (no table): a role that may
#     create the plugin's table (`create-table`);
#   - password authentication (scram-sha-256) for TCP logins, so a wrong password fails.
# It exports TEAM_A_DATABASE_URL, TEAM_B_DATABASE_URL and TEAM_C_DATABASE_URL
# (postgresql://ROLE:PASSWORD@127.0.0.1:PORT/compose) and stops the cluster and deletes its
# folder afterwards.
#
# With COMPOSE_POSTGRES_TLS=1 the server also accepts TLS (`ssl = on`, plain TCP still
# works): openssl makes a throwaway CA and a server certificate for 127.0.0.1 signed by it,
# and a second, unrelated CA. It then also exports TEAM_A_TLS_DATABASE_URL (team A's URL
# with `sslmode=verify-full&sslrootcert=CA`) and COMPOSE_POSTGRES_WRONG_CA (the other CA's
# PEM file, which must be refused). Needs openssl (installed as root when missing).
#
# Usage:
#   scripts/postgres.sh                  start, print the variables, wait for Ctrl-C, stop
#   scripts/postgres.sh run -- CMD ...   start, run CMD with the variables set, stop;
#                                        exits with CMD's status
#   source scripts/postgres.sh           start and export the variables into this shell;
#                                        the cluster stops when the shell exits (trap EXIT,
#                                        added to any EXIT trap already set)
#   scripts/postgres.sh start            start; print `export NAME=VALUE` lines (for eval)
#                                        including COMPOSE_POSTGRES_DIR; the cluster keeps running
#   scripts/postgres.sh stop [DIR]       stop the cluster in DIR (default $COMPOSE_POSTGRES_DIR)
#                                        and delete DIR
# Progress goes to stderr; only `start` writes to stdout.

# Sourced: run this file as a program (so none of its shell options leak into the caller),
# export what it prints, and stop the cluster when the caller's shell exits.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  _compose_pg_script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
  _compose_pg_env="$("$_compose_pg_script" start)" || return 1
  eval "$_compose_pg_env"
  unset _compose_pg_env
  # One EXIT trap per shell: run this stop, then whatever trap was set before (`trap -p`
  # prints it quoted for the shell; the words are `trap -- CMD EXIT`), so that
  # scripts/registry.sh, sourced too, stops its registry as well.
  eval "_compose_pg_prev=($(trap -p EXIT))"
  # shellcheck disable=SC2064 # expand now: the trap must stop this cluster
  trap "\"$_compose_pg_script\" stop \"$COMPOSE_POSTGRES_DIR\"; ${_compose_pg_prev[2]:-}" EXIT
  unset _compose_pg_prev
  return 0
fi

set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# The folder of initdb, pg_ctl and psql: from PATH, else Debian's newest installed release.
find_bindir() {
  local initdb
  if initdb="$(command -v initdb)"; then
    dirname "$(readlink -f "$initdb")"
    return 0
  fi
  local newest
  newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  [[ -n "$newest" && -x "$newest/initdb" ]] && echo "$newest"
}

install_postgres() {
  [[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed; run as root to install it, or: apt-get install -y postgresql"
  log "installing PostgreSQL (apt-get install -y postgresql)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends postgresql >&2
}

# Runs a command as the cluster's owner: `postgres` when we are root (PostgreSQL refuses
# to run as root), else ourselves.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
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

password() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

# The roles, schemas and tables. Each team's table lives in a schema of the team's own
# name, which is first in a role's default search_path ("$user", public): the plugin's
# default table `keyvalue` is then the role's own.
setup_sql() {
  local team
  echo "REVOKE ALL ON SCHEMA public FROM PUBLIC;"
  echo "REVOKE ALL ON DATABASE compose FROM PUBLIC;"
  for team in team_a team_b; do
    cat <<SQL
CREATE ROLE $team LOGIN PASSWORD :'${team}_password';
GRANT CONNECT ON DATABASE compose TO $team;
CREATE SCHEMA $team;
REVOKE ALL ON SCHEMA $team FROM PUBLIC;
GRANT USAGE ON SCHEMA $team TO $team;
CREATE TABLE $team.keyvalue (
  bucket     text  NOT NULL,
  key        text  NOT NULL,
  value      bytea NOT NULL,
  written_by name  NOT NULL DEFAULT current_user,
  PRIMARY KEY (bucket, key)
);
REVOKE ALL ON $team.keyvalue FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON $team.keyvalue TO $team;
SQL
  done
  # Team C: its own schema, where it may create tables, and no table yet.
  cat <<SQL
CREATE ROLE team_c LOGIN PASSWORD :'team_c_password';
GRANT CONNECT ON DATABASE compose TO team_c;
CREATE SCHEMA team_c AUTHORIZATION team_c;
SQL
}

# A throwaway CA and a server certificate for 127.0.0.1 signed by it, in $1 (ca.crt,
# server.crt, server.key), and an unrelated CA (wrong-ca.crt). EC P-256 keys: fast to make.
make_certificates() {
  local tls="$1"
  if ! command -v openssl >/dev/null; then
    [[ "$(id -u)" == 0 ]] || die "openssl is not installed; run as root to install it, or: apt-get install -y openssl"
    log "installing openssl (apt-get install -y openssl)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssl >&2
  fi
  mkdir -p "$tls"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  local name
  for name in ca wrong-ca; do
    openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=compose test $name" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout "$tls/$name.key" -out "$tls/$name.crt" 2>/dev/null
  done
  openssl req "${ec[@]}" -subj "/CN=127.0.0.1" -keyout "$tls/server.key" \
    -out "$tls/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$tls/server.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 2 -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null
  rm -f "$tls/ca.key" "$tls/wrong-ca.key" "$tls/server.csr" "$tls/server.ext"
  chmod 600 "$tls/server.key"
  chmod 644 "$tls/ca.crt" "$tls/wrong-ca.crt" "$tls/server.crt"
  chmod 755 "$tls"
  [[ "$(id -u)" == 0 ]] && chown -R postgres: "$tls"
  return 0
}

start() {
  local bindir dir port a_password b_password c_password
  bindir="$(find_bindir || true)"
  if [[ -z "$bindir" ]]; then
    install_postgres
    bindir="$(find_bindir || true)"
    [[ -n "$bindir" ]] || die "initdb not found after installing PostgreSQL"
  fi
  dir="$(mktemp -d "${TMPDIR:-/tmp}/compose-postgres.XXXXXX")"
  chmod 700 "$dir"
  [[ "$(id -u)" == 0 ]] && chown postgres: "$dir"
  log "cluster in $dir ($("$bindir/postgres" --version))"
  as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  local tls_options=""
  if [[ "${COMPOSE_POSTGRES_TLS:-0}" == 1 ]]; then
    make_certificates "$dir/tls"
    tls_options="-c ssl=on -c ssl_cert_file=$dir/tls/server.crt -c ssl_key_file=$dir/tls/server.key"
  fi
  local tries
  for tries in 1 2 3 4 5; do
    port="$(free_port)"
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off $tls_options" start >&2; then
      break
    fi
    port=""
  done
  [[ -n "$port" ]] || { cat "$dir/server.log" >&2; die "the server did not start"; }
  a_password="$(password)"
  b_password="$(password)"
  c_password="$(password)"
  local psql=("$bindir/psql" -X -q -h "$dir" -p "$port" -U postgres -v ON_ERROR_STOP=1)
  as_owner "${psql[@]}" -d postgres -c "CREATE DATABASE compose" >&2
  setup_sql | as_owner "${psql[@]}" -d compose -v team_a_password="$a_password" \
    -v team_b_password="$b_password" -v team_c_password="$c_password" >&2
  log "listening on 127.0.0.1:$port; roles team_a, team_b, team_c; database compose${tls_options:+; TLS on}"
  printf 'export COMPOSE_POSTGRES_DIR=%q\n' "$dir"
  printf 'export TEAM_A_DATABASE_URL=%q\n' "postgresql://team_a:$a_password@127.0.0.1:$port/compose"
  printf 'export TEAM_B_DATABASE_URL=%q\n' "postgresql://team_b:$b_password@127.0.0.1:$port/compose"
  printf 'export TEAM_C_DATABASE_URL=%q\n' "postgresql://team_c:$c_password@127.0.0.1:$port/compose"
  if [[ -n "$tls_options" ]]; then
    printf 'export TEAM_A_TLS_DATABASE_URL=%q\n' \
      "postgresql://team_a:$a_password@127.0.0.1:$port/compose?sslmode=verify-full&sslrootcert=$dir/tls/ca.crt"
    printf 'export COMPOSE_POSTGRES_WRONG_CA=%q\n' "$dir/tls/wrong-ca.crt"
  fi
}

stop() {
  local dir="${1:-${COMPOSE_POSTGRES_DIR:-}}"
  [[ -n "$dir" ]] || die "stop: no folder given and COMPOSE_POSTGRES_DIR is not set"
  [[ -f "$dir/data/PG_VERSION" ]] || die "stop: $dir holds no cluster of this script"
  local bindir
  bindir="$(find_bindir)"
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
  rm -rf "$dir"
  log "stopped and removed $dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  run)
    shift
    [[ "${1:-}" == "--" ]] && shift
    (($#)) || die "run: no command given (scripts/postgres.sh run -- CMD ...)"
    # Assigned first: a failed start must stop here (`eval "$(start)"` would go on).
    env_lines="$(start)"
    eval "$env_lines"
    trap 'stop "$COMPOSE_POSTGRES_DIR"' EXIT
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
  "")
    # Assigned first: a failed start must stop here (`eval "$(start)"` would go on).
    env_lines="$(start)"
    eval "$env_lines"
    trap 'stop "$COMPOSE_POSTGRES_DIR"' EXIT
    trap 'exit 0' INT TERM
    echo "export TEAM_A_DATABASE_URL='$TEAM_A_DATABASE_URL'"
    echo "export TEAM_B_DATABASE_URL='$TEAM_B_DATABASE_URL'"
    echo "export TEAM_C_DATABASE_URL='$TEAM_C_DATABASE_URL'"
    if [[ -n "${TEAM_A_TLS_DATABASE_URL:-}" ]]; then
      echo "export TEAM_A_TLS_DATABASE_URL='$TEAM_A_TLS_DATABASE_URL'"
      echo "export COMPOSE_POSTGRES_WRONG_CA='$COMPOSE_POSTGRES_WRONG_CA'"
    fi
    log "running; press Ctrl-C to stop"
    while true; do sleep 3600 & wait $!; done
    ;;
  -h | --help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command \`$1\` (try --help)" ;;
esac
