#!/usr/bin/env bash
# park_check.sh - park_check throughput of parklinkd against its two reference points, in one run.
#
# nginx answering a fixed reply (the ceiling), the Node.js peer doing the same decision, and
# parklinkd (Release build, --threads 1) answering for real with 100k blacklisted plates, all
# measured with the same wrk settings one after another; then parklinkd again with 1M plates.
# Beside them, bench/h2o_fixed.c: h2o itself answering nginx's fixed reply, the floor for
# anything built on h2o (DESIGN decision 1), so the distance from it is parklinkd's own work.
# Prints req/s, p99 and the ratios (targets: >= 0.9x nginx, >= 2.5x node, p99 <= 1 ms; 1M within
# 5% of 100k; RSS < 200 MB). Needs nginx, node, wrk, python3, cc.
#   BENCH_DIR  the reference folder (nginx.conf, park_check.lua, peer-node/); default
#              ../shared/bench next to the repository
#   BUILD_DIR  Release build folder (default build-release; configured and built if missing)
#   DURATION   wrk duration per run (default 10s); CONNECTIONS (default 64)
#   ROUNDS     repeat the nginx/parklinkd/node trio N times (default 5); each round's ratios
#              are taken side by side and the summary gives their median, which damps
#              transient load from other work on the machine
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/../shared/bench}
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-release}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-5}
NGINX_PORT=18080
NODE_PORT=18081
H2O_PORT=18083
PLK_PORT=${PLK_PORT:-18082}
TOKEN=bench-admin-token
LUA=$BENCH_DIR/park_check.lua

. "$ROOT/bench/common.sh"
bench_need nginx node wrk python3 curl cc pkg-config
bench_build parklinkd
PARKLINKD=$BUILD_DIR/server/parklinkd
bench_tmp bench
bench_h2o_fixed

# Servers on CPU 1, wrk on CPU 0 (when there are two): each side gets a core of its own.
SRV_CPU=() WRK_CPU=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    SRV_CPU=(taskset -c 1) WRK_CPU=(taskset -c 0)
fi

# --- start the three servers ---------------------------------------------------------------
(cd "$BENCH_DIR" && exec "${SRV_CPU[@]}" nginx -c "$BENCH_DIR/nginx.conf") &
PIDS+=($!)
PORT=$NODE_PORT "${SRV_CPU[@]}" node "$BENCH_DIR/peer-node/server.js" &
PIDS+=($!)
"${SRV_CPU[@]}" "$TMP/h2o_fixed" $H2O_PORT &
PIDS+=($!)
"${SRV_CPU[@]}" "$PARKLINKD" --listen "127.0.0.1:$PLK_PORT" --store "$TMP/bench.db" --threads 1 \
    --admin-token "$TOKEN" --log-level warn 2>"$TMP/parklinkd.log" &
PLK_PID=$!
PIDS+=($PLK_PID)
wait_port $NGINX_PORT
wait_port $NODE_PORT
wait_port $H2O_PORT
wait_port $PLK_PORT

# --- seed parklinkd: the vendor and park of park_check.lua, then plates in bulk -------------
seed() { # prefixes as arguments: "base" (vendor and park), then 100k plates per prefix
    python3 "$ROOT/bench/seed_plates.py" "$PLK_PORT" "$TOKEN" "$@"
}
echo "seeding parklinkd (vendor 200002, park 20003, 100k plates 京A00000..京A99999)"
seed base 京A

# --- measure ---------------------------------------------------------------------------------
check_reply() { # the three must answer the same decision before they are compared
    local body
    body=$(curl -s -X POST -H 'Content-Type: application/json' --data-binary @- "$1" <<'JSON'
{"union_id":200002,"sign":"A72EA179B90F93A03B5C26C2D013E606","data":{"union_id":200002,"park_id":"20003","service_name":"park_check","car_number":"京HP00G6","license_color":0}}
JSON
)
    case "$body" in
    *'"state":1'*'"status":"1"'*) ;;
    *) echo "park_check.sh: unexpected reply from $1: $body" >&2; exit 1 ;;
    esac
}

# run NAME URL -> sets RPS and P99 (ms)
run() {
    local out
    out=$("${WRK_CPU[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$LUA" "$2")
    echo "$out" >"$TMP/wrk-$1.txt"
    RPS=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
    P99=$(echo "$out" | awk '$1 == "99%" {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; printf "%.3f", v }')
    local errors
    errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}')
    printf "  %-26s %12.0f req/s   p99 %7s ms   %s\n" "$1" "$RPS" "$P99" "$errors"
}

ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

for url in "http://127.0.0.1:$NGINX_PORT/" "http://127.0.0.1:$NODE_PORT/" \
           "http://127.0.0.1:$H2O_PORT/" "http://127.0.0.1:$PLK_PORT/unionapi/neworder/uploadData"; do
    check_reply "$url"
done

echo "wrk -t1 -c$CONNECTIONS -d$DURATION --latency -s park_check.lua (load on the machine from" \
     "other work may skew absolute figures; ratios are taken side by side)"
median() {
    python3 -c 'import statistics as s, sys
print(round(s.median(map(float, sys.argv[1:])), 3))' "$@"
}

NGINX_URL="http://127.0.0.1:$NGINX_PORT/"
NODE_URL="http://127.0.0.1:$NODE_PORT/"
H2O_URL="http://127.0.0.1:$H2O_PORT/unionapi/neworder/uploadData"
PLK_URL="http://127.0.0.1:$PLK_PORT/unionapi/neworder/uploadData"
R_NGINX=() R_NODE=() R_H2O=() R_PLK=() R_P99=() R_NGINX_P99=() R_H2O_P99=()
for round in $(seq 1 "$ROUNDS"); do
    # nginx, h2o and parklinkd back to back: the machine's load drifts over tens of seconds
    run "nginx (fixed reply)" "$NGINX_URL"
    NGINX_RPS=$RPS
    R_NGINX_P99+=("$P99")
    run "h2o (fixed reply)" "$H2O_URL"
    H2O_RPS=$RPS
    R_H2O_P99+=("$P99")
    run "parklinkd, 100k plates" "$PLK_URL"
    PLK_ROUND_RPS=$RPS PLK_ROUND_P99=$P99
    run "node peer" "$NODE_URL"
    NODE_RPS=$RPS
    R_NGINX+=("$(ratio "$PLK_ROUND_RPS" "$NGINX_RPS")")
    R_NODE+=("$(ratio "$PLK_ROUND_RPS" "$NODE_RPS")")
    R_H2O+=("$(ratio "$PLK_ROUND_RPS" "$H2O_RPS")")
    R_PLK+=("$PLK_ROUND_RPS") R_P99+=("$PLK_ROUND_P99")
    echo "  round $round: parklinkd/nginx ${R_NGINX[-1]}, parklinkd/h2o ${R_H2O[-1]}," \
         "parklinkd/node ${R_NODE[-1]}"
done
PLK_RPS=$(median "${R_PLK[@]}")
PLK_P99=$(median "${R_P99[@]}")
RSS_100K=$(awk '/^VmRSS/ {print $2}' /proc/$PLK_PID/status)

echo "loading 900k more plates (other prefixes) into parklinkd"
seed 京B 京C 京D 京E 京F 京G 京H 京J 京K
R_PLK1M=() R_P991M=()
for round in $(seq 1 "$ROUNDS"); do
    run "parklinkd, 1M plates" "$PLK_URL"
    R_PLK1M+=("$RPS") R_P991M+=("$P99")
done
PLK1M_RPS=$(median "${R_PLK1M[@]}")
PLK1M_P99=$(median "${R_P991M[@]}")
RSS_1M=$(awk '/^VmRSS/ {print $2}' /proc/$PLK_PID/status)

echo
echo "parklinkd / nginx      $(median "${R_NGINX[@]}")   (target >= 0.90)"
echo "parklinkd / node       $(median "${R_NODE[@]}")   (target >= 2.50)"
echo "parklinkd / h2o        $(median "${R_H2O[@]}")   (h2o's own fixed reply: the floor under parklinkd)"
echo "p99 parklinkd          $PLK_P99 ms (100k)  $PLK1M_P99 ms (1M)   (target <= 1 ms)"
echo "p99 of the anchors     nginx $(median "${R_NGINX_P99[@]}") ms, h2o $(median "${R_H2O_P99[@]}") ms" \
     "  (the same load; what the machine allows at this concurrency)"
echo "1M / 100k throughput   $(ratio "$PLK1M_RPS" "$PLK_RPS")   (target >= 0.95)"
echo "parklinkd RSS          $((RSS_100K / 1024)) MB (100k)  $((RSS_1M / 1024)) MB (1M)" \
     "  (target < 200 MB)"
