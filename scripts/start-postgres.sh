#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests and prints the `export` lines to use it.
# Usage: eval "$(scripts/start-postgres.sh)"
set -euo pipefail
port="${CODE_TEST_POSTGRES_PORT:-54329}"
base="${CODE_TEST_POSTGRES_DIR:-/tmp/code-engine-ci-postgres}"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -n "$bindir" ] || { echo "PostgreSQL server binaries not found" >&2; exit 1; }
run_as=()
if [ "$(id -u)" -eq 0 ]; then run_as=(runuser -u postgres --); fi
if ! "$bindir/pg_isready" -h 127.0.0.1 -p "$port" -q; then
  rm -rf "$base"
  mkdir -p "$base"
  [ "$(id -u)" -eq 0 ] && chown postgres "$base"
  "${run_as[@]}" "$bindir/initdb" -D "$base/data" -U postgres --auth=trust -E UTF8 >"$base/initdb.log" 2>&1
  "${run_as[@]}" "$bindir/pg_ctl" -D "$base/data" -l "$base/server.log" -w \
    -o "-p $port -k $base -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
fi
"$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1" >/dev/null
echo "export CODE_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
