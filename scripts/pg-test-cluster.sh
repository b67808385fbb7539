#!/usr/bin/env bash
# pg-test-cluster.sh - a throwaway PostgreSQL cluster for the tests (scripts/test.sh).
#   start        initdb into a new temp dir (as user postgres when run as root: initdb
#                refuses root), start it on a free port with its unix socket in that dir,
#                fsync and synchronous_commit on; prints "DIR URI" on stdout. The URI is a base
#                where tests may CREATE DATABASE (superuser plk, trust auth, local only).
#   stop DIR     pg_ctl stop -m fast, then remove DIR.
#   restart DIR  pg_ctl restart -m fast (tests of reconnection).
# PG_BIN overrides the server binaries' directory (default: the newest /usr/lib/postgresql/*).
set -euo pipefail
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PG_BIN/initdb" ] || { echo "pg-test-cluster: no initdb in '$PG_BIN' (apt-get install postgresql)" >&2; exit 1; }

as_owner() { # run a server binary as the cluster's owner
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "${1:-}" in
start)
  dir=$(mktemp -d /tmp/plk-pg-XXXXXX)
  chmod 0755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  as_owner "$PG_BIN/initdb" -D "$dir/data" -U plk --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
  for try in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c max_connections=200" \
        start >/dev/null 2>&1; then
      echo "$dir postgresql://plk@/postgres?host=$dir&port=$port"
      exit 0
    fi
  done
  cat "$dir/server.log" >&2
  rm -rf "$dir"
  exit 1
  ;;
stop)
  dir=${2:?usage: pg-test-cluster.sh stop DIR}
  case "$dir" in /tmp/plk-pg-*) ;; *) echo "pg-test-cluster: refusing to remove '$dir'" >&2; exit 1 ;; esac
  as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
restart)
  dir=${2:?usage: pg-test-cluster.sh restart DIR}
  as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w restart >/dev/null
  ;;
*)
  echo "usage: pg-test-cluster.sh start | stop DIR | restart DIR" >&2
  exit 2
  ;;
esac
