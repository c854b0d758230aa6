#!/usr/bin/env bash
# A throw-away PostgreSQL 15 with PostGIS for the `near` comparison in
# bench/registry_near.py: its data lives in .data/postgis-bench/, it listens on a free
# port of 127.0.0.1 only (trust authentication: nothing else can reach it), and the
# last line printed on stdout is its URL, for CW_BENCH_POSTGIS_URL:
#
#   export CW_BENCH_POSTGIS_URL=$(bash scripts/postgis-bench-server.sh)
#   bash scripts/postgis-bench-server.sh stop     # stops it (the data stays; rm -rf to drop)
#
# The Debian packages (postgresql-15, postgresql-15-postgis-3) are installed as root by
# scripts/system-packages.sh; without root it names what is missing and exits 1.
# Started again while running, it only prints the URL.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/.data/postgis-bench"
CLUSTER="$DATA/cluster"
BIN=/usr/lib/postgresql/15/bin

# As root the cluster runs as the `postgres` account the Debian package creates
# (PostgreSQL refuses to run as root); otherwise as the caller.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-}" = "stop" ]; then
    if [ -f "$CLUSTER/postmaster.pid" ]; then
        as_owner "$BIN/pg_ctl" -D "$CLUSTER" -m fast stop >&2
    fi
    exit 0
fi

bash "$ROOT/scripts/system-packages.sh" postgresql-15 postgresql-15-postgis-3 >&2

url() { echo "postgresql://postgres@127.0.0.1:$(cat "$DATA/port")/postgres"; }

if [ -f "$CLUSTER/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$CLUSTER" status >/dev/null 2>&1; then
    url
    exit 0
fi

mkdir -p "$DATA"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$DATA"; fi
if [ ! -f "$CLUSTER/PG_VERSION" ]; then
    as_owner "$BIN/initdb" -D "$CLUSTER" -U postgres --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 >"$DATA/initdb.log" 2>&1 || {
        cat "$DATA/initdb.log" >&2
        exit 1
    }
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "$port" >"$DATA/port"
as_owner "$BIN/pg_ctl" -D "$CLUSTER" -l "$DATA/server.log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $CLUSTER" start >&2
echo "PostgreSQL 15 with PostGIS on 127.0.0.1:$port (data in $CLUSTER)" >&2
url
