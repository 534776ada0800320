#!/usr/bin/env bash
# Start a local PostgreSQL for the store's PostgreSQL tests and export
# RLXF_TEST_DATABASE_URL (an admin-capable URL: its role may CREATE DATABASE).
#
# Meant to be sourced (by .ci/run, as root on Debian 12):
#     source .ci/postgres.sh
# Running it directly (`bash .ci/postgres.sh`) works too; it then prints the
# `export` line to eval.
#
# Idempotent: a second run when the server is already up only re-checks the
# role and the connection.
#
# Knobs (all optional):
#   RLXF_PG_PORT      port on 127.0.0.1 (default: the cluster's port, normally 5432)
#   RLXF_PG_USER      test role (default rlxf)
#   RLXF_PG_PASSWORD  its password (default rlxf)
#   RLXF_PG_DATA      data directory for the initdb fallback (default /tmp/rlxf-pg)
#   RLXF_PG_INITDB=1  use initdb + pg_ctl even where Debian's pg_ctlcluster exists
# If RLXF_TEST_DATABASE_URL is already set (and was not set by this script),
# it is used as is: the script only checks that the server answers.

_rlxf_pg_log() { echo "[postgres.sh] $*" >&2; }
_rlxf_pg_err() { echo "[postgres.sh] ERROR: $*" >&2; }

# Runs a command as the postgres OS user (we are root in CI).
_rlxf_pg_as_postgres() {
  if [ "$(id -u)" = "0" ]; then
    if command -v runuser >/dev/null 2>&1; then
      runuser -u postgres -- "$@"
    else
      su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
  elif [ "$(id -un)" = "postgres" ]; then
    "$@"
  else
    sudo -n -u postgres -- "$@"
  fi
}

# Newest installed server version directory, e.g. /usr/lib/postgresql/15/bin.
_rlxf_pg_bindir() {
  local d best="" bestver=-1 v
  # Numerically highest version (a glob sorts 10 before 9).
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/postgres" ] && [ -x "$d/pg_ctl" ] || continue
    v=$(basename "$(dirname "$d")")
    case "$v" in *[!0-9]* | "") continue ;; esac
    if [ "$v" -gt "$bestver" ]; then bestver=$v; best=$d; fi
  done
  if [ -z "$best" ] && command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null)
    [ -n "$d" ] && [ -x "$d/postgres" ] && best="$d"
  fi
  echo "$best"
}

_rlxf_pg_install() {
  if [ "$(id -u)" != "0" ]; then
    _rlxf_pg_err "PostgreSQL server binaries are missing and we are not root; install the 'postgresql' package"
    return 1
  fi
  _rlxf_pg_log "PostgreSQL server not found; installing it with apt-get (Debian package 'postgresql')"
  if ! DEBIAN_FRONTEND=noninteractive apt-get update >&2; then
    _rlxf_pg_err "apt-get update failed"
    return 1
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2; then
    _rlxf_pg_err "apt-get install postgresql failed"
    return 1
  fi
}

_rlxf_pg_wait() { # host port seconds
  local bindir=$1 port=$2 i
  for i in $(seq 1 "$3"); do
    if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then return 0; fi
    sleep 1
  done
  return 1
}

_rlxf_pg_main() {
  local user=${RLXF_PG_USER:-rlxf} pass=${RLXF_PG_PASSWORD:-rlxf}
  local bindir port ver cluster="main" socketdir

  case "$user" in *[!a-z0-9_]* | "") _rlxf_pg_err "RLXF_PG_USER must match [a-z0-9_]+"; return 1 ;; esac
  case "$pass" in *\'*) _rlxf_pg_err "RLXF_PG_PASSWORD must not contain a single quote"; return 1 ;; esac

  bindir=$(_rlxf_pg_bindir)
  if [ -z "$bindir" ]; then
    _rlxf_pg_install || return 1
    bindir=$(_rlxf_pg_bindir)
    if [ -z "$bindir" ]; then
      _rlxf_pg_err "installed 'postgresql' but found no server binaries under /usr/lib/postgresql/*/bin"
      return 1
    fi
  fi
  ver=$(basename "$(dirname "$bindir")")

  if [ -z "${RLXF_PG_INITDB:-}" ] && command -v pg_ctlcluster >/dev/null 2>&1 && command -v pg_lsclusters >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    # Debian's postgresql-common: use (or create) the cluster <ver>/main.
    if ! pg_lsclusters -h 2>/dev/null | awk -v v="$ver" -v c="$cluster" '$1==v && $2==c {found=1} END {exit !found}'; then
      _rlxf_pg_log "creating cluster $ver/$cluster"
      local portopt=()
      [ -n "${RLXF_PG_PORT:-}" ] && portopt=(--port "$RLXF_PG_PORT")
      if ! pg_createcluster "${portopt[@]}" "$ver" "$cluster" >&2; then
        _rlxf_pg_err "pg_createcluster $ver $cluster failed"
        return 1
      fi
    fi
    port=$(pg_lsclusters -h | awk -v v="$ver" -v c="$cluster" '$1==v && $2==c {print $3}')
    if [ -n "${RLXF_PG_PORT:-}" ] && [ "$RLXF_PG_PORT" != "$port" ]; then
      _rlxf_pg_log "note: cluster $ver/$cluster is configured for port $port; using it (RLXF_PG_PORT=$RLXF_PG_PORT ignored)"
    fi
    local status
    status=$(pg_lsclusters -h | awk -v v="$ver" -v c="$cluster" '$1==v && $2==c {print $4}')
    if [ "$status" != "online" ]; then
      _rlxf_pg_log "starting cluster $ver/$cluster on port $port"
      if ! pg_ctlcluster "$ver" "$cluster" start >&2; then
        _rlxf_pg_err "pg_ctlcluster $ver $cluster start failed; last log lines:"
        tail -n 20 "/var/log/postgresql/postgresql-$ver-$cluster.log" >&2 2>/dev/null
        return 1
      fi
    else
      _rlxf_pg_log "cluster $ver/$cluster already running on port $port"
    fi
    socketdir=/var/run/postgresql
  else
    # Plain initdb + pg_ctl, as the postgres user, data in RLXF_PG_DATA.
    local data=${RLXF_PG_DATA:-/tmp/rlxf-pg}
    port=${RLXF_PG_PORT:-5432}
    socketdir=$data/socket
    if ! id postgres >/dev/null 2>&1; then
      if [ "$(id -u)" = "0" ]; then
        useradd --system --home-dir "$data" --shell /bin/sh postgres || { _rlxf_pg_err "could not create OS user postgres"; return 1; }
      else
        _rlxf_pg_err "OS user 'postgres' does not exist"
        return 1
      fi
    fi
    if [ ! -s "$data/PG_VERSION" ]; then
      _rlxf_pg_log "initdb in $data"
      mkdir -p "$data" && chown postgres "$data" && chmod 700 "$data" || { _rlxf_pg_err "cannot prepare $data"; return 1; }
      if ! _rlxf_pg_as_postgres "$bindir/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >&2; then
        _rlxf_pg_err "initdb failed"
        return 1
      fi
    fi
    _rlxf_pg_as_postgres mkdir -p "$socketdir"
    if _rlxf_pg_as_postgres "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      _rlxf_pg_log "server in $data already running"
    else
      _rlxf_pg_log "starting server in $data on 127.0.0.1:$port"
      if ! _rlxf_pg_as_postgres "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $socketdir" start >&2; then
        _rlxf_pg_err "pg_ctl start failed; last log lines:"
        tail -n 20 "$data/server.log" >&2 2>/dev/null
        return 1
      fi
    fi
  fi

  if ! _rlxf_pg_wait "$bindir" "$port" 60; then
    _rlxf_pg_err "server on 127.0.0.1:$port did not become ready within 60 s"
    return 1
  fi

  # Create/refresh the test role (idempotent); CREATEDB lets tests make throwaway databases.
  local sql="DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$user') THEN
      CREATE ROLE $user LOGIN CREATEDB PASSWORD '$pass';
    ELSE
      ALTER ROLE $user LOGIN CREATEDB PASSWORD '$pass';
    END IF;
  END \$\$;"
  if ! _rlxf_pg_as_postgres "$bindir/psql" -h "$socketdir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q -c "$sql" >&2; then
    _rlxf_pg_err "could not create role '$user' (psql as postgres over $socketdir failed)"
    return 1
  fi

  local url="postgres://$user:$pass@127.0.0.1:$port/postgres"
  if ! PGPASSWORD="$pass" "$bindir/psql" -h 127.0.0.1 -p "$port" -U "$user" -d postgres -tAq -c "select 1" >/dev/null; then
    _rlxf_pg_err "cannot log in as '$user' over TCP at 127.0.0.1:$port (check pg_hba.conf)"
    return 1
  fi
  export RLXF_TEST_DATABASE_URL="$url"
  export RLXF_PG_MANAGED=1
  _rlxf_pg_log "ready: RLXF_TEST_DATABASE_URL=$url"
}

_rlxf_pg_check_external() {
  local bindir
  bindir=$(_rlxf_pg_bindir)
  if [ -n "$bindir" ] && [ -x "$bindir/psql" ]; then
    if ! "$bindir/psql" "$RLXF_TEST_DATABASE_URL" -tAq -c "select 1" >/dev/null; then
      _rlxf_pg_err "RLXF_TEST_DATABASE_URL is set but the server does not answer"
      return 1
    fi
  fi
  _rlxf_pg_log "using the given RLXF_TEST_DATABASE_URL"
}

_rlxf_pg_rc=0
if [ -n "${RLXF_TEST_DATABASE_URL:-}" ] && [ -z "${RLXF_PG_MANAGED:-}" ]; then
  _rlxf_pg_check_external || _rlxf_pg_rc=$?
else
  _rlxf_pg_main || _rlxf_pg_rc=$?
fi

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Executed, not sourced: show how to use the result.
  [ "$_rlxf_pg_rc" = 0 ] && echo "export RLXF_TEST_DATABASE_URL='$RLXF_TEST_DATABASE_URL'"
  exit "$_rlxf_pg_rc"
fi
if [ "$_rlxf_pg_rc" != 0 ]; then
  _rlxf_pg_err "PostgreSQL setup failed; RLXF_TEST_DATABASE_URL is not set by this script"
  unset _rlxf_pg_rc
  return 1
fi
unset _rlxf_pg_rc
