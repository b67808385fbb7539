#!/usr/bin/env bash
# uploads.sh - durable 3.1 entry uploads per second through parklinkd's group commit, in one run
# with its two reference points.
#
#   1. the anchor: bench/sqlite_batch.c inserts the same rows straight into SQLite, 64-row
#      transactions, WAL + synchronous=FULL, the server's schema (no HTTP, JSON, signing);
#   2. parklinkd (Release build, SQLite, synchronous=FULL): wrk, 64 connections, every request a
#      new order_id, signed beforehand (wrk's Lua has no MD5: bench/uploads.lua cycles through a
#      file of signed bodies); only replies 上传成功 count as acknowledged uploads;
#   3. park_check (10.4) alone, then park_check and uploads at once (two wrk).
# Prints uploads/s, p99, the ratio to the anchor, park_check alone vs under upload load
# (targets: >= 15000 uploads/s, p99 <= 10 ms). A wrk run with non-2xx replies or socket
# errors, or an upload answered neither 上传成功 nor 订单已存在 (FAILED in uploads.lua's
# count), fails the script (exit 1). Needs wrk, python3, curl, a C compiler.
#   BENCH_DIR    reference folder holding park_check.lua (default ../shared/bench)
#   BUILD_DIR    Release build folder (default build-release; configured and built if missing)
#   DURATION     seconds per wrk run (default 10); CONNECTIONS (default 64)
#   THREADS      parklinkd worker threads (default 2); BODIES signed bodies per run (400000)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/../shared/bench}
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-release}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
LIGHT_CONNECTIONS=${LIGHT_CONNECTIONS:-4}   # upload connections of the moderate-load phase
THREADS=${THREADS:-2}
BODIES=${BODIES:-400000}
PLK_PORT=${PLK_PORT:-18083}
TOKEN=bench-admin-token
URL=http://127.0.0.1:$PLK_PORT

. "$ROOT/bench/common.sh"
bench_need wrk python3 curl cc
bench_build parklinkd
PARKLINKD=$BUILD_DIR/server/parklinkd
bench_tmp uploads

# --- the anchor ------------------------------------------------------------------------------
cc -O2 -I"$ROOT/server" -o "$TMP/sqlite_batch" "$ROOT/bench/sqlite_batch.c" \
    "$ROOT/server/store/migrations.c" -lsqlite3
ANCHOR=$("$TMP/sqlite_batch" "$TMP/anchor.db" 200000 64)
ANCHOR_RPS=$(echo "$ANCHOR" | awk '{print $NF}')
echo "anchor: plain SQLite, 64-row transactions, synchronous=FULL: $ANCHOR_RPS rows/s"

# --- parklinkd, seeded: vendor 200002 and its park 20003 (the ids of park_check.lua) ----------
"$PARKLINKD" --listen "127.0.0.1:$PLK_PORT" --store "$TMP/bench.db" --threads "$THREADS" \
    --admin-token "$TOKEN" --log-level info 2>"$TMP/parklinkd.log" &
PLK_PID=$!
PIDS+=($PLK_PID)
wait_port "$PLK_PORT" healthz
python3 "$ROOT/bench/seed_plates.py" "$PLK_PORT" "$TOKEN" base

# Signed 3.1 bodies: order ids PREFIX0000000.., cars from a pool of 100k plates (cars come back:
# the stale-stay closure runs as in real traffic).
make_bodies() { # PREFIX FILE
    python3 - "$1" "$2" "$BODIES" <<'PY'
import hashlib, json, sys, time
prefix, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
now = int(time.time()) - 60
with open(path, "w", encoding="utf-8") as f:
    for i in range(n):
        data = json.dumps({"car_number": "京B%05d" % (i % 100000), "in_time": now + i // 1000,
                           "order_id": "%s%07d" % (prefix, i), "empty_plot": 100,
                           "park_id": "20003", "union_id": 200002},
                          ensure_ascii=False, separators=(",", ":"))
        sign = hashlib.md5((data + "key=EA2D90FEEF1E9F8E").encode()).hexdigest().upper()
        f.write('{"union_id":200002,"sign":"%s","data":%s}\n' % (sign, data))
PY
}
make_bodies a "$TMP/bodies-a.txt"
make_bodies b "$TMP/bodies-b.txt"
reply=$(curl -s -X POST --data-binary "$(head -1 "$TMP/bodies-a.txt")" \
    "$URL/unionapi/neworder/addorder")
case "$reply" in *'"state":1'*) ;; *) echo "uploads.sh: unexpected reply $reply" >&2; exit 1 ;; esac

# uploads WRK_THREADS BODIES_FILE OUT -> ACKED/s and p99 in the globals UPS, UP99
uploads() {
    WRK_THREADS=$1 BODIES_FILE=$2 wrk -t"$1" -c"${4:-$CONNECTIONS}" -d"${DURATION}s" \
        -s "$ROOT/bench/uploads.lua" "$URL/unionapi/neworder/addorder" >"$3"
}
parse_uploads() { # OUT
    bench_wrk_ok "uploads" "$1"
    if ! awk '/^ACKED/ {exit !($2 > 0 && $6 == 0)}' "$1"; then
        echo "uploads.sh: no upload acknowledged, or some failed:" >&2
        cat "$1" >&2
        exit 1
    fi
    UPS=$(awk '/^ACKED/ {printf "%.0f", $2 / $8}' "$1")
    UP99=$(awk '/^P50_MS/ {print $4}' "$1")
    UPFAIL=$(awk '/^ACKED/ {print "dup " $4 ", failed " $6}' "$1")
}
park_check() { # OUT
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH_DIR/park_check.lua" \
        "$URL/unionapi/neworder/uploadData" >"$1"
}
parse_check() { # OUT
    bench_wrk_ok "park_check" "$1"
    PCS=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$1")
    PC99=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; printf "%.3f", v }' "$1")
}

echo "wrk, $CONNECTIONS connections, ${DURATION}s per run, parklinkd --threads $THREADS" \
     "(2 cores shared by wrk and parklinkd; other load on the machine skews absolute figures)"
uploads 2 "$TMP/bodies-a.txt" "$TMP/up-alone.txt"
parse_uploads "$TMP/up-alone.txt"
UPS_ALONE=$UPS UP99_ALONE=$UP99
printf "  uploads alone           %8s acknowledged/s   p99 %7s ms   (%s)\n" "$UPS" "$UP99" "$UPFAIL"

bench_check_reply "$URL/unionapi/neworder/uploadData"
park_check "$TMP/pc-alone.txt"
parse_check "$TMP/pc-alone.txt"
PCS_ALONE=$PCS
printf "  park_check alone        %8s req/s            p99 %7s ms\n" "$PCS" "$PC99"

uploads 1 "$TMP/bodies-b.txt" "$TMP/up-both.txt" &
UP_WRK=$!
park_check "$TMP/pc-both.txt"
wait "$UP_WRK"
parse_check "$TMP/pc-both.txt"
parse_uploads "$TMP/up-both.txt"
printf "  park_check with uploads %8s req/s            p99 %7s ms\n" "$PCS" "$PC99"
printf "  uploads with park_check %8s acknowledged/s   p99 %7s ms   (%s)\n" "$UPS" "$UP99" \
    "$UPFAIL"
PCS_BOTH=$PCS

# a moderate upload load (few connections: bounded by the group-commit round trip, not by
# CPU) beside park_check at full speed
make_bodies c "$TMP/bodies-c.txt"
uploads 1 "$TMP/bodies-c.txt" "$TMP/up-light.txt" "$LIGHT_CONNECTIONS" &
UP_WRK=$!
park_check "$TMP/pc-light.txt"
wait "$UP_WRK"
parse_check "$TMP/pc-light.txt"
parse_uploads "$TMP/up-light.txt"
PCS_LIGHT=$PCS
printf "  park_check with %d-conn uploads %8s req/s     p99 %7s ms\n" "$LIGHT_CONNECTIONS" \
    "$PCS" "$PC99"
printf "  those uploads           %8s acknowledged/s   p99 %7s ms   (%s)\n" "$UPS" "$UP99" \
    "$UPFAIL"
PCS=$PCS_BOTH

kill "$PLK_PID" # its last log line has the writer's totals
wait "$PLK_PID" 2>/dev/null || true
echo
echo "uploads/s                  $UPS_ALONE   (target >= 15000)"
echo "p99                        $UP99_ALONE ms   (target <= 10 ms)"
echo "ratio to the SQLite anchor $(python3 -c "print('%.2f' % ($UPS_ALONE / $ANCHOR_RPS))")" \
     "($ANCHOR_RPS rows/s)"
echo "park_check under uploads   $(python3 -c "print('%.2f' % ($PCS / $PCS_ALONE))") of alone" \
     "($PCS vs $PCS_ALONE req/s)"
echo "park_check under ${LIGHT_CONNECTIONS}-conn uploads $(python3 -c "print('%.2f' % ($PCS_LIGHT / $PCS_ALONE))") of alone" \
     "($PCS_LIGHT vs $PCS_ALONE req/s)"
grep -h "writer:" "$TMP/parklinkd.log" | tail -1 || true
