#!/usr/bin/env bash
# Run a command against a private PostgreSQL cluster on loopback, then stop it.
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] || { echo "PostgreSQL server not installed (apt install postgresql)" >&2; exit 1; }
PGPORT=${KEHU_TEST_PGPORT:-}
if [ -z "$PGPORT" ]; then  # the first free port from 55432 on
  for PGPORT in $(seq 55432 55532); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PGPORT") 2>/dev/null || break
  done
fi
PGROOT=$(mktemp -d /tmp/kehu-pg.XXXXXX)
chmod 755 "$PGROOT"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGROOT"; fi
as_pg "$PGBIN/initdb" -D "$PGROOT/data" -U postgres --auth-local=trust --auth-host=trust \
  -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGROOT -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
stop() { as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast stop >/dev/null || true; rm -rf "$PGROOT"; }
trap stop EXIT
as_pg psql -q -h "$PGROOT" -p "$PGPORT" -U postgres \
  -c "CREATE ROLE kehu LOGIN CREATEDB PASSWORD 'kehu'" -c "CREATE DATABASE kehu OWNER kehu"
export DATABASE_URL="postgres://kehu:kehu@127.0.0.1:$PGPORT/kehu"
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT"
"$@"
