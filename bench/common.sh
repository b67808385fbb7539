# common.sh - what the bench scripts share; sourced, never run. Expects ROOT and BUILD_DIR.
#
#   bench_need TOOL...       exit with a clear message unless every tool is on PATH
#   bench_build TARGET...    configure BUILD_DIR as a Release build if needed, build targets
#   bench_h2o_fixed          compile bench/h2o_fixed.c to $TMP/h2o_fixed (after bench_tmp)
#   bench_tmp NAME           TMP=/tmp/plk-NAME.XXXXXX and PIDS=(); on exit the processes in
#                            PIDS are stopped and TMP removed (kept when KEEP_TMP is set)
#   wait_port PORT [PATH]    wait until http://127.0.0.1:PORT/PATH answers (10 s at most)
#   bench_check_reply URL [BODY]  POST park_check.lua's request to URL; exit unless the answer
#                            is HTTP 200 and admits the plate (state 1, status "1"), or is
#                            exactly BODY when given (the fixed replies of nginx and h2o_fixed)
#   bench_wrk_ok NAME FILE   exit unless wrk's output in FILE counted requests and shows no
#                            non-2xx/3xx replies and no socket errors (a run that measured
#                            errors is not a figure)
#   bench_mix_ok NAME FILE decide|fixed   exit unless park_check_mix.lua's REFUSED/ADMITTED
#                            line in FILE accounts for every request, and the refused share is
#                            about half (decide: 40..60 %) or nil (fixed: a fixed reply)
BENCH_NAME=$(basename "$0")

# The request of ../shared/bench/park_check.lua: vendor 200002, park 20003, plate 京HP00G6,
# which is on no list.
PARK_CHECK_BODY='{"union_id":200002,"sign":"A72EA179B90F93A03B5C26C2D013E606","data":{"union_id":200002,"park_id":"20003","service_name":"park_check","car_number":"京HP00G6","license_color":0}}'

bench_need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "$BENCH_NAME: $tool is needed" >&2; exit 1; }
    done
}

bench_build() {
    if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
        cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
    fi
    cmake --build "$BUILD_DIR" -j2 --target "$@" >/dev/null
}

bench_h2o_fixed() {
    # shellcheck disable=SC2046 # pkg-config prints several words on purpose
    cc -O2 -DH2O_USE_LIBUV=0 -o "$TMP/h2o_fixed" "$ROOT/bench/h2o_fixed.c" \
        $(pkg-config --cflags --libs libh2o-evloop)
}

bench_cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}

bench_tmp() {
    TMP=$(mktemp -d "/tmp/plk-$1.XXXXXX")
    PIDS=()
    trap bench_cleanup EXIT
}

wait_port() {
    for _ in $(seq 1 200); do
        curl -s -o /dev/null "http://127.0.0.1:$1/${2:-}" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "$BENCH_NAME: nothing answers on port $1" >&2
    exit 1
}

bench_check_reply() {
    local out code body
    out=$(curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data-binary "$PARK_CHECK_BODY" "$1") || true
    code=${out##*$'\n'} body=${out%$'\n'*}
    if [ "$code" != 200 ]; then
        echo "$BENCH_NAME: $1 answered HTTP $code: $body" >&2
        exit 1
    fi
    if [ $# -ge 2 ]; then
        [ "$body" = "$2" ] && return 0
        echo "$BENCH_NAME: $1 answered $body, not $2" >&2
        exit 1
    fi
    case "$body" in
    *'"state":1'*'"status":"1"'*) ;;
    *) echo "$BENCH_NAME: unexpected park_check reply from $1: $body" >&2; exit 1 ;;
    esac
}

bench_wrk_ok() {
    local requests
    requests=$(awk '/ requests in / {print $1}' "$2")
    if [ -z "$requests" ] || [ "$requests" -eq 0 ] ||
        grep -qE 'Non-2xx or 3xx responses|Socket errors' "$2"; then
        echo "$BENCH_NAME: $1: wrk saw no requests, error replies or socket errors:" >&2
        cat "$2" >&2
        exit 1
    fi
}

bench_mix_ok() {
    local requests refused admitted
    requests=$(awk '/ requests in / {print $1}' "$2")
    read -r refused admitted < <(awk '/^REFUSED / {print $2, $4}' "$2") || true
    if [ -z "${refused:-}" ] || [ $((refused + admitted)) -ne "$requests" ]; then
        echo "$BENCH_NAME: $1: ${refused:-?} refused + ${admitted:-?} admitted is not the" \
             "$requests requests: some replies were no decision" >&2
        cat "$2" >&2
        exit 1
    fi
    case $3 in
    decide) [ $((refused * 100)) -ge $((requests * 40)) ] &&
                [ $((refused * 100)) -le $((requests * 60)) ] && return 0 ;;
    fixed) [ "$refused" -eq 0 ] && return 0 ;;
    esac
    if [ "$3" = decide ]; then
        echo "$BENCH_NAME: $1: refused $refused of $requests, not about half: the server did" \
             "not do the lookups the figure claims" >&2
    else
        echo "$BENCH_NAME: $1: refused $refused of $requests: not the fixed reply" >&2
    fi
    exit 1
}
