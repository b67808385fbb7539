# common.sh - what the bench scripts share; sourced, never run. Expects ROOT and BUILD_DIR.
#
#   bench_need TOOL...       exit with a clear message unless every tool is on PATH
#   bench_build TARGET...    configure BUILD_DIR as a Release build if needed, build targets
#   bench_h2o_fixed          compile bench/h2o_fixed.c to $TMP/h2o_fixed (after bench_tmp)
#   bench_tmp NAME           TMP=/tmp/plk-NAME.XXXXXX and PIDS=(); on exit the processes in
#                            PIDS are stopped and TMP removed (kept when KEEP_TMP is set)
#   wait_port PORT [PATH]    wait until http://127.0.0.1:PORT/PATH answers (10 s at most)
BENCH_NAME=$(basename "$0")

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
