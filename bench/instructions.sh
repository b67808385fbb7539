#!/usr/bin/env bash
# instructions.sh - user-space instructions per park_check request, parklinkd against nginx's
# fixed reply, counted by callgrind: a figure this machine's slow and fast phases cannot move.
#
# park_check.sh's req/s swing with whatever else shares the host; what a code change saved is
# read better here. Both servers run under valgrind --tool=callgrind with instrumentation off,
# are warmed up, then counted over one wrk run (16 connections); the kernel's share (TCP over
# loopback, the same for both) is not counted. bench/h2o_fixed.c (h2o itself answering the
# fixed reply) is counted too: what parklinkd spends above it is its own work. Prints
# instructions per request for each, the differences, and parklinkd's heaviest functions
# (inclusive) when TOP=N is set. Before counting, each server must answer park_check.lua's
# request with the real reply (nginx and h2o: exactly FIXED_REPLY, nginx.conf's body;
# parklinkd: HTTP 200, state 1, the plate admitted); a wrk run with non-2xx replies or socket
# errors fails the script (exit 1). Needs valgrind, nginx, wrk, python3, curl, cc.
#   BENCH_DIR  the reference folder (nginx.conf, park_check.lua); default ../shared/bench
#   BUILD_DIR  Release build folder (default build-release; configured and built if missing)
#   DURATION   counted wrk seconds (default 4)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/../shared/bench}
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-release}
DURATION=${DURATION:-4}
TOP=${TOP:-0}
NGINX_PORT=18085
H2O_PORT=18087
PLK_PORT=18086
TOKEN=bench-admin-token
LUA=$BENCH_DIR/park_check.lua
FIXED_REPLY='{"state":1,"errmsg":"ok","data":{"status":"1","reason":"0","reason_msg":"","share_status":"0"}}'

. "$ROOT/bench/common.sh"
bench_need valgrind callgrind_control callgrind_annotate nginx wrk python3 curl cc pkg-config
bench_build parklinkd
bench_tmp instr
bench_h2o_fixed

# count NAME PID URL [BODY] -> INSTR (per request), leaves the dump in $TMP/NAME.out*; the
# server must first answer the real reply (exactly BODY when given, see bench_check_reply)
count() {
    local name=$1 pid=$2 url=$3 requests total
    bench_check_reply "$url" "${@:4}"
    wrk -t1 -c16 -d1s -s "$LUA" "$url" >"$TMP/warm-$name.txt" # warm-up, not counted
    bench_wrk_ok "$name (warm-up)" "$TMP/warm-$name.txt"
    callgrind_control -i on "$pid" >/dev/null 2>&1
    wrk -t1 -c16 -d"${DURATION}s" -s "$LUA" "$url" >"$TMP/wrk-$name.txt"
    callgrind_control -i off "$pid" >/dev/null 2>&1
    bench_wrk_ok "$name" "$TMP/wrk-$name.txt"
    callgrind_control -d "$pid" >/dev/null 2>&1
    requests=$(awk '/requests in/ {print $1}' "$TMP/wrk-$name.txt")
    total=$(callgrind_annotate "$(ls "$TMP/$name".out.* | tail -1)" 2>/dev/null |
        awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    INSTR=$((total / requests))
    printf "  %-22s %8d instructions per request (%d requests counted)\n" "$name" "$INSTR" \
        "$requests"
}

# under_callgrind NAME PORT CMD... -> PID: CMD started with instrumentation off, answering on
# PORT (its stderr and valgrind's in $TMP/NAME-vg.log)
under_callgrind() {
    local name=$1 port=$2
    shift 2
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$TMP/$name.out" \
        "$@" 2>"$TMP/$name-vg.log" &
    PID=$!
    PIDS+=($PID)
    wait_port "$port"
}

echo "user-space instructions per park_check request (callgrind; kernel not counted)"

# --- nginx: the fixed reply, on its own port and pid file ------------------------------------
sed -e "s/127.0.0.1:18080/127.0.0.1:$NGINX_PORT/" -e "s#/tmp/bench-nginx.pid#$TMP/nginx.pid#" \
    -e "s#/tmp/bench-nginx.err#$TMP/nginx.err#" "$BENCH_DIR/nginx.conf" >"$TMP/nginx.conf"
under_callgrind nginx $NGINX_PORT nginx -g "master_process off;" -c "$TMP/nginx.conf"
count nginx $PID "http://127.0.0.1:$NGINX_PORT/" "$FIXED_REPLY"
NGINX_INSTR=$INSTR

# --- h2o answering the same fixed reply ------------------------------------------------------
under_callgrind h2o $H2O_PORT "$TMP/h2o_fixed" $H2O_PORT
count h2o $PID "http://127.0.0.1:$H2O_PORT/unionapi/neworder/uploadData" "$FIXED_REPLY"
H2O_INSTR=$INSTR

# --- parklinkd: one worker, 100k blacklisted plates ------------------------------------------
under_callgrind parklinkd $PLK_PORT "$BUILD_DIR/server/parklinkd" --listen "127.0.0.1:$PLK_PORT" \
    --store "$TMP/bench.db" --threads 1 --admin-token "$TOKEN" --log-level warn
python3 "$ROOT/bench/seed_plates.py" "$PLK_PORT" "$TOKEN" base 京A >/dev/null
count parklinkd $PID "http://127.0.0.1:$PLK_PORT/unionapi/neworder/uploadData"

echo
printf "parklinkd - nginx          %8d instructions per request\n" $((INSTR - NGINX_INSTR))
printf "parklinkd - h2o            %8d instructions per request (parklinkd's own work)\n" \
    $((INSTR - H2O_INSTR))
printf "parklinkd / nginx          %8s\n" "$(python3 -c "print('%.2f' % ($INSTR / $NGINX_INSTR))")"
if [ "$TOP" -gt 0 ]; then
    echo
    echo "parklinkd's heaviest functions, inclusive, per request:"
    requests=$(awk '/requests in/ {print $1}' "$TMP/wrk-parklinkd.txt")
    callgrind_annotate --inclusive=yes "$(ls "$TMP"/parklinkd.out.* | tail -1)" 2>/dev/null |
        sed -n '/file:function/,$p' | sed 1,2d | head -"$TOP" |
        awk -v n="$requests" '{x = $1; gsub(",", "", x); if (x + 0 > 0) {
            name = $0; sub(/^ *[0-9,]+ +\([ 0-9.%]+\) +/, "", name);
            printf "  %8.0f  %s\n", x / n, name } }'
fi
