#!/usr/bin/env bash
# park_check.sh - park_check throughput of parklinkd against its two reference points, in one run.
#
# nginx answering a fixed reply (the ceiling), the Node.js peer doing the same decision, and
# parklinkd (Release build, --threads 1) answering for real with 100k blacklisted plates, all
# measured with the same wrk settings one after another; then parklinkd again with 1M plates.
# Beside them, bench/h2o_fixed.c: h2o itself answering nginx's fixed reply, the floor for
# anything built on h2o (DESIGN decision 1), so the distance from it is parklinkd's own work.
# Every run sends the many-plate mix of ../shared/bench (park_check_mix.py + .lua): BODIES
# signed requests, half of them blacklisted plates spread over 京A00000..京A99999, half on no
# list, so a lookup is not one cache-hot miss. A run fails the script (exit 1) when wrk saw
# non-2xx replies or socket errors, or when its REFUSED/ADMITTED line does not account for
# every request with about half refused (parklinkd, node) or none (the fixed replies).
# Prints req/s, p99 and the ratios (targets: >= 0.9x nginx, >= 2.5x node, p99 <= 1 ms; 1M within
# 5% of 100k; RSS < 200 MB). The 1M rounds run beside nginx as the 100k rounds do, and 1M/100k
# is the ratio of their parklinkd/nginx medians (the machine's load drifts between the two
# halves). Needs nginx, node, wrk, python3, cc.
#   BENCH_DIR  the reference folder (nginx.conf, park_check.lua, park_check_mix.*, peer-node/);
#              default ../shared/bench next to the repository
#   BUILD_DIR  Release build folder (default build-release; configured and built if missing)
#   DURATION   wrk duration per run (default 10s); CONNECTIONS (default 64)
#   ROUNDS     repeat the nginx/h2o/parklinkd/node rounds (100k) and the nginx/parklinkd
#              rounds (1M) N times each (default 5); each round's ratios are taken side by
#              side and the summary gives their median, which damps transient load from other
#              work on the machine
#   BODIES     signed requests in the mix (default 100000)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/../shared/bench}
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-release}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-5}
BODIES=${BODIES:-100000}
NGINX_PORT=18080
NODE_PORT=18081
H2O_PORT=18083
PLK_PORT=${PLK_PORT:-18082}
TOKEN=bench-admin-token
LUA=$BENCH_DIR/park_check_mix.lua

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
echo "writing $BODIES signed park_check bodies (half blacklisted plates, half on no list)"
python3 "$BENCH_DIR/park_check_mix.py" "$TMP/bodies.txt" "$BODIES" 50
export BODIES_FILE=$TMP/bodies.txt

# run NAME URL decide|fixed -> sets RPS and P99 (ms); exits on a run that is not a figure
run() {
    local out=$TMP/wrk-${1//[^a-z0-9]/_}.txt
    "${WRK_CPU[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$LUA" "$2" >"$out"
    bench_wrk_ok "$1" "$out"
    bench_mix_ok "$1" "$out" "$3"
    RPS=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    P99=$(awk '$1 == "99%" {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; printf "%.3f", v }' "$out")
    printf "  %-26s %12.0f req/s   p99 %7s ms   %s\n" "$1" "$RPS" "$P99" "$(grep '^REFUSED' "$out")"
}

ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
median() {
    python3 -c 'import statistics as s, sys
print(round(s.median(map(float, sys.argv[1:])), 3))' "$@"
}

NGINX_URL="http://127.0.0.1:$NGINX_PORT/"
NODE_URL="http://127.0.0.1:$NODE_PORT/"
H2O_URL="http://127.0.0.1:$H2O_PORT/unionapi/neworder/uploadData"
PLK_URL="http://127.0.0.1:$PLK_PORT/unionapi/neworder/uploadData"
for url in "$NGINX_URL" "$NODE_URL" "$H2O_URL" "$PLK_URL"; do
    bench_check_reply "$url" # the same decision before they are compared
done

echo "wrk -t1 -c$CONNECTIONS -d$DURATION --latency -s park_check_mix.lua ($BODIES bodies; load on" \
     "the machine from other work may skew absolute figures; ratios are taken side by side)"
R_NGINX=() R_NODE=() R_H2O=() R_PLK=() R_P99=() R_NGINX_P99=() R_H2O_P99=()
for round in $(seq 1 "$ROUNDS"); do
    # nginx, h2o and parklinkd back to back: the machine's load drifts over tens of seconds
    run "nginx (fixed reply)" "$NGINX_URL" fixed
    NGINX_RPS=$RPS
    R_NGINX_P99+=("$P99")
    run "h2o (fixed reply)" "$H2O_URL" fixed
    H2O_RPS=$RPS
    R_H2O_P99+=("$P99")
    run "parklinkd, 100k plates" "$PLK_URL" decide
    PLK_ROUND_RPS=$RPS PLK_ROUND_P99=$P99
    run "node peer" "$NODE_URL" decide
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
bench_check_reply "$PLK_URL"
R_PLK1M=() R_P991M=() R_NGINX1M=()
for round in $(seq 1 "$ROUNDS"); do
    run "nginx (fixed reply)" "$NGINX_URL" fixed
    NGINX_RPS=$RPS
    run "parklinkd, 1M plates" "$PLK_URL" decide
    R_PLK1M+=("$RPS") R_P991M+=("$P99")
    R_NGINX1M+=("$(ratio "$RPS" "$NGINX_RPS")")
    echo "  round $round: parklinkd (1M)/nginx ${R_NGINX1M[-1]}"
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
echo "1M / 100k throughput   $(ratio "$(median "${R_NGINX1M[@]}")" "$(median "${R_NGINX[@]}")")" \
     "  (of their parklinkd/nginx medians; target >= 0.95; req/s medians $PLK1M_RPS vs $PLK_RPS)"
echo "parklinkd RSS          $((RSS_100K / 1024)) MB (100k)  $((RSS_1M / 1024)) MB (1M)" \
     "  (target < 200 MB)"
