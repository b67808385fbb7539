#!/usr/bin/env bash
# wal_growth.sh - the size of parklinkd's SQLite WAL under sustained 3.1 uploads, and after.
#
# Runs parklinkd (Release build) on a fresh database, sends signed 3.1 entries with wrk (every
# request a new order_id, as bench/uploads.sh), prints the sizes of the database and its -wal
# every SAMPLE seconds, then again after IDLE seconds without load; the first samples
# fall in the seconds wrk spends reading the bodies (docs/server.md, "The WAL").
#   BUILD_DIR  Release build folder (default build-release; configured and built if missing)
#   DURATION   seconds of load (default 30); CONNECTIONS (default 16); IDLE (default 5)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-release}
DURATION=${DURATION:-30}
CONNECTIONS=${CONNECTIONS:-16}
IDLE=${IDLE:-5}
SAMPLE=${SAMPLE:-5}
PLK_PORT=${PLK_PORT:-18093}
TOKEN=bench-admin-token
URL=http://127.0.0.1:$PLK_PORT

. "$ROOT/bench/common.sh"
bench_need wrk python3 curl
bench_build parklinkd
bench_tmp wal

"$BUILD_DIR/server/parklinkd" --listen "127.0.0.1:$PLK_PORT" --store "$TMP/bench.db" \
    --threads 2 --admin-token "$TOKEN" 2>"$TMP/parklinkd.log" &
PIDS+=($!)
wait_port "$PLK_PORT" healthz
python3 "$ROOT/bench/seed_plates.py" "$PLK_PORT" "$TOKEN" base
python3 - "$TMP/bodies.txt" 600000 <<'PY'
import hashlib, json, sys, time
path, n = sys.argv[1], int(sys.argv[2])
now = int(time.time()) - 60
with open(path, "w", encoding="utf-8") as f:
    for i in range(n):
        data = json.dumps({"car_number": "京B%05d" % (i % 100000), "in_time": now + i // 1000,
                           "order_id": "w%07d" % i, "empty_plot": 100, "park_id": "20003",
                           "union_id": 200002}, ensure_ascii=False, separators=(",", ":"))
        sign = hashlib.md5((data + "key=EA2D90FEEF1E9F8E").encode()).hexdigest().upper()
        f.write('{"union_id":200002,"sign":"%s","data":%s}\n' % (sign, data))
PY
sizes() { # LABEL
    printf "  %-12s db %6.1f MB   wal %6.1f MB\n" "$1" \
        "$(stat -c %s "$TMP/bench.db" | awk '{print $1 / 1e6}')" \
        "$(stat -c %s "$TMP/bench.db-wal" 2>/dev/null | awk '{print $1 / 1e6}' || echo 0)"
}
WRK_THREADS=1 BODIES_FILE=$TMP/bodies.txt wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" \
    -s "$ROOT/bench/uploads.lua" "$URL/unionapi/neworder/addorder" >"$TMP/wrk.txt" &
WRK=$!
t=0 # wrk reads the bodies before it starts: sample until it has finished
while kill -0 "$WRK" 2>/dev/null; do
    sleep "$SAMPLE"
    t=$((t + SAMPLE))
    sizes "${t}s"
done
wait "$WRK"
awk '/^ACKED/ {printf "  acknowledged uploads: %d (%.0f/s)\n", $2, $2 / $8}' "$TMP/wrk.txt"
sleep "$IDLE"
sizes "${IDLE}s idle"
