#!/usr/bin/env bash
# Local dev/test services for carnet: PostgreSQL + stripe-mock.
#
#   scripts/services.sh up        start (or reuse) services, write .data/services.env
#   scripts/services.sh up test   the same for tests: .data/services-test.env
#   scripts/services.sh down      stop what this script started (local PG clusters, stripe-mock)
#   scripts/services.sh env [test] print the env file
#
# The env file holds exactly:
#   export DATABASE_URL='postgres://...'
#   export STRIPE_API_BASE='http://127.0.0.1:PORT'
#
# PostgreSQL, first match wins:
#   1. $DATABASE_URL from the environment, used as-is (must answer).
#   2. A server on 127.0.0.1:5432 that lets us in without a password.
#   3. A project-local cluster (trust auth, loopback only, port 54329+):
#      .data/pg for `up` (`make run`), durable: fsync and synchronous_commit
#      on, so what it acknowledged survives a crash of the machine;
#      .data/pg-test for `up test` (`make test`), fast: fsync off, as test
#      data is thrown away.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/.data"
PROFILE=run   # or test: see the header
ENV_FILE="$DATA/services.env"

PGROOT="$DATA/pg"
PGDATA_DIR="$PGROOT/data"
PGSOCK="$PGROOT/sock"
PGLOG="$PGROOT/log"
PGPORT_FILE="$PGROOT/port"
PG_DEFAULT_PORT=54329

SM_BIN="$DATA/bin/stripe-mock"
SM_PID_FILE="$DATA/stripe-mock.pid"
SM_PORT_FILE="$DATA/stripe-mock.port"
SM_LOG="$DATA/stripe-mock.log"
SM_DEFAULT_PORT=12111

PGBIN=""

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
is_root() { [[ $(id -u) -eq 0 ]]; }

# ---------------------------------------------------------------- helpers

# True if something accepts TCP connections on 127.0.0.1:$1 (or ss lists it).
port_busy() {
  local port=$1
  if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]; then
    return 0
  fi
  timeout 2 bash -c ": >/dev/tcp/127.0.0.1/$port" 2>/dev/null
}

# First free port >= $1.
free_port() {
  local port=$1 limit=$(($1 + 200))
  while port_busy "$port"; do
    port=$((port + 1))
    ((port < limit)) || die "no free port found near $1"
  done
  echo "$port"
}

# Single-quote a value for a shell `export` line.
shell_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# Serialize concurrent `up`/`down` calls (e.g. parallel CI jobs). fd 9 must be
# closed (9>&-) for every daemon we spawn, or it would hold the lock forever.
take_lock() {
  mkdir -p "$DATA"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$DATA/services.lock"
    flock 9
  fi
}

# ---------------------------------------------------------------- postgres binaries

find_pg_bin() {
  local d
  d=$(pg_config --bindir 2>/dev/null || true)
  if [[ -n $d && -x $d/initdb ]]; then PGBIN=$d; return 0; fi
  # Debian/Ubuntu layout: pick the newest major version.
  d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1 || true)
  if [[ -n $d && -x $d/initdb ]]; then PGBIN=$d; return 0; fi
  d=$(command -v initdb 2>/dev/null || true)
  if [[ -n $d ]]; then PGBIN=$(dirname "$d"); return 0; fi
  return 1
}

ensure_pg_bin() {
  find_pg_bin && return 0
  is_root || die "PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL (e.g. apt-get install postgresql) or set DATABASE_URL"
  log "installing postgresql via apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  find_pg_bin || die "postgresql installed but initdb still not found"
}

psql_bin() {
  if [[ -n $PGBIN && -x $PGBIN/psql ]]; then echo "$PGBIN/psql"; else command -v psql || true; fi
}

# Run as the cluster owner: `postgres` when we are root (initdb refuses root),
# else ourselves. cd into PGROOT so postgres never sits in an unreadable cwd.
as_pg() {
  if is_root; then
    (cd "$PGROOT" && runuser -u postgres -- "$@")
  else
    (cd "$PGROOT" && "$@")
  fi
}

# ---------------------------------------------------------------- postgres: choices 1 and 2

use_env_database_url() {
  local psql
  psql=$(psql_bin)
  [[ -n $psql ]] || die "psql not found; install postgresql-client to check DATABASE_URL"
  if ! PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-5} "$psql" "$DATABASE_URL" -w -qAtX -c 'select 1' >/dev/null; then
    die "DATABASE_URL is set but does not answer 'select 1' (unset it to use a local cluster)"
  fi
  log "postgres: using DATABASE_URL from environment"
  PG_URL=$DATABASE_URL
}

# psql against 127.0.0.1:5432 with no password source at all (PGPASSFILE points
# at a missing file, -w never prompts): we only want a server that trusts us.
psql_5432() {
  local role=$1; shift
  env -u PGPASSWORD PGPASSFILE="$DATA/no-pgpass" "$(psql_bin)" -w -qAtX \
    "host=127.0.0.1 port=5432 user=$role dbname=postgres sslmode=disable connect_timeout=3" "$@"
}

# Try 127.0.0.1:5432 as postgres / $PGUSER / $USER.
try_port_5432() {
  local role seen=" " err="" out
  port_busy 5432 || return 1
  if [[ -z $(psql_bin) ]]; then
    log "postgres: something listens on 5432 but psql is missing; skipping it"
    return 1
  fi
  for role in postgres "${PGUSER:-}" "${USER:-$(id -un)}"; do
    [[ -n $role && $seen != *" $role "* ]] || continue
    seen+="$role "
    if ! out=$(psql_5432 "$role" -c 'select 1' 2>&1); then
      err=$(grep -m1 'psql:' <<<"$out" || true)
      continue
    fi
    if ! psql_5432 "$role" -c "select 1 from pg_database where datname = 'carnet'" | grep -q 1 &&
       ! out=$(psql_5432 "$role" -c 'create database carnet' 2>&1); then
      log "postgres: 127.0.0.1:5432 as '$role' cannot create database carnet (${out%%$'\n'*}); using project-local cluster"
      return 1
    fi
    log "postgres: using server on 127.0.0.1:5432 as '$role'"
    PG_URL="postgres://$role@127.0.0.1:5432/carnet?sslmode=disable"
    return 0
  done
  log "postgres: 127.0.0.1:5432 answers but refuses passwordless login (${err#psql: error: }); using project-local cluster"
  return 1
}

# ---------------------------------------------------------------- postgres: choice 3 (project-local cluster)

pg_running() {
  [[ -f $PGDATA_DIR/PG_VERSION ]] && as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

# As root, postgres must own .data/pg and be able to traverse every parent dir.
fix_ownership() {
  is_root || return 0
  id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' account to own the cluster"
  local d=$PGROOT
  while [[ $d != / ]]; do
    d=$(dirname "$d")
    if ! runuser -u postgres -- test -x "$d"; then
      log "chmod o+x $d (postgres must traverse it)"
      chmod o+x "$d"
    fi
  done
  if [[ -n $(find "$PGROOT" ! -user postgres -print -quit) ]]; then
    chown -R postgres: "$PGROOT"
  fi
}

pg_initdb() {
  local locale_opt=(--no-locale)
  if locale -a 2>/dev/null | grep -qixE 'c\.utf-?8'; then locale_opt=(--locale=C.UTF-8); fi
  log "postgres: initdb in ${PGROOT#"$ROOT"/}/data"
  rm -rf "$PGDATA_DIR"   # leftovers of an interrupted initdb
  fix_ownership
  as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 "${locale_opt[@]}" >"$PGROOT/initdb.out" 2>&1 \
    || { tail -n 20 "$PGROOT/initdb.out" >&2; die "initdb failed (see ${PGROOT#"$ROOT"/}/initdb.out)"; }
  # Our settings live in carnet.conf (rewritten on every start, see pg_start).
  echo "include_if_exists = 'carnet.conf'" >>"$PGDATA_DIR/postgresql.conf"
}

pg_start() {
  local port sockdir try before
  port=$(free_port "$(cat "$PGPORT_FILE" 2>/dev/null || echo "$PG_DEFAULT_PORT")")
  sockdir=$PGSOCK
  # Unix socket paths are limited to ~107 bytes; we connect over TCP anyway.
  if (( ${#sockdir} + 20 > 100 )); then sockdir=""; fi
  mkdir -p "$PGSOCK"
  # A port free a moment ago may be taken before the postmaster binds it
  # (another checkout, a test's own server): then try the next free one.
  for ((try = 1; ; try++)); do
    echo "$port" >"$PGPORT_FILE"
    # Same effect as `-c ...` on the command line, but robust to odd paths and
    # also applies if someone starts the cluster by hand.
    {
      cat <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '${sockdir//\'/\'\'}'
max_connections = 200
CONF
      pg_profile_conf
    } >"$PGDATA_DIR/carnet.conf"
    fix_ownership
    log "postgres: starting local cluster on 127.0.0.1:$port"
    before=0
    [[ -f $PGLOG ]] && before=$(wc -l <"$PGLOG")
    # Fully detached: no inherited stdout/stderr (CI would wait on the pipe) and no lock fd.
    if as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG" -w -t 60 start \
        </dev/null >"$PGROOT/pg_ctl.out" 2>&1 9>&-; then
      return 0
    fi
    if ((try < 5)) && tail -n +$((before + 1)) "$PGLOG" 2>/dev/null | grep -q 'Address already in use'; then
      log "postgres: port $port was taken meanwhile; trying another"
      port=$(free_port $((port + 1)))
      continue
    fi
    tail -n 20 "$PGLOG" >&2 2>/dev/null || true
    die "pg_ctl start failed (see ${PGROOT#"$ROOT"/}/log)"
  done
}

# Durability by profile: `make run` keeps what it acknowledged; tests trade
# that for speed (their databases are thrown away).
pg_profile_conf() {
  if [[ $PROFILE == test ]]; then
    printf '%s\n' "# tests: speed over durability" "fsync = off" "synchronous_commit = off" "full_page_writes = off"
  else
    printf '%s\n' "# make run: what was acknowledged survives a crash" "fsync = on" "synchronous_commit = on" "full_page_writes = on"
  fi
}

# The fsync setting the profile wants.
pg_want_fsync() { if [[ $PROFILE == test ]]; then echo off; else echo on; fi; }

# psql to the local cluster over TCP as postgres (trust auth).
psql_local() {
  local port=$1; shift
  "$(psql_bin)" -w -qAtX "host=127.0.0.1 port=$port user=postgres dbname=postgres sslmode=disable connect_timeout=5" "$@"
}

# Wait up to $2 seconds for the local cluster on port $1 to answer (gives up
# early once pg_ctl says it is gone).
pg_wait() {
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    psql_local "$1" -c 'select 1' >/dev/null 2>&1 && return 0
    ((i % 5 == 4)) && ! pg_running && return 1   # died meanwhile
    sleep 0.2
  done
  return 1
}

# The running postmaster's port is authoritative (line 4 of postmaster.pid).
pg_pid_port() { sed -n 4p "$PGDATA_DIR/postmaster.pid" 2>/dev/null; }

use_local_cluster() {
  local port
  ensure_pg_bin
  mkdir -p "$PGROOT"
  [[ -f $PGDATA_DIR/PG_VERSION ]] || pg_initdb
  if pg_running; then
    # It may still be in crash recovery, or be a just-killed postmaster.
    if pg_wait "$(pg_pid_port)" 15; then
      log "postgres: reusing local cluster"
    elif pg_running; then
      die "local cluster is running but does not answer (see ${PGROOT#"$ROOT"/}/log)"
    fi
  fi
  # A cluster started with another profile's settings (or by an older
  # version of this script, which made every cluster fast) is restarted
  # with the right ones.
  if pg_running && [[ $(psql_local "$(pg_pid_port)" -c 'show fsync' 2>/dev/null) != "$(pg_want_fsync)" ]]; then
    log "postgres: local cluster runs with fsync=$(psql_local "$(pg_pid_port)" -c 'show fsync' 2>/dev/null), restarting it with the $PROFILE settings"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
  fi
  pg_running || pg_start
  port=$(pg_pid_port)
  echo "$port" >"$PGPORT_FILE"
  pg_wait "$port" 15 || die "local cluster does not answer on 127.0.0.1:$port (see ${PGROOT#"$ROOT"/}/log)"
  if ! psql_local "$port" -c "select 1 from pg_database where datname = 'carnet'" | grep -q 1; then
    psql_local "$port" -c 'create database carnet' >/dev/null
    log "postgres: created database carnet"
  fi
  PG_URL="postgres://postgres@127.0.0.1:$port/carnet?sslmode=disable"
}

pg_down() {
  [[ -f $PGDATA_DIR/PG_VERSION ]] || return 0
  find_pg_bin || { log "postgres: no PostgreSQL binaries, cannot stop ${PGROOT#"$ROOT"/}"; return 0; }
  if pg_running; then
    log "postgres: stopping local cluster"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
  fi
}

# ---------------------------------------------------------------- stripe-mock

http_ok() {
  local port=$1
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null --max-time 2 -u sk_test_123: "http://127.0.0.1:$port/v1/customers"
  else
    timeout 2 bash -c ": >/dev/tcp/127.0.0.1/$port" 2>/dev/null
  fi
}

# Pid from the pid file if it is alive and really our stripe-mock (pids get reused).
sm_pid() {
  local pid
  pid=$(cat "$SM_PID_FILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  ps -p "$pid" -o args= 2>/dev/null | grep -q stripe-mock || return 1
  echo "$pid"
}

# Pids listening on 127.0.0.1:$1, from ss or else from /proc.
port_owner_pids() {
  local port=$1 inode p
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
    return 0
  fi
  # /proc/net/tcp: local address as HEXIP:HEXPORT, state 0A is LISTEN.
  for inode in $(awk -v p="$(printf ':%04X' "$port")" '$2 ~ p"$" && $4 == "0A" {print $10}' /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
    for p in /proc/[0-9]*; do
      if ls -l "$p/fd" 2>/dev/null | grep -q "socket:\[$inode\]"; then echo "${p#/proc/}"; fi
    done
  done | sort -u
}

# True only if the process listening on the port is the stripe-mock we
# started (its pid file): anything else answering there is a stranger, and
# Carnet must not take it for stripe-mock.
sm_owns_port() {
  local pid=$1 port=$2
  port_owner_pids "$port" | grep -qx "$pid"
}

sm_build() {
  [[ -x $SM_BIN ]] && return 0
  command -v go >/dev/null 2>&1 || PATH=$PATH:/usr/local/go/bin
  command -v go >/dev/null 2>&1 || die "go not found (needed to build stripe-mock)"
  log "stripe-mock: building .data/bin/stripe-mock (once)"
  mkdir -p "$(dirname "$SM_BIN")"
  # Builds the version pinned by the `tool` directive in go.mod: same binary as
  # `go tool stripe-mock`, but we need a real pid to manage and stop later.
  (cd "$ROOT" && go build -o "$SM_BIN.tmp" github.com/stripe/stripe-mock) || die "building stripe-mock failed"
  mv "$SM_BIN.tmp" "$SM_BIN"
}

sm_up() {
  local pid port i
  if pid=$(sm_pid) && port=$(cat "$SM_PORT_FILE" 2>/dev/null) && sm_owns_port "$pid" "$port" && http_ok "$port"; then
    log "stripe-mock: reusing pid $pid on 127.0.0.1:$port"
    SM_URL="http://127.0.0.1:$port"
    return 0
  fi
  sm_down quiet   # a live but unresponsive one
  sm_build
  port=$(free_port "$SM_DEFAULT_PORT")
  local try
  for ((try = 1; try <= 3; try++)); do
    sm_start "$port"
    for ((i = 0; i < 300; i++)); do
      if pid=$(sm_pid) && sm_owns_port "$pid" "$port" && http_ok "$port"; then
        SM_URL="http://127.0.0.1:$port"
        return 0
      fi
      if [[ -s $SM_PID_FILE ]] && ! sm_pid >/dev/null; then break; fi   # it died
      sleep 0.1
    done
    # The port, free a moment ago, was taken before stripe-mock bound it.
    grep -q 'address already in use' "$SM_LOG" 2>/dev/null || break
    sm_down quiet
    port=$(free_port $((port + 1)))
  done
  tail -n 20 "$SM_LOG" >&2 || true
  die "stripe-mock did not come up (see .data/stripe-mock.log)"
}

sm_start() {
  local port=$1
  log "stripe-mock: starting on 127.0.0.1:$port"
  rm -f "$SM_PID_FILE"
  # -https-addr: with only -http-addr, stripe-mock v0.183 still opens HTTPS on
  # *:12112 (all interfaces, clashes between checkouts); pin it to a random
  # loopback port instead.
  # setsid may fork (when it is a group leader), so $! is not reliable: the
  # inner shell records its own pid and then execs stripe-mock in place.
  # The subshell drops the lock fd before forking so nothing keeps it open.
  (
    cd "$ROOT" || exit 1
    exec 9>&-
    # shellcheck disable=SC2016 # expanded by the inner shell
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$SM_PID_FILE" \
      "$SM_BIN" -http-addr "127.0.0.1:$port" -https-addr 127.0.0.1:0 </dev/null >"$SM_LOG" 2>&1 &
  )
  echo "$port" >"$SM_PORT_FILE"
}

sm_down() {
  local pid i
  if pid=$(sm_pid); then
    [[ ${1:-} == quiet ]] || log "stripe-mock: stopping pid $pid"
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$SM_PID_FILE" "$SM_PORT_FILE"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  take_lock
  PG_URL="" SM_URL=""
  if [[ -n ${DATABASE_URL:-} ]]; then
    use_env_database_url
  elif [[ -n ${SERVICES_LOCAL_PG:-} ]] || ! try_port_5432; then   # SERVICES_LOCAL_PG=1: never 5432
    use_local_cluster
  fi
  sm_up
  printf 'export DATABASE_URL=%s\nexport STRIPE_API_BASE=%s\n' \
    "$(shell_quote "$PG_URL")" "$(shell_quote "$SM_URL")" >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  log "ready: source ${ENV_FILE#"$ROOT"/}"
}

cmd_down() {
  [[ -d $DATA ]] || return 0
  take_lock
  sm_down
  pg_down
  use_profile test
  pg_down
  rm -f "$DATA/services.env" "$DATA/services-test.env"   # would point at stopped services
}

cmd_env() {
  [[ -f $ENV_FILE ]] || die "no ${ENV_FILE#"$ROOT"/}: run scripts/services.sh up ${PROFILE/run/} first"
  cat "$ENV_FILE"
}

# use_profile test switches to the test cluster and its env file.
use_profile() {
  PROFILE=$1
  if [[ $PROFILE == test ]]; then
    ENV_FILE="$DATA/services-test.env"
    PGROOT="$DATA/pg-test"
    PGDATA_DIR="$PGROOT/data" PGSOCK="$PGROOT/sock" PGLOG="$PGROOT/log" PGPORT_FILE="$PGROOT/port"
  fi
}

case "${2:-}" in
  "" | run) ;;
  test) use_profile test ;;
  *) echo "usage: $0 up|down|env [test]" >&2; exit 2 ;;
esac

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  env) cmd_env ;;
  *) echo "usage: $0 up|down|env [test]" >&2; exit 2 ;;
esac
